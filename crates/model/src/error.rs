//! The one canonical error type. Dialects render it; nothing else turns errors into responses.

use crate::Timestamp;

/// What the caller sent and what dragoman computed when a signature does not match: the S3
/// dialect returns these (as AWS does) so that a client author can see where they differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureMismatch {
    pub access_key: String,
    pub string_to_sign: String,
    pub signature_provided: String,
    pub canonical_request: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("The specified bucket does not exist")]
    NoSuchBucket { bucket: String },
    #[error("The specified multipart upload does not exist")]
    NoSuchUpload { upload_id: String },
    #[error("The requested bucket name is not available")]
    BucketAlreadyExists { bucket: String },
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty { bucket: String },
    #[error("{message}")]
    InvalidBucketName { bucket: String, message: String },
    #[error("{message}")]
    InvalidArgument {
        name: String,
        value: String,
        message: String,
    },
    #[error("{message}")]
    InvalidRequest { message: String },
    #[error("Couldn't parse the specified URI: {message}")]
    InvalidUri { message: String },
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed")]
    ContentHashMismatch { claimed: String, computed: String },
    #[error("{message}")]
    AccessDenied { message: String },
    #[error("The request signature we calculated does not match the signature you provided")]
    SignatureDoesNotMatch(Box<SignatureMismatch>),
    #[error("The access key Id you provided does not exist in our records")]
    UnknownAccessKey { access_key: String },
    #[error("The difference between the request time and the current time is too large")]
    RequestTimeTooSkewed {
        request_time: String,
        server_time: Timestamp,
    },
    #[error("{message}")]
    RequestExpired { message: String },
    /// The authorization header or presigned query is not well formed. `region` names the
    /// expected region when the scope names another one; `in_query` tells the presigned form.
    #[error("{message}")]
    MalformedAuthorization {
        message: String,
        region: Option<String>,
        in_query: bool,
    },
    /// Credentials came over plain HTTP where the gateway accepts them over TLS only.
    #[error("This gateway accepts credentials over TLS only: use https")]
    TlsRequired,
    #[error("Authentication is required")]
    Unauthenticated { message: String },
    #[error("The specified method is not allowed against this resource")]
    MethodNotAllowed,
    #[error("{what} is not implemented")]
    NotImplemented { what: String },
    #[error("Your key is too long")]
    KeyTooLong { size: usize, max: usize },
    #[error("Your request headers are too large")]
    HeadersTooLarge,
    #[error("Your request body is too large")]
    BodyTooLarge,
    /// The caller did not send its announced body in time.
    #[error(
        "Your socket connection to the server was not read from or written to within the timeout period."
    )]
    RequestTimeout,
    #[error("{message}")]
    Throttled { message: String },
    /// Too many failed attempts (logins): try again after `retry_after_secs`.
    #[error("Too many failed attempts; try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    /// `message` says why, for the operator's log; callers see the fixed text, never a
    /// backend's address or TLS details.
    #[error("The backend is unavailable; please retry")]
    BackendUnavailable { message: String },
    #[error("The backend did not answer in time")]
    BackendTimeout,
    /// `message` is for the operator's log, as for `BackendUnavailable`.
    #[error("The backend gave an answer dragoman cannot use")]
    BadBackendAnswer { message: String },
    #[error("We encountered an internal error. Please try again.")]
    Internal { message: String },
}

impl Error {
    pub fn invalid_argument(
        name: impl Into<String>,
        value: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::InvalidArgument {
            name: name.into(),
            value: value.into(),
            message: message.into(),
        }
    }

    /// AWS's answer to an `upload-id-marker` that names no upload of the key marker.
    pub fn invalid_upload_id_marker(upload_id: impl Into<String>) -> Self {
        Self::invalid_argument("upload-id-marker", upload_id, "Invalid uploadId marker")
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal {
            message: message.into(),
        }
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::AccessDenied {
            message: message.into(),
        }
    }

    /// The `Retry-After` seconds to send: when a retry may succeed, and how soon.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyAttempts { retry_after_secs } => Some((*retry_after_secs).max(1)),
            e if e.is_retryable() => Some(1),
            _ => None,
        }
    }

    /// Whether a well-behaved client should retry the request unchanged.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Throttled { .. } | Self::BackendUnavailable { .. } | Self::BackendTimeout
        )
    }
}
