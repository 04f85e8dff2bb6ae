//! What handlers take from a request besides the principal: JSON bodies and
//! the client's address and user agent.

use warp::http::StatusCode;
use warp::{Filter, Rejection};

use super::peer::PeerAddr;
use super::problem::ApiRejection;
use crate::service::Services;
use crate::service::auth::sessions::ClientInfo;

/// JSON request bodies are small; uploads have their own limits.
pub const MAX_JSON_BYTES: u64 = 64 * 1024;

/// The furthest a page may start (`offset`): deeper pages are refused, not served empty.
pub const MAX_OFFSET: u32 = 1_000_000;

/// A JSON object of at most [`MAX_JSON_BYTES`], `Content-Type: application/json`.
/// Only an object is taken: serde would also read a struct from an array.
pub fn json_body<T: serde::de::DeserializeOwned + Send>()
-> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    warp::body::content_length_limit(MAX_JSON_BYTES)
        .and(warp::body::json::<serde_json::Value>())
        .and_then(|mut value: serde_json::Value| async move {
            if !value.is_object() {
                return Err(invalid_body(
                    "the request body must be a JSON object".into(),
                ));
            }
            whole_numbers_as_integers(&mut value);
            serde_json::from_value(value)
                .map_err(|e| invalid_body(format!("the request body is not valid: {e}")))
        })
}

/// JSON has one number type: `110.0` is the integer 110 (as JSON Schema
/// says), but serde reads it only into a float. Whole numbers are made
/// integers so that integer fields take them.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Within ±2^53 a float is exact, so the integer is the same number.
            if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                *value = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(fields) => {
            fields.values_mut().for_each(whole_numbers_as_integers)
        }
        _ => {}
    }
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

/// Peer address and user agent, recorded with new sessions.
pub fn client_info() -> impl Filter<Extract = (ClientInfo,), Error = Rejection> + Clone {
    warp::ext::optional::<PeerAddr>()
        .and(warp::header::optional::<String>("user-agent"))
        .map(
            |peer: Option<PeerAddr>, user_agent: Option<String>| ClientInfo {
                ip: peer.map(|p| p.0.ip().to_string()),
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
