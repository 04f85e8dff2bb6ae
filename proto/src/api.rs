//! Public HTTPS API bodies that are not specific to one feature.

use serde::{Deserialize, Serialize};

/// RFC 9457 problem details, the body of every HTTP API error
/// (`Content-Type: application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// URI reference naming the problem type.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable code, e.g. `not_found`.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// Body of `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
}

/// Body of `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    pub ready: bool,
    pub checks: Vec<Check>,
}

/// One readiness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    pub name: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_uses_rfc9457_field_names() {
        let p = Problem {
            type_uri: "about:blank".into(),
            title: "Not Found".into(),
            status: 404,
            detail: None,
            code: "not_found".into(),
            instance: None,
        };
        let v = serde_json::to_value(&p).expect("serialise");
        assert_eq!(v["type"], "about:blank");
        assert_eq!(v["status"], 404);
        assert!(v.get("detail").is_none());
    }
}
