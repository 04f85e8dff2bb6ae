//! The plain-HTTP listener: every request is sent to the same host and path
//! over HTTPS with a 308, so methods and bodies are kept by clients.

use warp::filters::host::Authority;
use warp::filters::path::FullPath;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::HttpService;

/// Requests to the redirector carry no useful body.
const MAX_BODY: u64 = 64 * 1024;

/// Answers an ACME http-01 challenge: the key authorization for a token.
/// Given by the composition root, so this module does not know the TLS layer.
pub type ChallengeAnswers = std::sync::Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Requests go to the host they named when it is one of `hostnames` (the
/// names this server answers to), otherwise to the first of them: a forged
/// `Host` never chooses where a client is sent. With
/// `challenges`, `GET /.well-known/acme-challenge/{token}` is answered from
/// it (plain text) instead of being redirected; unknown tokens are 404.
pub fn redirect_service(
    https_port: u16,
    hostnames: Vec<String>,
    challenges: Option<ChallengeAnswers>,
) -> HttpService {
    let acme = warp::get()
        .and(warp::path!(".well-known" / "acme-challenge" / String))
        .and_then(move |token: String| {
            let challenges = challenges.clone();
            async move {
                let answer = challenges.as_ref().and_then(|answer| answer(&token));
                match answer {
                    Some(key_authorization) => {
                        let mut response = Response::new(key_authorization.into());
                        response
                            .headers_mut()
                            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                        Ok(response)
                    }
                    None if challenges.is_some() => {
                        Ok(warp::reply::with_status("", StatusCode::NOT_FOUND).into_response())
                    }
                    None => Err(warp::reject::not_found()),
                }
            }
        });
    let redirect = warp::any()
        .and(warp::host::optional())
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .map(
            move |authority: Option<Authority>, path: FullPath, query: String| {
                let host = chosen_host(authority.as_ref().map(Authority::host), &hostnames);
                let location = location(host, https_port, path.as_str(), &query);
                redirect_to(&location)
            },
        );
    let filter = acme.or(redirect).unify().boxed();
    HttpService::new(filter, None, MAX_BODY, false)
}

fn location(host: &str, port: u16, path: &str, query: &str) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let port = if port == 443 {
        String::new()
    } else {
        format!(":{port}")
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("https://{host}{port}{path}{query}")
}

fn redirect_to(location: &str) -> Response {
    let mut response = warp::reply::with_status("", StatusCode::PERMANENT_REDIRECT).into_response();
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
        }
        Err(_) => *response.status_mut() = StatusCode::BAD_REQUEST,
    }
    response
}

/// The configured name the request asked for, or the first configured name:
/// nothing else is ever written into a Location header.
fn chosen_host<'a>(asked: Option<&str>, hostnames: &'a [String]) -> &'a str {
    let asked = asked.map(|h| h.trim_start_matches('[').trim_end_matches(']'));
    asked
        .and_then(|asked| hostnames.iter().find(|h| h.eq_ignore_ascii_case(asked)))
        .or(hostnames.first())
        .map_or("localhost", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_keep_host_path_and_query() {
        assert_eq!(
            location("fin.lan", 443, "/a/b", "x=1"),
            "https://fin.lan/a/b?x=1"
        );
        assert_eq!(location("fin.lan", 8443, "/", ""), "https://fin.lan:8443/");
        assert_eq!(location("::1", 8443, "/", ""), "https://[::1]:8443/");
    }

    #[test]
    fn only_configured_hosts_are_reflected() {
        let names = vec!["fin.lan".to_string(), "::1".to_string()];
        assert_eq!(chosen_host(Some("FIN.lan"), &names), "fin.lan");
        assert_eq!(chosen_host(Some("[::1]"), &names), "::1");
        assert_eq!(chosen_host(Some("evil.example"), &names), "fin.lan");
        assert_eq!(chosen_host(Some("evil.example/@x"), &names), "fin.lan");
        assert_eq!(chosen_host(None, &names), "fin.lan");
        assert_eq!(chosen_host(Some("fin.lan"), &[]), "localhost");
    }
}
