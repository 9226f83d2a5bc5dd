//! What `ccsqm-httpmock` adds to progenitor's httpmock generator: a doc comment on every
//! generated item (from the spec: each operation's summary, method and path, each header's
//! description), the answers of the statuses the client retries (429, 502, 503 and 504, with an
//! optional `Retry-After`) on every operation's `Then`, and a partial JSON body match on every
//! `When`. Applied to progenitor's token stream by [`crate::codegen`].

use anyhow::{anyhow, Context, Result};
use openapiv3::OpenAPI;
use syn::{ImplItem, Item, TraitItem};

use crate::facts::{all_operations, camel, snake, Op};

/// The statuses `ccsqm-client` retries (`is_retryable_status` in `crates/client/src/retry.rs`),
/// each with its answer's method and reason phrase. A test of `ccsqm-httpmock` checks that the
/// client retries each of them.
pub const RETRIED: &[(u16, &str, &str)] = &[
    (429, "too_many_requests", "Too Many Requests"),
    (502, "bad_gateway", "Bad Gateway"),
    (503, "service_unavailable", "Service Unavailable"),
    (504, "gateway_timeout", "Gateway Timeout"),
];

/// Documents and extends the generated mocks.
pub fn extend(
    tokens: proc_macro2::TokenStream,
    spec: &OpenAPI,
) -> Result<proc_macro2::TokenStream> {
    let ops = all_operations(spec)?;
    let mut file: syn::File =
        syn::parse2(tokens).context("progenitor emitted invalid Rust (httpmock)")?;
    for item in &mut file.items {
        match item {
            Item::Mod(module) => {
                let Some((_, items)) = &mut module.content else {
                    continue;
                };
                for item in items {
                    match item {
                        Item::Struct(s) => {
                            let (op, role) = operation_of(&ops, &s.ident.to_string())?;
                            doc(
                                &mut s.attrs,
                                &match role {
                                    Role::When => format!(
                                        "What a mock of `{}` ({} `{}`) matches: the method and \
                                         path, and what its methods add.",
                                        op.id, op.method, op.path
                                    ),
                                    Role::Then => format!("What a mock of `{}` answers.", op.id),
                                },
                            );
                        }
                        Item::Impl(block) => {
                            let syn::Type::Path(path) = &*block.self_ty else {
                                continue;
                            };
                            let name = path
                                .path
                                .segments
                                .last()
                                .map(|s| s.ident.to_string())
                                .unwrap_or_default();
                            let (op, role) = operation_of(&ops, &name)?;
                            match role {
                                Role::When => block.items.push(parse_fn(BODY_INCLUDES)?),
                                Role::Then => {
                                    for (status, method, reason) in RETRIED {
                                        block
                                            .items
                                            .push(parse_fn(&retried(*status, method, reason))?);
                                    }
                                }
                            }
                            for item in &mut block.items {
                                if let ImplItem::Fn(f) = item {
                                    if has_doc(&f.attrs) {
                                        continue;
                                    }
                                    let text = method_doc(op, role, f)?;
                                    doc(&mut f.attrs, &text);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            Item::Trait(t) => {
                for item in &mut t.items {
                    if let TraitItem::Fn(f) = item {
                        let name = f.sig.ident.to_string();
                        let op = ops
                            .iter()
                            .find(|op| snake(&op.id) == name)
                            .ok_or_else(|| anyhow!("MockServerExt::{name}: no such operation"))?;
                        doc(
                            &mut f.attrs,
                            &format!(
                                "Mocks `{}` ({} `{}`): {}. `config_fn` says what the mock \
                                 matches (`when`: the method and path are set) and answers \
                                 (`then`).",
                                op.id,
                                op.method,
                                op.path,
                                op.summary.trim_end_matches('.')
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    Ok(quote_file(&file))
}

#[derive(Clone, Copy)]
enum Role {
    When,
    Then,
}

fn operation_of<'a>(ops: &'a [Op], name: &str) -> Result<(&'a Op, Role)> {
    let (stem, role) = match (name.strip_suffix("When"), name.strip_suffix("Then")) {
        (Some(stem), _) => (stem, Role::When),
        (_, Some(stem)) => (stem, Role::Then),
        _ => return Err(anyhow!("httpmock: {name} is neither a When nor a Then")),
    };
    let op = ops
        .iter()
        .find(|op| camel(&op.id) == stem)
        .ok_or_else(|| anyhow!("httpmock: {name}: no such operation"))?;
    Ok((op, role))
}

fn method_doc(op: &Op, role: Role, f: &syn::ImplItemFn) -> Result<String> {
    let name = f.sig.ident.to_string();
    let block = {
        let b = &f.block;
        quote_tokens(b)
    };
    Ok(match (role, name.as_str()) {
        (Role::When, "new") => format!(
            "Matches `{}`'s method and path ({} `{}`) on a plain `httpmock::When`.",
            op.id, op.method, op.path
        ),
        (Role::Then, "new") => "Wraps a plain `httpmock::Then`.".to_owned(),
        (Role::When, "into_inner") => {
            "The plain `httpmock::When`, to match what the spec does not describe.".to_owned()
        }
        (Role::Then, "into_inner") => "The plain `httpmock::Then`, to answer what the spec does \
             not describe (an HTML error page, a truncated body)."
            .to_owned(),
        (Role::When, "body") => "Matches a JSON body equal to `value`, every field of it \
             ([`body_includes`](Self::body_includes) matches some)."
            .to_owned(),
        (Role::When, header) => {
            let field = op
                .headers
                .iter()
                .find(|h| snake(&h.name) == header)
                .ok_or_else(|| anyhow!("httpmock: {}::{header}: no such header", op.id))?;
            let optional = match f.sig.generics.params.is_empty() {
                true => String::new(),
                false => " `None`: the header is absent.".to_owned(),
            };
            format!(
                "Matches the `{}` header: {}{optional}",
                field.name,
                field.description.trim()
            )
        }
        (Role::Then, "ok") => "Answers 200 with `value` as its JSON body.".to_owned(),
        (Role::Then, "client_error") => {
            "Answers the 4xx status `status`, no body (panics on another status).".to_owned()
        }
        (Role::Then, "server_error") => {
            "Answers the 5xx status `status`, no body (panics on another status).".to_owned()
        }
        (Role::Then, _) => {
            // A status the spec lists for the operation: `status(400u16)`.
            let status = block
                .split("status (")
                .nth(1)
                .and_then(|rest| rest.split("u16").next())
                .map(str::trim)
                .filter(|s| s.parse::<u16>().is_ok())
                .ok_or_else(|| anyhow!("httpmock: {}::{name}: which status?", op.id))?;
            format!(
                "Answers {status}, no body (a status the spec lists for `{}`).",
                op.id
            )
        }
    })
}

/// A `When` method: some fields of the JSON body.
const BODY_INCLUDES: &str = r#"
/// Matches a JSON body that includes `partial`: the fields given (at their place in the
/// hierarchy) with these values, whatever the others (`httpmock`'s `json_body_includes`).
pub fn body_includes(self, partial: &::serde_json::Value) -> Self {
    Self(self.0.json_body_includes(partial.to_string()))
}
"#;

/// A `Then` method: a status the client retries, with an optional `Retry-After`.
fn retried(status: u16, method: &str, reason: &str) -> String {
    format!(
        r#"
/// Answers {status} {reason}, no body, with `Retry-After` in whole seconds (rounded up) when
/// `retry_after` is given: the client retries this status (after that wait, if given).
pub fn {method}(self, retry_after: ::std::option::Option<::std::time::Duration>) -> Self {{
    let then = self.0.status({status}u16);
    Self(match retry_after {{
        Some(wait) => {{
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            then.header("retry-after", seconds.to_string())
        }}
        None => then,
    }})
}}
"#
    )
}

fn parse_fn(source: &str) -> Result<ImplItem> {
    syn::parse_str::<syn::ImplItemFn>(source)
        .map(ImplItem::Fn)
        .map_err(|e| anyhow!("xtask's httpmock method does not parse: {e}"))
}

fn has_doc(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("doc"))
}

fn doc(attrs: &mut Vec<syn::Attribute>, text: &str) {
    let text = format!(" {text}");
    attrs.insert(0, syn::parse_quote!(#[doc = #text]));
}

fn quote_tokens(block: &syn::Block) -> String {
    use quote::ToTokens;
    block.to_token_stream().to_string()
}

fn quote_file(file: &syn::File) -> proc_macro2::TokenStream {
    use quote::ToTokens;
    file.to_token_stream()
}
