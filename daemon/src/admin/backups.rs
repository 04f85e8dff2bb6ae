//! Backups over the admin socket: archives stream out of the daemon as
//! they are written, and into it as they are read.

use crate::service::backup::Passphrase;
use fin_proto::admin::{
    ArchiveSummary, BACKUP_PRUNE_PATH, BACKUP_VERIFY_PATH, BACKUPS_PATH, BackupCreated, BackupInfo,
    CreateBackup, PASSPHRASE_HEADER, Prune, Pruned, RESTORE_PATH, Restored,
};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};

use super::reply::{error, json, read_json, service_error};
use super::stream::{AdminBody, body_reader, channel_body};
use crate::service::Services;
use crate::service::backup::{Kind, Request as BackupRequest};

pub(super) async fn answer(
    services: &Services,
    actor: &str,
    req: Request<Incoming>,
) -> Response<AdminBody> {
    let backups = &services.backups;
    match (req.method().clone(), req.uri().path()) {
        (Method::GET, BACKUPS_PATH) => match backups.list() {
            Ok(files) => json(
                StatusCode::OK,
                &files.iter().map(BackupInfo::from).collect::<Vec<_>>(),
            ),
            Err(e) => service_error(e),
        },
        (Method::POST, BACKUPS_PATH) => {
            let body: CreateBackup = match read_json(req).await {
                Ok(body) => body,
                Err(response) => return response,
            };
            create(services, actor, body).await
        }
        (Method::POST, BACKUP_VERIFY_PATH) => {
            let passphrase = match passphrase(&req) {
                Ok(p) => p,
                Err(response) => return response,
            };
            let reader = body_reader(req.into_body());
            match backups.verify(reader, passphrase).await {
                Ok(manifest) => json(StatusCode::OK, &ArchiveSummary::from(&manifest)),
                Err(e) => service_error(e),
            }
        }
        (Method::POST, BACKUP_PRUNE_PATH) => {
            let body: Prune = match read_json(req).await {
                Ok(body) => body,
                Err(response) => return response,
            };
            match backups.prune_by_policy(body.dry_run) {
                Ok(removed) => json(
                    StatusCode::OK,
                    &Pruned {
                        removed: removed.iter().map(BackupInfo::from).collect(),
                        dry_run: body.dry_run,
                    },
                ),
                Err(e) => service_error(e),
            }
        }
        (Method::POST, RESTORE_PATH) => {
            let passphrase = match passphrase(&req) {
                Ok(p) => p,
                Err(response) => return response,
            };
            let reader = body_reader(req.into_body());
            // On a task of its own: a client that goes away must not cut
            // the restore off between the pointer's write and the switch.
            let detached = services.backups.clone();
            let result =
                tokio::spawn(async move { detached.restore(reader, passphrase, true).await })
                    .await
                    .unwrap_or_else(|e| {
                        Err(crate::service::ServiceError::Internal(format!(
                            "the restore stopped: {e}"
                        )))
                    });
            let target = match &result {
                Ok(restored) => format!("backup of {}", restored.manifest.header.created_at),
                Err(_) => "backup".to_string(),
            };
            services
                .audit
                .record(crate::service::audit::Event {
                    actor: Some(actor),
                    ip: None,
                    action: "backup.restore",
                    target: Some(&target),
                    success: result.is_ok(),
                })
                .await;
            match result {
                Ok(restored) => json(StatusCode::OK, &Restored::from(&restored)),
                Err(e) => service_error(e),
            }
        }
        (_, path)
            if [
                BACKUPS_PATH,
                BACKUP_VERIFY_PATH,
                BACKUP_PRUNE_PATH,
                RESTORE_PATH,
            ]
            .contains(&path) =>
        {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "see `finctl backup --help`".into(),
            )
        }
        (_, path) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("this daemon has no admin endpoint {path}: is finctl newer than the daemon?"),
        ),
    }
}

async fn create(services: &Services, actor: &str, body: CreateBackup) -> Response<AdminBody> {
    let request = BackupRequest {
        passphrase: body.passphrase.map(Passphrase::from),
        include_secrets: body.include_secrets,
    };
    let audit = services.audit.clone();
    let actor = actor.to_string();
    if body.pre_upgrade && !body.to_folder {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "a pre-upgrade backup goes to the backup folder: set to_folder as well".into(),
        );
    }
    if body.to_folder {
        let kind = match body.pre_upgrade {
            true => Kind::PreUpgrade,
            false => Kind::Manual,
        };
        let result = services.backups.create_in_folder(kind, &request).await;
        let target = match &result {
            Ok((file, _)) => file.name.clone(),
            Err(_) => "backup folder".to_string(),
        };
        record(&audit, &actor, &target, result.is_ok()).await;
        return match result {
            Ok((file, manifest)) => json(
                StatusCode::CREATED,
                &BackupCreated {
                    file: BackupInfo::from(&file),
                    archive: ArchiveSummary::from(&manifest),
                },
            ),
            Err(e) => service_error(e),
        };
    }
    // Streamed: refuse what cannot work before the answer starts.
    if request.include_secrets && request.passphrase.is_none() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "an archive with secrets must be encrypted: give a passphrase as well".into(),
        );
    }
    let (writer, body) = channel_body();
    let backups = services.backups.clone();
    tokio::spawn(async move {
        // A second handle on the body, to end it with an error when the
        // backup fails (the body ends cleanly once both are dropped).
        let failer = writer.clone();
        let started = std::time::Instant::now();
        let result = backups.write(writer, &request).await;
        backups.report(
            "streamed",
            started,
            result.as_ref().map(|_| ("to finctl", failer.written())),
        );
        record(&audit, &actor, "streamed to finctl", result.is_ok()).await;
        match result {
            Ok((writer, _)) => drop(writer),
            Err(e) => {
                tracing::warn!(error = %e, "streamed backup failed");
                failer.fail(e.to_string()).await;
            }
        }
    });
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    response
}

async fn record(audit: &crate::service::audit::Audit, actor: &str, target: &str, success: bool) {
    audit
        .record(crate::service::audit::Event {
            actor: Some(actor),
            ip: None,
            action: "backup.create",
            target: Some(target),
            success,
        })
        .await;
}

/// The passphrase header, hex-encoded UTF-8.
#[allow(clippy::result_large_err)]
fn passphrase(req: &Request<Incoming>) -> Result<Option<Passphrase>, Response<AdminBody>> {
    let Some(value) = req.headers().get(PASSPHRASE_HEADER) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .ok()
        .and_then(crate::support::unhex)
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match text {
        Some(text) => Ok(Some(Passphrase::from(text))),
        None => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_passphrase_header",
            format!("{PASSPHRASE_HEADER} must be hex-encoded UTF-8"),
        )),
    }
}

/// `finctl upgrade status` with the daemon running.
pub(super) async fn upgrade(services: &Services) -> Response<AdminBody> {
    let status = match services.system.status().await {
        Ok(status) => status,
        Err(e) => return service_error(e),
    };
    let backups = services.backups.settings();
    let last_upgrade = services.backups.last_upgrade();
    json(
        StatusCode::OK,
        &fin_proto::admin::UpgradeStatus {
            fin_version: status.version,
            schema_applied: status.schema.applied,
            schema_latest: status.schema.latest,
            pending: crate::service::backup::pending_migrations(status.schema.applied),
            last_pre_upgrade_backup: crate::service::backup::Backups::newest_of_kind(
                &backups.dir,
                Kind::PreUpgrade,
            )
            .as_ref()
            .map(BackupInfo::from),
            last_upgrade,
        },
    )
}

/// The backup part of `finctl status`.
pub(super) fn status(services: &Services) -> fin_proto::admin::BackupStatus {
    let s = services.backups.status();
    fin_proto::admin::BackupStatus {
        last_success_at: s.last_success_at,
        last_success: s.last_success,
        last_failure_at: s.last_failure_at,
        last_failure: s.last_failure,
        missed: s.missed,
        next_scheduled_at: s.next_scheduled_at,
        newest_archive: services
            .backups
            .list()
            .ok()
            .and_then(|files| files.iter().max_by_key(|f| f.created).map(BackupInfo::from)),
    }
}
