//! The TLS of the HTTP client a [`ClientBuilder`](crate::ClientBuilder) builds, chosen by the
//! crate's features (see "Features" in the crate docs):
//!
//! - the crypto provider: `rustls-aws-lc` (the default) or `rustls-ring` (AWS-LC when both);
//! - the roots: `native-roots` (the platform's verifier, the default), `webpki-roots`
//!   (Mozilla's roots compiled in), or both (Mozilla's roots added to the platform's);
//! - none of them: plain `http` only, and [`BuildError::NoTls`](crate::BuildError::NoTls) for
//!   an `https` URL.
//!
//! The configuration is built here and handed to reqwest (`tls_backend_preconfigured`), so that
//! reqwest never needs its own AWS-LC provider: with `rustls-ring`, no AWS-LC is compiled.

#[cfg(all(
    feature = "__rustls",
    not(any(feature = "rustls-aws-lc", feature = "rustls-ring"))
))]
compile_error!(
    "ccsqm-client: `native-roots` and `webpki-roots` need a TLS provider: enable the feature \
     `rustls-ring` or `rustls-aws-lc` (or disable every TLS feature for plain http only)"
);

#[cfg(all(
    any(feature = "rustls-aws-lc", feature = "rustls-ring"),
    not(any(feature = "native-roots", feature = "webpki-roots"))
))]
compile_error!(
    "ccsqm-client: a TLS provider needs roots to check certificates with: enable the feature \
     `native-roots` (the platform's) or `webpki-roots` (Mozilla's, compiled in), or both"
);

/// Whether this build speaks https (a TLS provider and roots are compiled in).
pub(crate) const HTTPS: bool = cfg!(feature = "__rustls");

/// The TLS features of this build, as a [`BuildError::NoTls`](crate::BuildError::NoTls) names
/// them.
pub(crate) const TLS_FEATURES: &str =
    "`rustls-ring` or `rustls-aws-lc`, with `native-roots` or `webpki-roots`";

/// Why the TLS configuration could not be made (the platform's verifier found no roots, for
/// example).
pub(crate) type TlsError = Box<dyn std::error::Error + Send + Sync>;

/// Sets the builder's TLS: the configuration of this build's features.
#[cfg(feature = "__rustls")]
pub(crate) fn configure(
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder, TlsError> {
    Ok(builder.tls_backend_preconfigured(rustls_config()?))
}

/// Without TLS features: the builder unchanged (reqwest speaks plain http only).
#[cfg(not(feature = "__rustls"))]
pub(crate) fn configure(
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder, TlsError> {
    Ok(builder)
}

/// The rustls configuration reqwest would make with its `rustls` feature: TLS 1.2 and 1.3, the
/// provider and roots of the features, and ALPN offering HTTP/2 then HTTP/1.1.
#[cfg(feature = "__rustls")]
fn rustls_config() -> Result<rustls::ClientConfig, TlsError> {
    use std::sync::Arc;

    let provider = Arc::new(provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut config = with_roots(builder, provider)?.with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(feature = "rustls-aws-lc")]
fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

#[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

#[cfg(feature = "__rustls")]
type WantsVerifier = rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>;
#[cfg(feature = "__rustls")]
type WantsClientCert = rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>;

/// The platform's verifier (what reqwest's `rustls` feature uses), with Mozilla's roots added
/// where the platform's verifier takes extra roots, when `webpki-roots` is on too.
#[cfg(feature = "native-roots")]
fn with_roots(
    builder: WantsVerifier,
    provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
) -> Result<WantsClientCert, TlsError> {
    #[cfg(all(
        feature = "webpki-roots",
        any(all(unix, not(target_os = "android")), target_os = "windows")
    ))]
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
        webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned(),
        provider,
    )?;
    #[cfg(not(all(
        feature = "webpki-roots",
        any(all(unix, not(target_os = "android")), target_os = "windows")
    )))]
    let verifier = rustls_platform_verifier::Verifier::new(provider)?;
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(verifier)))
}

/// Mozilla's roots only (webpki-root-certs), checked by rustls' own WebPKI verifier.
#[cfg(all(feature = "webpki-roots", not(feature = "native-roots")))]
fn with_roots(
    builder: WantsVerifier,
    _provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
) -> Result<WantsClientCert, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    let (_, unparsable) =
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    if roots.is_empty() {
        return Err(
            format!("none of Mozilla's roots could be read ({unparsable} unparsable)").into(),
        );
    }
    Ok(builder.with_root_certificates(roots))
}

#[cfg(test)]
mod tests {
    use crate::Client;

    #[cfg(feature = "__rustls")]
    #[test]
    fn the_configuration_of_the_features_builds() {
        let config = super::rustls_config().expect("a TLS configuration");
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        let provider = super::provider();
        assert_eq!(
            format!("{:?}", config.crypto_provider().cipher_suites),
            format!("{:?}", provider.cipher_suites)
        );
        let https = Client::builder("https://service.example")
            .user_id("u")
            .build();
        assert!(https.is_ok(), "{:?}", https.err());
    }

    /// Without TLS features, an https URL (base or token) is refused when building, naming the
    /// features; plain http to a loopback address still works.
    #[cfg(not(feature = "__rustls"))]
    #[test]
    fn without_tls_an_https_url_is_refused_naming_the_features() {
        for (base, token) in [
            ("https://service.example", None),
            ("http://127.0.0.1:8080", Some("https://iam.example")),
        ] {
            let mut builder = Client::builder(base).user_id("u");
            if let Some(token) = token {
                builder = builder.token_base_url(token);
            }
            let err = builder.build().expect_err("no TLS");
            assert!(matches!(err, crate::BuildError::NoTls { .. }), "{err:?}");
            let shown = err.to_string();
            assert!(
                shown.contains("https://") && shown.contains("rustls-ring"),
                "{shown}"
            );
        }
        let http = Client::builder("http://127.0.0.1:8080")
            .user_id("u")
            .build();
        assert!(http.is_ok(), "{:?}", http.err());
    }
}
