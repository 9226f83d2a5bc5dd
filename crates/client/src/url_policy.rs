//! Which base URLs a [`Client`](crate::Client) accepts: absolute `https`, or plain `http` to
//! a loopback address (or when allowed explicitly).

use crate::BuildError;

pub(crate) fn check_base_url(url: &str, allow_insecure_http: bool) -> Result<(), BuildError> {
    let bad = |reason: &str| BuildError::BaseUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    let Some(host) = parsed.host_str() else {
        return Err(bad("no host"));
    };
    match parsed.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(host) => {}
        "http" => {
            return Err(BuildError::InsecureHttp {
                url: url.to_owned(),
            })
        }
        other => {
            return Err(bad(&format!(
                "the scheme must be https or http, not {other}"
            )))
        }
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a base URL has no query or fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("a base URL carries no user name or password"));
    }
    Ok(())
}

/// `localhost`, `127.0.0.0/8` or `[::1]`.
fn is_loopback(host: &str) -> bool {
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
