//! Canonical operations and their outcomes: what a dialect decodes a request into and what it
//! encodes a response from.

use std::sync::Arc;

use crate::{Identity, ListUploads, StorageClass, Timestamp, Upload, UploadsPage};

/// An authenticated caller. Which buckets it may touch is the gateway's business. Shared
/// strings: every request names its caller, and the names are the configured users'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub name: Arc<str>,
    pub access_key: Arc<str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub name: String,
    pub created: Timestamp,
}

/// What a caller asks for when it starts an upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUpload {
    pub bucket: String,
    pub key: String,
    pub storage_class: Option<StorageClass>,
    pub checksum_algorithm: Option<String>,
    pub checksum_type: Option<String>,
    /// Filled by the gateway from the authenticated principal, never by the caller.
    pub initiator: Option<Identity>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    ListUploads(ListUploads),
    CreateUpload(NewUpload),
    /// `key` is `None` for dialects that abort by upload id alone (Qumulo).
    AbortUpload {
        bucket: String,
        key: Option<String>,
        upload_id: String,
    },
    CreateBucket {
        bucket: String,
    },
    DeleteBucket {
        bucket: String,
    },
    HeadBucket {
        bucket: String,
    },
    ListBuckets,
}

impl Operation {
    /// The bucket the operation touches, for routing and authorization.
    pub fn bucket(&self) -> Option<&str> {
        match self {
            Self::ListUploads(q) => Some(&q.bucket),
            Self::CreateUpload(n) => Some(&n.bucket),
            Self::AbortUpload { bucket, .. }
            | Self::CreateBucket { bucket }
            | Self::DeleteBucket { bucket }
            | Self::HeadBucket { bucket } => Some(bucket),
            Self::ListBuckets => None,
        }
    }

    /// A short stable name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ListUploads(_) => "list_uploads",
            Self::CreateUpload(_) => "create_upload",
            Self::AbortUpload { .. } => "abort_upload",
            Self::CreateBucket { .. } => "create_bucket",
            Self::DeleteBucket { .. } => "delete_bucket",
            Self::HeadBucket { .. } => "head_bucket",
            Self::ListBuckets => "list_buckets",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one outcome per request; its size does not matter"
)]
pub enum Outcome {
    Page(UploadsPage),
    Created { bucket: String, upload: Upload },
    Aborted,
    BucketCreated { bucket: String },
    BucketDeleted,
    BucketExists,
    Buckets(Vec<Bucket>),
}
