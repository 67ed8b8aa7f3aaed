//! The request-line dispatch S3 and BOS share: which method on which address is which
//! operation. Each dialect supplies only what differs (parameter names, headers, naming rules).

use dragoman_model::{Error, ListUploads, NewUpload, Operation};
use http::{Method, StatusCode, request::Parts};

use crate::QueryParams;

/// What one bucket-and-key dialect decides for itself.
pub trait BucketDialect {
    /// Decodes the listing parameters.
    fn list(&self, bucket: String, q: &QueryParams) -> Result<ListUploads, Error>;
    /// Reads the upload options (storage class, checksums) from the headers.
    fn new_upload(&self, bucket: String, key: String, parts: &Parts) -> NewUpload;
    /// Checks a bucket name before the bucket is created.
    fn validate_bucket_name(&self, bucket: &str) -> Result<(), Error>;
    /// Whether the query names a sub-resource (anything but authentication parameters).
    fn has_subresource(&self, q: &QueryParams) -> bool {
        !q.is_empty()
    }
}

fn not_implemented(what: &str) -> Error {
    Error::NotImplemented {
        what: what.to_owned(),
    }
}

/// Maps method, bucket, key and query to an operation.
pub fn operation(
    d: &impl BucketDialect,
    parts: &Parts,
    bucket: Option<String>,
    key: Option<String>,
    q: &QueryParams,
) -> Result<Operation, Error> {
    let m = &parts.method;
    match (bucket, key) {
        (None, _) if *m == Method::GET => Ok(Operation::ListBuckets),
        (None, _) => Err(Error::MethodNotAllowed),
        (Some(bucket), None) => match *m {
            Method::GET if q.has("uploads") => Ok(Operation::ListUploads(d.list(bucket, q)?)),
            Method::GET => Err(not_implemented(
                "This bucket operation (only ?uploads is served)",
            )),
            Method::PUT if !d.has_subresource(q) => {
                d.validate_bucket_name(&bucket)?;
                Ok(Operation::CreateBucket { bucket })
            }
            Method::DELETE if !d.has_subresource(q) => Ok(Operation::DeleteBucket { bucket }),
            Method::HEAD => Ok(Operation::HeadBucket { bucket }),
            Method::PUT | Method::DELETE | Method::POST => {
                Err(not_implemented("This bucket operation"))
            }
            _ => Err(Error::MethodNotAllowed),
        },
        (Some(bucket), Some(key)) => match *m {
            Method::POST if q.has("uploads") => {
                Ok(Operation::CreateUpload(d.new_upload(bucket, key, parts)))
            }
            Method::DELETE if q.has("uploadId") => Ok(Operation::AbortUpload {
                bucket,
                key: Some(key),
                upload_id: q.get("uploadId").unwrap_or_default().to_owned(),
            }),
            Method::GET | Method::PUT | Method::POST | Method::DELETE | Method::HEAD => {
                Err(not_implemented("This object operation"))
            }
            _ => Err(Error::MethodNotAllowed),
        },
    }
}

/// The outcomes answered without a body: their status, and the `Location` of a new bucket.
pub fn bodiless(outcome: &dragoman_model::Outcome) -> Option<(StatusCode, Option<String>)> {
    use dragoman_model::Outcome;
    match outcome {
        Outcome::BucketCreated { bucket } => Some((StatusCode::OK, Some(format!("/{bucket}")))),
        Outcome::BucketExists => Some((StatusCode::OK, None)),
        Outcome::Aborted | Outcome::BucketDeleted => Some((StatusCode::NO_CONTENT, None)),
        Outcome::Page(_) | Outcome::Created { .. } | Outcome::Buckets(_) => None,
    }
}
