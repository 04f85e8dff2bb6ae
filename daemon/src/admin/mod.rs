//! The admin socket: HTTP/1.1 with JSON bodies over a Unix socket, for
//! `finctl`. Only root, the daemon's own user and members of the admin group
//! may use it; the socket is 0660 and every connection's peer is checked.

mod access;
mod backups;
mod convert;
mod reply;
mod routes;
mod stream;

use std::future::Future;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;

pub use access::AccessPolicy;

use crate::service::Services;

#[derive(Debug, thiserror::Error)]
pub enum AdminSocketError {
    #[error(
        "another fin daemon already answers on the admin socket {0} (stop it first, or set admin.socket)"
    )]
    InUse(PathBuf),
    #[error("cannot create the admin socket {path}: {reason}")]
    Bind { path: PathBuf, reason: String },
}

/// Binds the socket with mode 0660 (group: the admin group, when it exists).
/// A stale socket left by a killed daemon is replaced; a live one is an error.
pub fn bind(path: &Path, policy: &AccessPolicy) -> Result<UnixListener, AdminSocketError> {
    let err = |e: std::io::Error| AdminSocketError::Bind {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(AdminSocketError::InUse(path.to_path_buf()));
        }
        std::fs::remove_file(path).map_err(err)?;
    }
    let listener = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(err)?;
    // Under the unit (Group=fin) the socket is the admin group's already;
    // the unit's system-call filter refuses chown, so only a daemon
    // started otherwise (as root, say) changes the group.
    if let Some(gid) = policy.group_gid() {
        let current = std::fs::metadata(path).map_err(err)?.gid();
        if current != gid {
            nix::unistd::chown(path, None, Some(nix::unistd::Gid::from_raw(gid)))
                .map_err(|e| err(std::io::Error::from(e)))?;
        }
    }
    Ok(listener)
}

/// Answers admin requests until `shutdown` completes.
pub async fn serve(
    listener: UnixListener,
    services: Services,
    policy: AccessPolicy,
    shutdown: impl Future<Output = ()>,
) {
    crate::support::accept_until("admin socket", &listener, shutdown, |stream, _| {
        let credentials = stream.peer_cred();
        let (services, policy) = (services.clone(), policy.clone());
        tokio::spawn(async move {
            // The group lookup may read files or ask a directory service:
            // off the runtime, and off the accept loop.
            let verdict = match credentials {
                Ok(cred) => tokio::task::spawn_blocking(move || {
                    policy
                        .check(cred.uid(), cred.gid())
                        .map(|()| format!("operator uid={}", cred.uid()))
                })
                .await
                .unwrap_or_else(|e| Err(format!("cannot check the peer: {e}"))),
                Err(e) => Err(format!("cannot read the peer's credentials: {e}")),
            };
            if let Err(reason) = &verdict {
                tracing::warn!(target: "fin::audit", reason = %reason, "admin socket: connection refused");
            }
            let service = hyper::service::service_fn(move |req| {
                let services = services.clone();
                let verdict = verdict.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(routes::answer(&services, verdict, req).await)
                }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "admin connection ended with an error");
            }
        });
    })
    .await;
}
