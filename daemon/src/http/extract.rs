//! What handlers take from a request besides the principal: JSON bodies and
//! the client's address and user agent.

use warp::http::StatusCode;
use warp::{Filter, Rejection};

use super::json::Document;
use super::peer::ClientAddr;
use super::problem::ApiRejection;
use crate::service::Services;
use crate::service::auth::sessions::ClientInfo;

/// JSON request bodies are small; uploads have their own limits.
pub const MAX_JSON_BYTES: u64 = 64 * 1024;

/// The furthest a page may start (`offset`): deeper pages are refused, not served empty.
pub const MAX_OFFSET: u32 = 1_000_000;

/// A JSON object of at most [`MAX_JSON_BYTES`], `Content-Type: application/json`,
/// read as `json.rs` says. Only an object is taken: serde would also read a
/// struct from an array.
pub fn json_body<T: serde::de::DeserializeOwned + Send>()
-> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    warp::body::content_length_limit(MAX_JSON_BYTES)
        .and(warp::body::json::<Document>())
        .and_then(|Document(value)| async move {
            if !value.is_object() {
                return Err(invalid_body(
                    "the request body must be a JSON object".into(),
                ));
            }
            serde_json::from_value(value)
                .map_err(|e| invalid_body(format!("the request body is not valid: {e}")))
        })
}

fn invalid_body(detail: String) -> Rejection {
    warp::reject::custom(ApiRejection::new(
        StatusCode::BAD_REQUEST,
        "invalid_body",
        detail,
    ))
}

/// A page of a listing: `limit` (default `default`, 1 to `max`) and `offset`
/// (at most [`MAX_OFFSET`]); out of range is a 400, never silently clamped.
pub fn page(
    limit: Option<u32>,
    default: u32,
    max: u32,
    offset: Option<u32>,
) -> Result<(u32, u32), Rejection> {
    let (limit, offset) = (limit.unwrap_or(default), offset.unwrap_or(0));
    if !(1..=max).contains(&limit) || offset > MAX_OFFSET {
        return Err(warp::reject::custom(ApiRejection::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("limit must be 1 to {max}, offset at most {MAX_OFFSET}"),
        )));
    }
    Ok((limit, offset))
}

/// The client's address (see `ClientAddr`) and user agent, recorded with
/// new sessions and in the audit trail.
pub fn client_info() -> impl Filter<Extract = (ClientInfo,), Error = Rejection> + Clone {
    warp::ext::optional::<ClientAddr>()
        .and(warp::header::optional::<String>("user-agent"))
        .map(
            |client: Option<ClientAddr>, user_agent: Option<String>| ClientInfo {
                ip: client.map(|c| c.0.to_string()),
                user_agent,
            },
        )
}

/// Hands a clone of the services to a handler.
pub fn with(
    services: &Services,
) -> impl Filter<Extract = (Services,), Error = std::convert::Infallible> + Clone + use<> {
    let services = services.clone();
    warp::any().map(move || services.clone())
}
