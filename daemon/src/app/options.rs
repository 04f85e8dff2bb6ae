//! The composition root's translation of [`Settings`] into the small option
//! types each module takes, so that no module below `app` reads `config`.

use crate::config::{AuthSettings, Limit, LogFormat, OcrModels, OcrSettings, Settings};
use crate::domain::receipt::ExtractOptions;
use crate::http::RateLimitOptions;
use crate::ocr::ModelSource;
use crate::ratelimit::Quota;
use crate::service::auth::password::HashCost;
use crate::service::auth::sessions::SessionPolicy;
use crate::service::ledger::LedgerSettings;
use crate::service::receipts::ReceiptSettings;
use crate::telemetry::LogOptions;

pub fn log_options(settings: &Settings) -> LogOptions {
    LogOptions {
        level: settings.log_level.clone(),
        json: settings.log_format == LogFormat::Json,
        files: settings
            .log_to_file
            .then(|| (settings.log_dir.clone(), settings.log_max_files)),
    }
}

pub fn rate_limits(settings: &Settings) -> RateLimitOptions {
    let quota = |l: Limit| Quota::new(l.count, l.period, l.burst);
    RateLimitOptions {
        login: quota(settings.limits.login),
        upload: quota(settings.limits.upload),
        api: quota(settings.limits.api),
        max_tracked_clients: settings.limits.max_tracked_clients,
        trusted_proxies: settings.trusted_proxies.clone(),
    }
}

pub fn hash_cost(auth: &AuthSettings) -> HashCost {
    HashCost {
        memory_kib: auth.argon2_memory_kib,
        iterations: auth.argon2_iterations,
        parallelism: auth.argon2_parallelism,
    }
}

pub fn session_policy(auth: &AuthSettings) -> SessionPolicy {
    SessionPolicy {
        access_token: auth.access_token,
        refresh_token: auth.refresh_token,
        lockout_attempts: auth.lockout_attempts,
        lockout_window: auth.lockout_window,
        lockout: auth.lockout,
    }
}

pub fn ledger_settings(settings: &Settings) -> LedgerSettings {
    LedgerSettings {
        max_import_bytes: settings.import_max_file_bytes,
    }
}

pub fn receipt_settings(ocr: &OcrSettings) -> ReceiptSettings {
    ReceiptSettings {
        max_upload_bytes: ocr.max_upload_bytes,
        max_pixels: ocr.max_pixels,
        queue_depth: ocr.queue_depth,
        max_queued_per_user: ocr.max_queued_per_user,
        storage_quota_bytes: ocr.storage_quota_bytes,
        max_retries: ocr.max_retries,
        max_attempts: ocr.max_attempts,
        job_timeout: ocr.job_timeout,
        lease: ocr.lease,
        extract: ExtractOptions {
            date_order: ocr.date_order,
            default_currency: ocr.default_currency.clone(),
        },
    }
}

pub fn model_source(models: &OcrModels) -> ModelSource {
    match models {
        OcrModels::Bundled => ModelSource::Bundled,
        OcrModels::Dir(dir) => ModelSource::Dir(dir.clone()),
    }
}
