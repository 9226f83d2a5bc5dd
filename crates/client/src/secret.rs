//! [`Secret`]: the type of every credential in the API (`Secret` in the spec).

/// A credential: an app secret or an access token.
///
/// It is serialized as the plain string the API expects, but never shown: `Debug` prints `***`
/// and there is no `Display`. Read the value only where it is sent, with [`Secret::expose`].
///
/// ```
/// let secret = ccsqm_client::Secret::new("s3cr3t");
/// assert_eq!(format!("{secret:?}"), "***");
/// assert_eq!(secret.expose(), "s3cr3t");
/// ```
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself, to send it. Never log or print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for Secret {
    fn schema_name() -> String {
        "Secret".to_owned()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("ccsqm_client::Secret")
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            format: Some("password".to_owned()),
            metadata: Some(Box::new(schemars::schema::Metadata {
                description: Some("A credential: an app secret or an access token.".to_owned()),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}
