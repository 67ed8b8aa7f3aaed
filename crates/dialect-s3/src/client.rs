//! The client side: what dragoman sends to an S3 service and how it reads the answers.

use std::borrow::Cow;
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity as AwsIdentity;
use bytes::Bytes;
use dragoman_model::{Error, Timestamp};
use dragoman_wire::{MarkerNames, MarkerRequest};
use http::Request;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Where an S3 service listens and how buckets are addressed on it.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub scheme: String,
    pub authority: String,
    /// `<bucket>.<authority>` rather than `/<bucket>`.
    pub virtual_hosted: bool,
    pub region: String,
}

/// S3's parameter names.
const NAMES: MarkerNames = MarkerNames {
    prefix: "prefix",
    delimiter: "delimiter",
    key_marker: "key-marker",
    upload_id_marker: "upload-id-marker",
    max: "max-uploads",
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
#[serde(rename_all = "PascalCase")]
struct InitiateXml {
    upload_id: String,
}

/// Reads an `InitiateMultipartUploadResult`: the new upload's id.
pub fn parse_initiate(body: &[u8]) -> Result<String, Error> {
    let text = std::str::from_utf8(body).map_err(|_| bad("S3 answer is not UTF-8"))?;
    if root_element(text) != Some("InitiateMultipartUploadResult") {
        return Err(bad(
            "S3 answered CreateMultipartUpload with another document",
        ));
    }
    let doc: InitiateXml =
        quick_xml::de::from_str(text).map_err(|e| bad(format!("S3 initiate answer: {e}")))?;
    if doc.upload_id.is_empty() {
        return Err(bad(
            "S3 answered CreateMultipartUpload without an upload id",
        ));
    }
    Ok(doc.upload_id)
}

/// The body of a CreateBucket for a region other than us-east-1 (which takes none).
pub fn create_bucket_body(region: &str) -> Bytes {
    if region == "us-east-1" {
        return Bytes::new();
    }
    Bytes::from(format!(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BucketsXml {
    buckets: Option<BucketListXml>,
}

#[derive(Deserialize)]
struct BucketListXml {
    #[serde(rename = "Bucket", default)]
    bucket: Vec<BucketXml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BucketXml {
    name: String,
    creation_date: Option<String>,
}

/// Reads a `ListAllMyBucketsResult`.
pub fn parse_buckets(body: &[u8]) -> Result<Vec<dragoman_model::Bucket>, Error> {
    let text = dragoman_wire::page_text(body).ok_or_else(|| bad("S3 bucket list is not UTF-8"))?;
    if root_element(text) != Some("ListAllMyBucketsResult") {
        return Err(bad("S3 answered a bucket listing with another document"));
    }
    let doc: BucketsXml =
        quick_xml::de::from_str(text).map_err(|e| bad(format!("S3 bucket list: {e}")))?;
    Ok(doc
        .buckets
        .map(|b| b.bucket)
        .unwrap_or_default()
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

use crate::canonical::EMPTY_SHA256;

/// Signs a request dragoman built with SigV4 (S3's settings: single URI encoding, no path
/// normalisation, `x-amz-content-sha256`), by [`crate::canonical::sign_own`], which caches the
/// signing key.
pub fn sign_request(
    req: Request<Bytes>,
    region: &str,
    access_key: &str,
    secret_key: &str,
    now: Timestamp,
) -> Result<Request<Bytes>, Error> {
    let (mut parts, body) = req.into_parts();
    // Nearly every request dragoman builds has no body, and the digest of none is a constant.
    let digest = if body.is_empty() {
        Cow::Borrowed(EMPTY_SHA256)
    } else {
        Cow::Owned(const_hex::encode(Sha256::digest(&body)))
    };
    crate::canonical::sign_own(&mut parts, &digest, region, access_key, secret_key, now)?;
    Ok(Request::from_parts(parts, body))
}

/// Signs a forwarded request's head (the `aws-sigv4` crate: the headers are the caller's) for
/// a body that streams: `payload_hash` is its digest in hex, or one of S3's literal forms
/// (`UNSIGNED-PAYLOAD`, `STREAMING-UNSIGNED-PAYLOAD-TRAILER`). Every header present is signed.
pub fn sign_parts(
    parts: &mut http::request::Parts,
    payload_hash: &str,
    region: &str,
    access_key: &str,
    secret_key: &str,
    now: Timestamp,
) -> Result<(), Error> {
    let failed =
        |e: &dyn std::fmt::Display| Error::internal(format!("cannot sign an S3 request: {e}"));
    let identity: AwsIdentity =
        Credentials::new(access_key, secret_key, None, None, "dragoman").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let time = UNIX_EPOCH + Duration::from_secs(u64::try_from(now.as_secs()).unwrap_or(0));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let uri = parts.uri.to_string();
    // Values that are not visible ASCII cannot be signed by aws-sigv4; S3 ignores unsigned
    // headers other than `x-amz-*`, whose values the SDKs keep to ASCII.
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let signable = SignableRequest::new(
        parts.method.as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Precomputed(payload_hash.to_owned()),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    for (name, value) in instructions.headers() {
        let value = http::HeaderValue::from_str(value).map_err(|e| failed(&e))?;
        let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| failed(&e))?;
        parts.headers.insert(name, value);
    }
    Ok(())
}

pub(crate) fn bad(message: impl Into<String>) -> Error {
    Error::BadBackendAnswer {
        message: message.into(),
    }
}

/// The name of the document's root element.
fn root_element(text: &str) -> Option<&str> {
    let mut rest = text;
    loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
        return Some(&rest[..end]);
    }
}

pub use crate::page::{parse_list, parse_parts};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorXml {
    code: Option<String>,
    message: Option<String>,
    argument_name: Option<String>,
    argument_value: Option<String>,
}

/// Turns an S3 error answer into the canonical error the caller should see. Statuses survive,
/// so retryable stays retryable; a refusal of dragoman's own credentials is the operator's
/// problem, an unavailable backend, never the caller's signature error.
pub fn parse_error(status: u16, body: &[u8], bucket: &str, upload_id: Option<&str>) -> Error {
    let parsed: Option<ErrorXml> = std::str::from_utf8(body)
        .ok()
        .and_then(|t| quick_xml::de::from_str(t).ok());
    let (code, message, arg) = match parsed {
        Some(e) => (
            e.code.unwrap_or_default(),
            e.message.unwrap_or_default(),
            (e.argument_name, e.argument_value),
        ),
        None => (String::new(), format!("S3 answered {status}"), (None, None)),
    };
    match code.as_str() {
        "NoSuchBucket" => Error::NoSuchBucket {
            bucket: bucket.to_owned(),
        },
        "BucketAlreadyExists" | "BucketAlreadyOwnedByYou" => Error::BucketAlreadyExists {
            bucket: bucket.to_owned(),
        },
        "BucketNotEmpty" => Error::BucketNotEmpty {
            bucket: bucket.to_owned(),
        },
        "NoSuchUpload" => Error::NoSuchUpload {
            upload_id: upload_id.unwrap_or_default().to_owned(),
        },
        "AccessDenied" | "AllAccessDisabled" => Error::AccessDenied { message },
        "InvalidArgument" => Error::InvalidArgument {
            name: arg.0.unwrap_or_default(),
            value: arg.1.unwrap_or_default(),
            message,
        },
        "SignatureDoesNotMatch"
        | "InvalidAccessKeyId"
        | "RequestTimeTooSkewed"
        | "AuthorizationHeaderMalformed"
        | "ExpiredToken" => Error::BackendUnavailable {
            message: format!("S3 refused dragoman's credentials: {code}: {message}"),
        },
        "SlowDown" | "Throttling" | "RequestLimitExceeded" => Error::Throttled { message },
        _ => match status {
            503 => Error::BackendUnavailable {
                message: format!("S3: {code} {message}"),
            },
            // Any other server error: the backend failed, not dragoman (502, not 500).
            500..=599 => Error::BadBackendAnswer {
                message: format!("S3 answered {status} {code}: {message}"),
            },
            _ if code.is_empty() => {
                bad(format!("S3 answered {status} without an S3 error document"))
            }
            _ => bad(format!("S3 answered {status} {code}: {message}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_digest_is_that_of_no_bytes() {
        assert_eq!(EMPTY_SHA256, const_hex::encode(Sha256::digest(b"")));
    }

    fn ep() -> Endpoint {
        Endpoint {
            scheme: "http".into(),
            authority: "127.0.0.1:9000".into(),
            virtual_hosted: false,
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn requests_are_signed_so_dragomans_verifier_accepts_them() {
        let r = MarkerRequest {
            bucket: "mpu-test".into(),
            prefix: "a b/".into(),
            key_marker: Some("k ü".into()),
            upload_id_marker: Some("u1".into()),
            max: 5,
            ..Default::default()
        };
        let now = Timestamp::from_secs(1_767_323_045);
        let req = sign_request(
            list_request(&ep(), &r).unwrap_or_else(|e| panic!("{e}")),
            "us-east-1",
            "AK",
            "SECRET",
            now,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let (parts, body) = req.into_parts();
        let config = crate::S3Config {
            region: "us-east-1".into(),
            domains: vec![],
        };
        let secret = |k: &str| (k == "AK").then(|| "SECRET".to_owned());
        assert_eq!(
            crate::verify(&config, &parts, &body, &secret, now),
            Ok(Some("AK".into()))
        );
        let op = crate::decode(&config, &parts).unwrap_or_else(|e| panic!("{e}"));
        let dragoman_model::Operation::ListUploads(q) = op else {
            panic!("{op:?}")
        };
        assert_eq!((q.prefix.as_str(), q.max), ("a b/", 5));
    }

    #[test]
    fn pages_and_errors_are_read() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
<NextKeyMarker>z</NextKeyMarker><NextUploadIdMarker>U2</NextUploadIdMarker><MaxUploads>3</MaxUploads><IsTruncated>true</IsTruncated>
<Upload><Key>a &amp; b</Key><UploadId>U1</UploadId><Initiator><ID>i</ID><DisplayName>alice</DisplayName></Initiator><Owner><ID>o</ID></Owner><StorageClass>STANDARD</StorageClass><Initiated>2026-01-02T03:04:05.000Z</Initiated></Upload>
<Upload><Key>z</Key><UploadId>U2</UploadId><StorageClass>GLACIER</StorageClass><Initiated>2026-01-02T03:04:06.000Z</Initiated></Upload>
<CommonPrefixes><Prefix>m/</Prefix></CommonPrefixes></ListMultipartUploadsResult>"#;
        let p = parse_list(xml).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p.entries
                .iter()
                .map(dragoman_model::Entry::key)
                .collect::<Vec<_>>(),
            ["a & b", "m/", "z"]
        );
        assert!(p.truncated);
        assert_eq!(p.next_upload_id_marker.as_deref(), Some("U2"));
        assert!(matches!(
            parse_list(b"<html/>"),
            Err(Error::BadBackendAnswer { .. })
        ));
        let e = |s, b: &str| parse_error(s, b.as_bytes(), "bkt", None);
        assert_eq!(
            e(
                404,
                "<Error><Code>NoSuchBucket</Code><Message>m</Message></Error>"
            ),
            Error::NoSuchBucket {
                bucket: "bkt".into()
            }
        );
        assert!(matches!(
            e(
                503,
                "<Error><Code>SlowDown</Code><Message>m</Message></Error>"
            ),
            Error::Throttled { .. }
        ));
        assert!(matches!(
            e(
                403,
                "<Error><Code>SignatureDoesNotMatch</Code><Message>m</Message></Error>"
            ),
            Error::BackendUnavailable { .. }
        ));
        assert!(matches!(
            e(
                400,
                "<Error><Code>InvalidArgument</Code><Message>Invalid uploadId marker</Message><ArgumentName>upload-id-marker</ArgumentName><ArgumentValue>x</ArgumentValue></Error>"
            ),
            Error::InvalidArgument { .. }
        ));
        assert!(matches!(e(502, "<html>"), Error::BadBackendAnswer { .. }));
    }

    #[test]
    fn bucket_lists_are_read_and_other_documents_refused() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>o</ID></Owner><Buckets><Bucket><Name>a</Name><CreationDate>2019-12-11T23:32:47.000Z</CreationDate></Bucket><Bucket><Name>b</Name><CreationDate>2020-01-01T00:00:00Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>"#;
        let buckets = parse_buckets(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            buckets.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(buckets[1].created.to_secs_z(), "2020-01-01T00:00:00Z");
        let empty = br#"<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>"#;
        assert_eq!(parse_buckets(empty), Ok(vec![]));
        assert!(parse_buckets(b"<html>no</html>").is_err());
    }
}
