//! What a use case can fail with, as kinds the front ends share.
//!
//! Every error a use case returns names its [`ErrorKind`] and a stable
//! machine `code`. The HTTPS API (`http/error.rs`) and the admin socket
//! (`admin/routes.rs`) both speak HTTP, so the kind also fixes the status
//! code, here and only here: a `Busy` is a 503 wherever it is met.

use crate::archive::ArchiveError;
use crate::ocr::ImageError;
use crate::store::StoreError;

/// The classes of failure a client can act on differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed before any rule is applied (e.g. empty).
    BadRequest,
    /// The request breaks a rule; the message says which.
    Invalid,
    /// No valid credentials.
    Unauthenticated,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    NotFound,
    /// It exists already, or the state does not allow the change.
    Conflict,
    /// Over a size limit.
    TooLarge,
    /// Over the caller's share (of the OCR queue, say): retry once some of
    /// it is done.
    TooMany,
    /// A content type this operation does not take.
    UnsupportedMedia,
    /// Temporarily overloaded: retry after a while.
    Busy,
    /// The server has no room to keep what was sent (e.g. a full disk).
    InsufficientStorage,
    /// A fault of the server; the cause goes to the log, not to the client.
    Internal,
}

impl ErrorKind {
    /// The HTTP status of this kind, for both front ends.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::TooLarge => 413,
            ErrorKind::UnsupportedMedia => 415,
            ErrorKind::Invalid => 422,
            ErrorKind::TooMany => 429,
            ErrorKind::Internal => 500,
            ErrorKind::Busy => 503,
            ErrorKind::InsufficientStorage => 507,
        }
    }
}

/// An error a front end can answer with: its kind, a stable code, and for
/// temporary refusals how long to wait. `Display` is the client's message,
/// except for [`ErrorKind::Internal`], whose text is only logged.
pub trait Failure: std::fmt::Display {
    fn kind(&self) -> ErrorKind;
    fn code(&self) -> &'static str;
    fn retry_after_seconds(&self) -> Option<u64> {
        None
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// An uploaded image was refused; the message says why.
    #[error("{0}")]
    Image(ImageError),
    #[error("{0}")]
    TooLarge(String),
    /// Temporarily overloaded: the client should retry after a while.
    #[error("{reason}")]
    Busy {
        /// The stable code, e.g. `queue_full`.
        code: &'static str,
        reason: String,
        retry_after_seconds: u64,
    },
    /// Over the caller's share of something shared: retry later.
    #[error("{reason}")]
    OverShare {
        /// The stable code, e.g. `user_queue_full`.
        code: &'static str,
        reason: String,
        retry_after_seconds: u64,
    },
    /// No room to keep what was sent (e.g. the disk is full).
    #[error("{0}")]
    InsufficientStorage(String),
    /// The caller's storage quota would be exceeded.
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(StoreError),
    /// A backup archive was refused; the kind of refusal is in the code.
    #[error(transparent)]
    Archive(ArchiveError),
}

impl From<ArchiveError> for ServiceError {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::Io(why)
                if why.contains("No space left") || why.contains("os error 28") =>
            {
                ServiceError::InsufficientStorage(format!("the disk is full: {why}"))
            }
            ArchiveError::Io(why) => ServiceError::Internal(why),
            other => ServiceError::Archive(other),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ServiceError::Conflict(format!("{what} already exists")),
            StoreError::NoBook => ServiceError::NotFound("no such book".into()),
            StoreError::Denied => ServiceError::Forbidden(
                "your role in this book does not allow this (viewers read, editors also write, the owner also manages)".into(),
            ),
            StoreError::Missing(what) => ServiceError::Invalid(format!("no {what} in this book")),
            StoreError::Refused(why) => ServiceError::Conflict(why),
            other => ServiceError::Store(other),
        }
    }
}

impl Failure for ServiceError {
    fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::Invalid(_) => ErrorKind::Invalid,
            ServiceError::Conflict(_) => ErrorKind::Conflict,
            ServiceError::NotFound(_) => ErrorKind::NotFound,
            ServiceError::Forbidden(_) => ErrorKind::Forbidden,
            ServiceError::Image(image) => image_kind_and_code(image).0,
            ServiceError::TooLarge(_) => ErrorKind::TooLarge,
            ServiceError::Busy { .. } => ErrorKind::Busy,
            ServiceError::OverShare { .. } => ErrorKind::TooMany,
            ServiceError::InsufficientStorage(_) | ServiceError::QuotaExceeded(_) => {
                ErrorKind::InsufficientStorage
            }
            ServiceError::Internal(_) | ServiceError::Store(_) => ErrorKind::Internal,
            ServiceError::Archive(_) => ErrorKind::Invalid,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ServiceError::Invalid(_) => "invalid",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::Image(image) => image_kind_and_code(image).1,
            ServiceError::TooLarge(_) => "payload_too_large",
            ServiceError::Busy { code, .. } | ServiceError::OverShare { code, .. } => code,
            ServiceError::InsufficientStorage(_) => "insufficient_storage",
            ServiceError::QuotaExceeded(_) => "quota_exceeded",
            ServiceError::Internal(_) | ServiceError::Store(_) => "internal_error",
            ServiceError::Archive(e) => e.code(),
        }
    }

    fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            ServiceError::Busy {
                retry_after_seconds,
                ..
            }
            | ServiceError::OverShare {
                retry_after_seconds,
                ..
            } => Some(*retry_after_seconds),
            _ => None,
        }
    }
}

/// Why an image was refused, as a kind and a code the client can act on.
fn image_kind_and_code(e: &ImageError) -> (ErrorKind, &'static str) {
    match e {
        ImageError::Empty => (ErrorKind::BadRequest, "empty_body"),
        ImageError::NotAnImage => (ErrorKind::UnsupportedMedia, "unsupported_image"),
        ImageError::TypeMismatch { .. } => (ErrorKind::UnsupportedMedia, "content_type_mismatch"),
        ImageError::TooManyPixels { .. } => (ErrorKind::TooLarge, "too_many_pixels"),
        ImageError::NoPixels | ImageError::Corrupt(_) => (ErrorKind::Invalid, "corrupt_image"),
        ImageError::MultiFrame => (ErrorKind::Invalid, "multi_frame_image"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_status_and_busy_is_503_everywhere() {
        let busy = ServiceError::Busy {
            code: "queue_full",
            reason: "full".into(),
            retry_after_seconds: 30,
        };
        assert_eq!(busy.kind().status(), 503);
        assert_eq!(busy.code(), "queue_full");
        assert_eq!(busy.retry_after_seconds(), Some(30));
        assert_eq!(ServiceError::Internal("x".into()).kind().status(), 500);
        assert_eq!(
            ServiceError::Image(ImageError::MultiFrame).kind().status(),
            422
        );
        assert_eq!(
            ServiceError::Image(ImageError::NotAnImage).code(),
            "unsupported_image"
        );
        assert_eq!(
            ServiceError::InsufficientStorage("full".into())
                .kind()
                .status(),
            507
        );
    }
}
