//! The request-line dispatch S3 and BOS share: which method on which address is which
//! operation. Each dialect supplies only what differs (parameter names, headers, naming rules).

use dragoman_model::{Error, ListUploads, NewUpload, Operation};
use http::{Method, StatusCode, request::Parts};

use crate::QueryParams;

/// What one bucket-and-key dialect decides for itself.
pub trait BucketDialect {
    /// Decodes the listing parameters.
    fn list(&self, bucket: String, q: &QueryParams<'_>) -> Result<ListUploads, Error>;
    /// Reads the upload options (storage class, checksums) from the headers.
    fn new_upload(&self, bucket: String, key: String, parts: &Parts) -> NewUpload;
    /// Checks a bucket name before the bucket is created.
    fn validate_bucket_name(&self, bucket: &str) -> Result<(), Error>;
    /// Whether the query names a sub-resource (anything but authentication parameters).
    fn has_subresource(&self, q: &QueryParams<'_>) -> bool {
        !q.is_empty()
    }
}

/// S3's bucket naming rules (also Qumulo's for its S3 buckets): 3 to 63 lower-case letters,
/// digits, dots and hyphens, starting and ending with a letter or digit, no `..`. A name that
/// passes is a valid DNS label sequence and a path segment that needs no encoding.
pub fn validate_s3_bucket_name(name: &str) -> Result<(), Error> {
    let b = name.as_bytes();
    let ok = (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-'))
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("..");
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidBucketName {
            bucket: crate::uri_encode(name.as_bytes(), false),
            message: "The specified bucket is not valid.".into(),
        })
    }
}

/// Whether XML 1.0 can carry a character at all, escaped or not: not the C0 controls other
/// than tab, newline and carriage return, and not U+FFFE or U+FFFF.
pub fn xml_char(c: char) -> bool {
    (c >= ' ' || matches!(c, '\t' | '\n' | '\r')) && c != '\u{FFFE}' && c != '\u{FFFF}'
}

/// The longest key, in bytes of UTF-8 (S3's and BOS's limit).
pub const MAX_KEY_BYTES: usize = 1024;

/// Checks an object key: at most 1024 bytes; and, for a key being created, only characters
/// XML 1.0 can carry, so that no listing of the bucket can become an ill-formed document.
pub fn validate_key(key: &str, creating: bool) -> Result<(), Error> {
    let shown = || {
        let mut s: String = crate::uri_encode(key.as_bytes(), false);
        if s.len() > 64 {
            let mut end = 64;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
            s.push_str("...");
        }
        s
    };
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::KeyTooLong {
            size: key.len(),
            max: MAX_KEY_BYTES,
        });
    }
    if creating && !key.chars().all(xml_char) {
        return Err(Error::invalid_argument(
            "key",
            shown(),
            "Object keys may not contain control characters (other than tab, newline and carriage return)",
        ));
    }
    Ok(())
}

/// A copy source header (`x-amz-copy-source`, `x-bce-copy-source`): `[/]<bucket>/<key>`,
/// URL-encoded, perhaps with `?versionId=`. Returns the bucket and the rest as sent (from
/// the `/` before the key).
pub fn copy_source<'a>(header: &str, raw: &'a [u8]) -> Result<(String, &'a [u8]), Error> {
    let bad = || Error::InvalidArgument {
        name: header.to_owned(),
        value: String::from_utf8_lossy(raw).into_owned(),
        message: "The copy source must name the source bucket and key: /sourcebucket/sourcekey"
            .into(),
    };
    let trimmed = raw.strip_prefix(b"/").unwrap_or(raw);
    let slash = trimmed.iter().position(|b| *b == b'/').ok_or_else(bad)?;
    let bucket = crate::decode_bytes(std::str::from_utf8(&trimmed[..slash]).map_err(|_| bad())?);
    let bucket = String::from_utf8(bucket).map_err(|_| bad())?;
    crate::validate_s3_bucket_name(&bucket)?;
    if trimmed.len() == slash + 1 {
        return Err(bad());
    }
    Ok((bucket, &trimmed[slash..]))
}

/// The names a forwarded request addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardNames {
    pub bucket: String,
    pub key: Option<String>,
    /// The bucket the copy source header names.
    pub copy_source_bucket: Option<String>,
}

/// The names a forwarded request addresses, checked as a served one's are. `None` without a
/// bucket.
pub fn forward_names(
    bucket: Option<String>,
    key: Option<String>,
    copy_header: &str,
    parts: &Parts,
) -> Result<Option<ForwardNames>, Error> {
    let Some(bucket) = bucket else {
        return Ok(None);
    };
    crate::validate_s3_bucket_name(&bucket)?;
    if let Some(k) = &key {
        validate_key(k, false)?;
    }
    let source = match parts.headers.get(copy_header) {
        None => None,
        Some(v) => Some(copy_source(copy_header, v.as_bytes())?.0),
    };
    Ok(Some(ForwardNames {
        bucket,
        key,
        copy_source_bucket: source,
    }))
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
    q: &QueryParams<'_>,
) -> Result<Operation, Error> {
    let m = &parts.method;
    // Every name is checked before anything routes on it: a bucket name becomes part of a
    // backend's URL (a path segment, or a virtual host's DNS label).
    if let Some(b) = &bucket {
        d.validate_bucket_name(b)?;
    }
    if let Some(k) = &key {
        validate_key(k, *m == Method::POST && q.has("uploads"))?;
    }
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
