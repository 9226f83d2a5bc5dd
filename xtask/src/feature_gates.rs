//! Post-processing of progenitor's client: its `schemars::JsonSchema` derives and impls behind
//! ccsqm-client's `schemars` feature, so that a build without the feature compiles no schemars
//! (progenitor 0.15 always derives it and writes `impl ::schemars::JsonSchema` for integer
//! enumerations).
//!
//! On the syntax tree, not the text: every item of every module is visited, and
//! - a `#[derive(.., schemars::JsonSchema, ..)]` loses the derive, and the item gains
//!   `#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]`;
//! - a `#[schemars(..)]` attribute (of the item, a field or a variant) becomes
//!   `#[cfg_attr(feature = "schemars", schemars(..))]`;
//! - an `impl .. JsonSchema for ..` gains `#[cfg(feature = "schemars")]`.
//!
//! It fails when nothing was gated (progenitor's output changed shape), and when any other
//! mention of schemars is left (it would not compile without the feature).

use anyhow::{bail, Result};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{parse_quote, Attribute, Fields, Item, Meta, Path, Token};

/// The feature that gates the derives.
pub const FEATURE: &str = "schemars";

/// Gates every schemars derive, attribute and impl of `tokens` (a whole generated file).
pub fn gate_schemars(tokens: TokenStream) -> Result<TokenStream> {
    let mut file: syn::File = syn::parse2(tokens)?;
    let mut gated = 0;
    gate_items(&mut file.items, &mut gated)?;
    if gated == 0 {
        bail!(
            "the generated client derives no schemars::JsonSchema: progenitor's output changed \
             shape; update xtask/src/feature_gates.rs"
        );
    }
    let out = file.to_token_stream();
    strip_gated(&mut file.items);
    let ungated = file
        .to_token_stream()
        .to_string()
        .matches("schemars")
        .count();
    if ungated != 0 {
        bail!(
            "the generated client mentions schemars {ungated} times outside the `{FEATURE}` \
             feature's gates: update xtask/src/feature_gates.rs"
        );
    }
    Ok(out)
}

fn gate_items(items: &mut [Item], gated: &mut usize) -> Result<()> {
    for item in items {
        match item {
            Item::Mod(module) => {
                if let Some((_, items)) = &mut module.content {
                    gate_items(items, gated)?;
                }
            }
            Item::Struct(item) => {
                gate_attrs(&mut item.attrs, gated)?;
                gate_fields(&mut item.fields, gated)?;
            }
            Item::Enum(item) => {
                gate_attrs(&mut item.attrs, gated)?;
                for variant in &mut item.variants {
                    gate_attrs(&mut variant.attrs, gated)?;
                    gate_fields(&mut variant.fields, gated)?;
                }
            }
            Item::Union(item) => {
                gate_attrs(&mut item.attrs, gated)?;
                for field in &mut item.fields.named {
                    gate_attrs(&mut field.attrs, gated)?;
                }
            }
            Item::Impl(item) if is_json_schema_impl(item) => {
                item.attrs.push(parse_quote!(#[cfg(feature = "schemars")]));
                *gated += 1;
            }
            _ => {}
        }
    }
    Ok(())
}

fn gate_fields(fields: &mut Fields, gated: &mut usize) -> Result<()> {
    for field in fields.iter_mut() {
        gate_attrs(&mut field.attrs, gated)?;
    }
    Ok(())
}

/// Moves `schemars::JsonSchema` out of the derives into a `cfg_attr`, and wraps `schemars(..)`
/// attributes in one.
fn gate_attrs(attrs: &mut Vec<Attribute>, gated: &mut usize) -> Result<()> {
    let mut added: Vec<Attribute> = Vec::new();
    for attr in attrs.iter_mut() {
        if attr.path().is_ident("schemars") {
            let meta = &attr.meta;
            *attr = parse_quote!(#[cfg_attr(feature = "schemars", #meta)]);
            *gated += 1;
        } else if attr.path().is_ident("derive") {
            let paths: Punctuated<Path, Token![,]> =
                attr.parse_args_with(Punctuated::parse_terminated)?;
            let (schema, kept): (Vec<Path>, Vec<Path>) =
                paths.into_iter().partition(is_json_schema_path);
            if schema.is_empty() {
                continue;
            }
            let kept: Punctuated<Path, Token![,]> = kept.into_iter().collect();
            attr.meta = Meta::List(parse_quote!(derive(#kept)));
            added.push(parse_quote!(#[cfg_attr(feature = "schemars", derive(#(#schema),*))]));
            *gated += 1;
        }
    }
    // The gated derive right after the derives, before the item's `schemars(..)` attributes
    // (which need the derive).
    let at = attrs
        .iter()
        .rposition(|a| a.path().is_ident("derive"))
        .map_or(0, |i| i + 1);
    attrs.splice(at..at, added);
    Ok(())
}

/// `schemars::JsonSchema` or `::schemars::JsonSchema`.
fn is_json_schema_path(path: &Path) -> bool {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    names == ["schemars", "JsonSchema"]
}

fn is_json_schema_impl(item: &syn::ItemImpl) -> bool {
    item.trait_
        .as_ref()
        .is_some_and(|(_, path, _)| is_json_schema_path(path))
}

/// Removes what [`gate_items`] gated (the gated attributes and impls), so that what is left
/// can be checked to mention no schemars.
fn strip_gated(items: &mut Vec<Item>) {
    fn is_gate(attr: &Attribute) -> bool {
        (attr.path().is_ident("cfg_attr") || attr.path().is_ident("cfg"))
            && attr.meta.require_list().is_ok_and(|list| {
                list.tokens
                    .to_string()
                    .starts_with("feature = \"schemars\"")
            })
    }
    fn strip_fields(fields: &mut Fields) {
        for field in fields.iter_mut() {
            field.attrs.retain(|a| !is_gate(a));
        }
    }
    items.retain(|item| !matches!(item, Item::Impl(i) if i.attrs.iter().any(is_gate)));
    for item in items {
        match item {
            Item::Mod(module) => {
                if let Some((_, items)) = &mut module.content {
                    strip_gated(items);
                }
            }
            Item::Struct(item) => {
                item.attrs.retain(|a| !is_gate(a));
                strip_fields(&mut item.fields);
            }
            Item::Enum(item) => {
                item.attrs.retain(|a| !is_gate(a));
                for variant in &mut item.variants {
                    variant.attrs.retain(|a| !is_gate(a));
                    strip_fields(&mut variant.fields);
                }
            }
            Item::Union(item) => {
                item.attrs.retain(|a| !is_gate(a));
                for field in &mut item.fields.named {
                    field.attrs.retain(|a| !is_gate(a));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn derives_attributes_and_impls_are_gated() {
        let out = gate_schemars(quote! {
            pub mod types {
                #[derive(Clone, schemars::JsonSchema, PartialEq)]
                #[schemars(description = "d")]
                pub struct A {
                    #[schemars(skip)]
                    pub a: i64,
                }
                #[derive(Clone)]
                pub enum B { #[schemars(rename = "x")] X }
                impl ::schemars::JsonSchema for C {
                    fn schema_name() -> String { "C".into() }
                }
            }
        })
        .unwrap();
        let want = quote! {
            pub mod types {
                #[derive(Clone, PartialEq)]
                #[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
                #[cfg_attr(feature = "schemars", schemars(description = "d"))]
                pub struct A {
                    #[cfg_attr(feature = "schemars", schemars(skip))]
                    pub a: i64,
                }
                #[derive(Clone)]
                pub enum B { #[cfg_attr(feature = "schemars", schemars(rename = "x"))] X }
                #[cfg(feature = "schemars")]
                impl ::schemars::JsonSchema for C {
                    fn schema_name() -> String { "C".into() }
                }
            }
        };
        assert_eq!(out.to_string(), want.to_string());
    }

    #[test]
    fn nothing_to_gate_is_an_error() {
        let err = gate_schemars(quote! { pub struct A; }).unwrap_err();
        assert!(err.to_string().contains("derives no schemars"), "{err}");
    }

    #[test]
    fn a_mention_left_ungated_is_an_error() {
        let err = gate_schemars(quote! {
            #[derive(schemars::JsonSchema)]
            pub struct A;
            pub fn f() -> schemars::schema::Schema { schemars::schema::Schema::Bool(true) }
        })
        .unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
    }
}
