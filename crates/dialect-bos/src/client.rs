//! The client side: what dragoman sends to a BOS service and how it reads the answers.

use bytes::Bytes;
use dragoman_model::{Error, Timestamp};
use dragoman_wire::{MarkerNames, MarkerRequest};
use http::Request;
use serde::Deserialize;

use crate::sign;

/// Where a BOS service listens and how buckets are addressed on it.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `http` or `https`.
    pub scheme: String,
    /// `host` or `host:port` of the service (a region endpoint such as `bj.bcebos.com`).
    pub authority: String,
    /// `<bucket>.<authority>` with path `/`, rather than `/<bucket>` on the authority.
    pub virtual_hosted: bool,
}

/// BOS's parameter names.
const NAMES: MarkerNames = MarkerNames {
    prefix: "prefix",
    delimiter: "delimiter",
    key_marker: "keyMarker",
    upload_id_marker: "uploadIdMarker",
    max: "maxUploads",
};

/// Builds the unsigned `GET ?uploads` request.
pub fn list_request(ep: &Endpoint, r: &MarkerRequest) -> Result<Request<Bytes>, Error> {
    r.to_http(&ep.scheme, &ep.authority, ep.virtual_hosted, &NAMES)
}

/// Builds the unsigned `HEAD /{bucket}` (HeadBucket) or `GET /` (ListBuckets) request.
pub fn bucket_request(
    ep: &Endpoint,
    method: http::Method,
    bucket: Option<&str>,
) -> Result<Request<Bytes>, Error> {
    dragoman_wire::bucket_request(method, &ep.scheme, &ep.authority, ep.virtual_hosted, bucket)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitiateBody {
    upload_id: String,
}

/// Reads an InitiateMultipartUpload answer (`{"bucket","key","uploadId"}`): the new upload's id.
pub fn parse_initiate(body: &[u8]) -> Result<String, Error> {
    let b: InitiateBody =
        serde_json::from_slice(body).map_err(|e| bad(format!("BOS initiate answer: {e}")))?;
    if b.upload_id.is_empty() {
        return Err(bad(
            "BOS answered InitiateMultipartUpload without an upload id",
        ));
    }
    Ok(b.upload_id)
}

#[derive(Deserialize)]
struct BucketsBody {
    #[serde(default)]
    buckets: Vec<BucketBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BucketBody {
    name: String,
    creation_date: Option<String>,
}

/// Reads a ListBuckets answer: `{"owner": …, "buckets": [{"name", "location", "creationDate"}]}`.
pub fn parse_buckets(body: &[u8]) -> Result<Vec<dragoman_model::Bucket>, Error> {
    let b: BucketsBody =
        serde_json::from_slice(body).map_err(|e| bad(format!("BOS bucket list: {e}")))?;
    Ok(b.buckets
        .into_iter()
        .map(|b| dragoman_model::Bucket {
            created: b
                .creation_date
                .as_deref()
                .and_then(Timestamp::parse_rfc3339)
                .unwrap_or_default(),
            name: b.name,
        })
        .collect())
}

/// Signs a request with bce-auth-v1 and the default header set, as the official SDKs do.
pub fn sign_request(
    req: Request<Bytes>,
    access_key: &str,
    secret_key: &str,
    now: Timestamp,
) -> Result<Request<Bytes>, Error> {
    let (mut parts, body) = req.into_parts();
    sign_parts(&mut parts, access_key, secret_key, now)?;
    Ok(Request::from_parts(parts, body))
}

/// Signs a request's head (bce-auth-v1 does not cover the body).
pub fn sign_parts(
    parts: &mut http::request::Parts,
    access_key: &str,
    secret_key: &str,
    now: Timestamp,
) -> Result<(), Error> {
    // The name is a constant and the values are handed to the headers rather than copied
    // (the date written to a buffer of its exact size, which `Bytes` takes as it is): the
    // name's copy and the two values' were three allocations per backend call.
    let bad = |e: http::header::InvalidHeaderValue| {
        Error::internal(format!("cannot sign a BOS request: {e}"))
    };
    let mut date = String::with_capacity("2026-01-02T03:04:05Z".len());
    now.write_rfc3339(&mut date, 0);
    let date = http::HeaderValue::from_maybe_shared(Bytes::from(date)).map_err(bad)?;
    parts.headers.insert(X_BCE_DATE.clone(), date);
    let ts = parts
        .headers
        .get(&X_BCE_DATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let auth = sign(parts, access_key, secret_key, ts, 1800, &[]);
    let auth = http::HeaderValue::from_maybe_shared(Bytes::from(auth)).map_err(bad)?;
    parts.headers.insert(http::header::AUTHORIZATION, auth);
    Ok(())
}

const X_BCE_DATE: http::HeaderName = http::HeaderName::from_static("x-bce-date");

pub(crate) fn bad(message: impl Into<String>) -> Error {
    Error::BadBackendAnswer {
        message: message.into(),
    }
}

pub use crate::page::parse_list;

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
}

/// Turns a BOS error answer into the canonical error the caller should see. A refusal of
/// dragoman's own credentials is the operator's problem, not the caller's: it becomes an
/// unavailable backend, never the caller's signature error.
///
/// `upload_id` is the upload the request named (an abort's id, or a listing's upload-id
/// marker), so that the caller's error names it as the caller sent it.
pub fn parse_error(status: u16, body: &[u8], bucket: &str, upload_id: Option<&str>) -> Error {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let code = parsed
        .as_ref()
        .and_then(|b| b.code.clone())
        .unwrap_or_default();
    let message = parsed
        .and_then(|b| b.message)
        .unwrap_or_else(|| format!("BOS answered {status}"));
    match (status, code.as_str()) {
        (_, "NoSuchBucket") => Error::NoSuchBucket {
            bucket: bucket.to_owned(),
        },
        (_, "BucketAlreadyExists" | "BucketAlreadyOwnedByUser") => Error::BucketAlreadyExists {
            bucket: bucket.to_owned(),
        },
        (_, "BucketNotEmpty") => Error::BucketNotEmpty {
            bucket: bucket.to_owned(),
        },
        (_, "NoSuchUpload") => Error::NoSuchUpload {
            upload_id: upload_id.unwrap_or_default().to_owned(),
        },
        (_, "AccessDenied") => Error::AccessDenied { message },
        // BOS names no argument in its errors; a refused listing with an upload-id marker is
        // the marker's fault (the planner then resumes by emulation).
        (_, "InvalidArgument") => match upload_id {
            Some(id) if message.to_ascii_lowercase().contains("upload") => {
                Error::invalid_argument("uploadIdMarker", id, message)
            }
            _ => Error::invalid_argument("", "", message),
        },
        (
            _,
            "SignatureDoesNotMatch"
            | "InvalidAccessKeyId"
            | "RequestExpired"
            | "InvalidHTTPAuthHeader",
        ) => Error::BackendUnavailable {
            message: format!("BOS refused dragoman's credentials: {code}: {message}"),
        },
        (_, "SlowDown" | "RequestRateLimitExceeded") | (429, _) => Error::Throttled { message },
        (503, _) => Error::BackendUnavailable { message },
        // Any other server error: the backend failed, not dragoman (502, not 500).
        (500..=599, _) => bad(format!("BOS answered {status} {code}: {message}")),
        _ if code.is_empty() => bad(format!("BOS answered {status} without a BOS error body")),
        _ => bad(format!("BOS answered {status} {code}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify;
    use dragoman_model::{Entry, StorageClass};

    fn ep(virtual_hosted: bool) -> Endpoint {
        Endpoint {
            scheme: "http".into(),
            authority: "127.0.0.1:8080".into(),
            virtual_hosted,
        }
    }

    #[test]
    fn requests_are_built_and_signed_so_the_verifier_accepts_them() {
        let r = MarkerRequest {
            bucket: "mybucket".into(),
            prefix: "photos/2024/".into(),
            delimiter: Some("/".into()),
            key_marker: Some("photos/2024/a b+c.jpg".into()),
            upload_id_marker: None,
            max: 100,
        };
        let req = list_request(&ep(false), &r).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            req.uri().to_string(),
            "http://127.0.0.1:8080/mybucket?delimiter=%2F&keyMarker=photos%2F2024%2Fa%20b%2Bc.jpg&maxUploads=100&prefix=photos%2F2024%2F&uploads="
        );
        let now = Timestamp::from_secs(1_430_123_029);
        let signed = sign_request(req, "ak", "secret-key", now).unwrap_or_else(|e| panic!("{e}"));
        let (parts, _) = signed.into_parts();
        let secret = |ak: &str| (ak == "ak").then(|| "secret-key".to_owned());
        assert_eq!(verify(&parts, &secret, now), Ok(Some("ak".into())));
        let vreq = list_request(&ep(true), &r).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(vreq.headers()["host"], "mybucket.127.0.0.1:8080");
        assert_eq!(vreq.uri().path(), "/");
    }

    #[test]
    fn pages_are_read_with_either_upload_marker_name() {
        let body = br#"{"bucket":"b","isTruncated":true,"nextKeyMarker":"x/","nextUploadMarker":"u9",
            "commonPrefixes":[{"prefix":"x/"}],
            "uploads":[{"key":"a","uploadId":"u1","owner":{"id":"o","displayName":"alice"},"initiated":"2024-05-06T07:08:09Z","storageClass":"COLD"},
                       {"key":"z","uploadId":"u2","initiated":"2024-05-06T07:08:10Z"}]}"#;
        let p = parse_list(body).unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<&str> = p.entries.iter().map(Entry::key).collect();
        assert_eq!(keys, ["a", "x/", "z"]);
        assert!(p.truncated);
        assert_eq!(p.next_upload_id_marker.as_deref(), Some("u9"));
        match &p.entries[0] {
            Entry::Upload(u) => {
                assert_eq!(u.storage_class, Some(StorageClass::Cold));
                assert_eq!(u.initiated, Timestamp::from_secs(1_714_979_289));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_list(b"<xml/>"),
            Err(Error::BadBackendAnswer { .. })
        ));
        assert!(matches!(
            parse_list(br#"{"uploads":[{"key":"a","uploadId":"u","initiated":"soon"}]}"#),
            Err(Error::BadBackendAnswer { .. })
        ));
    }

    #[test]
    fn errors_translate() {
        let e = |s, b: &str| parse_error(s, b.as_bytes(), "bkt", Some("u-1"));
        assert_eq!(
            e(
                404,
                r#"{"code":"NoSuchBucket","message":"m","requestId":"r"}"#
            ),
            Error::NoSuchBucket {
                bucket: "bkt".into()
            }
        );
        assert!(matches!(
            e(
                400,
                r#"{"code":"SignatureDoesNotMatch","message":"m","requestId":"r"}"#
            ),
            Error::BackendUnavailable { .. }
        ));
        assert!(matches!(
            e(503, r#"{"code":"SlowDown","message":"m","requestId":"r"}"#),
            Error::Throttled { .. }
        ));
        assert!(matches!(
            e(
                500,
                r#"{"code":"InternalError","message":"m","requestId":"r"}"#
            ),
            Error::BadBackendAnswer { .. }
        ));
        assert!(matches!(
            e(502, "<html>bad gateway</html>"),
            Error::BadBackendAnswer { .. }
        ));
        assert!(matches!(e(418, "teapot"), Error::BadBackendAnswer { .. }));
        assert_eq!(
            e(
                404,
                r#"{"code":"NoSuchUpload","message":"m","requestId":"r"}"#
            ),
            Error::NoSuchUpload {
                upload_id: "u-1".into()
            }
        );
        assert_eq!(
            e(
                400,
                r#"{"code":"InvalidArgument","message":"Invalid uploadId marker","requestId":"r"}"#
            ),
            Error::invalid_argument("uploadIdMarker", "u-1", "Invalid uploadId marker")
        );
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PartsBody {
    #[serde(default)]
    parts: Vec<PartBody>,
    #[serde(default)]
    is_truncated: bool,
    next_part_number_marker: Option<u64>,
}

#[derive(Deserialize)]
struct PartBody {
    size: u64,
}

/// One page of a BOS ListParts answer: the parts' total size, and the next part-number marker
/// when the listing is truncated.
pub fn parse_parts(body: &[u8]) -> Result<(u64, Option<u64>), Error> {
    let p: PartsBody = serde_json::from_slice(body)
        .map_err(|e| bad(format!("BOS part listing is not a ListParts answer: {e}")))?;
    let total = p
        .parts
        .iter()
        .fold(0u64, |sum, part| sum.saturating_add(part.size));
    Ok((total, p.next_part_number_marker.filter(|_| p.is_truncated)))
}

#[cfg(test)]
mod parts_tests {
    use super::*;

    #[test]
    fn part_listings_add_up() {
        let body = br#"{"bucket":"b","parts":[{"partNumber":1,"size":100},{"partNumber":2,"size":23}],"isTruncated":true,"nextPartNumberMarker":2}"#;
        assert_eq!(parse_parts(body).ok(), Some((123, Some(2))));
        assert_eq!(
            parse_parts(br#"{"parts":[],"isTruncated":false}"#).ok(),
            Some((0, None))
        );
        assert!(parse_parts(b"<html/>").is_err());
    }
}
