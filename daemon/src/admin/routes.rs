//! Admin requests and their answers.

use fin_proto::admin::{
    AUDIT_PATH, CreateUser, INVITES_PATH, ROTATE_JWT_PATH, Rotated, STATUS_PATH, USERS_PATH,
};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use super::reply::{MAX_BODY, error, json, read_json, service_error};
use super::stream::AdminBody;
use crate::service::Services;

pub async fn answer(
    services: &Services,
    verdict: Result<String, String>,
    req: Request<Incoming>,
) -> Response<AdminBody> {
    // The operator, as recorded in the audit trail.
    let actor = match verdict {
        Ok(actor) => actor,
        Err(reason) => return error(StatusCode::FORBIDDEN, "forbidden", reason),
    };
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    match (&method, path.as_str()) {
        (&Method::GET, STATUS_PATH) => match services.system.status().await {
            Ok(mut status) => {
                status.backup = Some(super::backups::status(services));
                json(StatusCode::OK, &status)
            }
            Err(e) => {
                tracing::error!(error = %e, "admin: status failed");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    format!("the daemon could not build its status: {e}"),
                )
            }
        },
        (_, STATUS_PATH) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "use GET".into(),
        ),
        (&Method::GET, USERS_PATH) => match services.users.list().await {
            Ok(users) => json(StatusCode::OK, &users),
            Err(e) => service_error(e),
        },
        (&Method::POST, USERS_PATH) => {
            let request: CreateUser = match read_json(req).await {
                Ok(request) => request,
                Err(response) => return response,
            };
            match services.users.create(request, &actor).await {
                Ok(user) => json(StatusCode::CREATED, &user),
                Err(e) => service_error(e),
            }
        }
        (_, path) if user_path(path).is_some() => {
            let (name, action) = user_path(path).unwrap_or_default();
            one_user(services, &actor, method.clone(), &decode(name), action, req).await
        }
        (&Method::POST, INVITES_PATH) => {
            let request: fin_proto::api::CreateInvite = match read_json(req).await {
                Ok(request) => request,
                Err(response) => return response,
            };
            match services.users.create_invite(request, &actor).await {
                Ok(invite) => json(StatusCode::CREATED, &invite),
                Err(e) => service_error(e),
            }
        }
        (&Method::GET, AUDIT_PATH) => {
            let query = req.uri().query().unwrap_or_default();
            let param = |name: &str| {
                query
                    .split('&')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| decode(value))
            };
            let since = param("since").and_then(|v| v.parse().ok());
            let limit = param("limit").and_then(|v| v.parse().ok()).unwrap_or(100);
            let user = param("user").map(|u| u.trim().to_lowercase());
            let offset = param("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
            let query = crate::service::audit::AuditQuery {
                since,
                user,
                limit,
                offset,
            };
            match services.audit.list(query).await {
                Ok(entries) => json(StatusCode::OK, &entries),
                Err(e) => service_error(e),
            }
        }
        (&Method::POST, fin_proto::admin::CERT_RENEW_PATH) => {
            let request: fin_proto::admin::CertRenew = match read_json(req).await {
                Ok(request) => request,
                Err(response) => return response,
            };
            match services.system.renew_certificate(request.force) {
                Ok(message) => json(
                    StatusCode::ACCEPTED,
                    &fin_proto::admin::CertAction { message },
                ),
                Err(e) => service_error(e),
            }
        }
        (&Method::POST, fin_proto::admin::CERT_RELOAD_PATH) => {
            drain(req).await;
            match services.system.reload_certificate() {
                Ok(message) => json(StatusCode::OK, &fin_proto::admin::CertAction { message }),
                Err(e) => service_error(e),
            }
        }
        (&Method::POST, ROTATE_JWT_PATH) => {
            drain(req).await;
            match services.sessions.rotate_signing_key(&actor).await {
                Ok(kid) => json(
                    StatusCode::OK,
                    &Rotated {
                        kid,
                        previous_valid_for_seconds: services
                            .sessions
                            .previous_key_grace()
                            .as_secs(),
                    },
                ),
                Err(e) => {
                    tracing::error!(error = %e, "JWT secret rotation failed");
                    error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal_error",
                        format!("rotation failed: {e}"),
                    )
                }
            }
        }
        (&Method::GET, fin_proto::admin::UPGRADE_PATH) => super::backups::upgrade(services).await,
        (_, path)
            if path.starts_with(fin_proto::admin::BACKUPS_PATH)
                || path == fin_proto::admin::RESTORE_PATH =>
        {
            super::backups::answer(services, &actor, req).await
        }
        (_, USERS_PATH) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "use GET or POST".into(),
        ),
        (_, path) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("this daemon has no admin endpoint {path}: is finctl newer than the daemon?"),
        ),
    }
}

/// `(NAME, ACTION)` from `/v1/users/NAME` or `/v1/users/NAME/ACTION`.
fn user_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(USERS_PATH)?.strip_prefix('/')?;
    let (name, action) = rest.split_once('/').unwrap_or((rest, ""));
    (!name.is_empty() && !action.contains('/')).then_some((name, action))
}

#[derive(serde::Deserialize)]
struct RoleBody {
    role: String,
}

#[derive(serde::Deserialize)]
struct PasswordBody {
    password: String,
}

/// Everything under `/v1/users/NAME`.
async fn one_user(
    services: &Services,
    actor: &str,
    method: Method,
    name: &str,
    action: &str,
    req: Request<Incoming>,
) -> Response<AdminBody> {
    let users = &services.users;
    let result = match (method, action) {
        (Method::GET, "") => users.show(name).await,
        (Method::DELETE, "") => {
            return match users.delete(name, actor).await {
                Ok(()) => json(StatusCode::OK, &serde_json::json!({ "deleted": name })),
                Err(e) => service_error(e),
            };
        }
        (Method::POST, "unlock") => match users.unlock(name, actor).await {
            Ok(()) => users.show(name).await,
            Err(e) => Err(e),
        },
        (Method::POST, "disable") => users.set_disabled(name, true, actor).await,
        (Method::POST, "enable") => users.set_disabled(name, false, actor).await,
        (Method::POST, "role") => match read_json::<RoleBody>(req).await {
            Ok(body) => users.set_role(name, &body.role, actor).await,
            Err(response) => return response,
        },
        (Method::POST, "password") => match read_json::<PasswordBody>(req).await {
            Ok(body) => users.reset_password(name, body.password, actor).await,
            Err(response) => return response,
        },
        (_, action) => {
            return error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!(
                    "no admin endpoint for users/{name}/{action}: is finctl newer than the daemon?"
                ),
            );
        }
    };
    match result {
        Ok(user) => json(StatusCode::OK, &user),
        Err(e) => service_error(e),
    }
}

/// Undoes percent-encoding; invalid sequences are kept as they are.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads and drops a body the route does not use: answering (and closing)
/// before the client has finished sending it would break its pipe.
async fn drain(req: Request<Incoming>) {
    let _ = Limited::new(req.into_body(), MAX_BODY).collect().await;
}
