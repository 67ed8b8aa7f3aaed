//! BOS JSON responses and errors (spec/bos.md §2, §3).

use std::borrow::Cow;

use bytes::Bytes;
use dragoman_model::{
    Bucket, Cursor, Entry, Error, ListUploads, Operation, Outcome, RequestMeta, UploadsPage,
};
use dragoman_wire::json::write_str;
use http::{HeaderName, HeaderValue, Response, StatusCode, header};
use serde::Serialize;

// Made once: a `&str` given to the response builder is parsed and copied on every answer.
const JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");
const REQUEST_ID: HeaderName = HeaderName::from_static("x-bce-request-id");
const DEBUG_ID: HeaderName = HeaderName::from_static("x-bce-debug-id");
const SERVER: HeaderValue = HeaderValue::from_static("BceBos");

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Owner<'a> {
    id: &'a str,
    display_name: &'a str,
}

/// A listing's four markers: where it started (`keyMarker`, `uploadIdMarker`) and where the
/// next page starts (`nextKeyMarker`, `nextUploadIdMarker`).
struct Markers<'a> {
    key: &'a str,
    upload_id: Cow<'a, str>,
    next_key: &'a str,
    next_upload_id: Cow<'a, str>,
}

/// `nextKeyMarker` names the last entry, a common prefix included, so that the SDKs'
/// keyMarker-only iteration always advances.
fn markers<'a>(q: &'a ListUploads, page: &'a UploadsPage) -> Markers<'a> {
    use dragoman_model::upload_id_marker as marker;
    let (key, upload_id) = match &q.after {
        None => ("", Cow::Borrowed("")),
        Some(Cursor::Upload {
            key,
            upload_id,
            initiated,
            next_upload,
        }) => (
            key.as_str(),
            marker(upload_id, *initiated, next_upload.as_deref()),
        ),
        Some(c) => (c.key(), Cow::Borrowed("")),
    };
    // The upload-id marker keeps its place if the upload is aborted before the next page.
    let (next_key, next_upload_id) = match page.entries.last() {
        Some(Entry::Upload(u)) => (
            u.key.as_str(),
            marker(&u.upload_id, Some(u.initiated), page.next_upload()),
        ),
        Some(Entry::Prefix(p)) => (p.as_str(), Cow::Borrowed("")),
        None => ("", Cow::Borrowed("")),
    };
    Markers {
        key,
        upload_id,
        next_key,
        next_upload_id,
    }
}

/// The listing body.
pub fn list_uploads_json(q: &ListUploads, page: &UploadsPage) -> Vec<u8> {
    let m = markers(q, page);
    // Written by hand in the order and shape of the documented example (spec/bos.md §2);
    // `writes_what_the_serde_model_writes` holds it to the serde model it replaced, which
    // spent a third of a BOS-to-BOS answer of 1000 uploads escaping strings byte by byte.
    let mut out = String::with_capacity(256 + page.entries.len() * 256);
    let field = |out: &mut String, name: &str, value: &str| {
        out.push_str(name);
        write_str(out, value);
    };
    field(&mut out, r#"{"bucket":"#, &q.bucket);
    field(&mut out, r#","keyMarker":"#, m.key);
    field(&mut out, r#","uploadIdMarker":"#, &m.upload_id);
    field(&mut out, r#","prefix":"#, &q.prefix);
    field(
        &mut out,
        r#","delimiter":"#,
        q.delimiter().unwrap_or_default(),
    );
    out.push_str(r#","maxUploads":"#);
    out.push_str(&q.max.to_string());
    out.push_str(if page.truncated {
        r#","isTruncated":true"#
    } else {
        r#","isTruncated":false"#
    });
    field(&mut out, r#","nextKeyMarker":"#, m.next_key);
    field(&mut out, r#","nextUploadIdMarker":"#, &m.next_upload_id);
    out.push_str(r#","commonPrefixes":["#);
    for (i, prefix) in page.prefixes().enumerate() {
        let sep = if i == 0 {
            r#"{"prefix":"#
        } else {
            r#",{"prefix":"#
        };
        field(&mut out, sep, prefix);
        out.push('}');
    }
    out.push_str(r#"],"uploads":["#);
    for (i, u) in page.uploads().enumerate() {
        field(
            &mut out,
            if i == 0 { r#"{"key":"# } else { r#",{"key":"# },
            &u.key,
        );
        field(&mut out, r#","uploadId":"#, &u.upload_id);
        if let Some(who) = u.owner.as_deref() {
            field(
                &mut out,
                r#","owner":{"id":"#,
                who.id.as_deref().unwrap_or_default(),
            );
            field(
                &mut out,
                r#","displayName":"#,
                who.display_name.as_deref().unwrap_or_default(),
            );
            out.push('}');
        }
        out.push_str(r#","initiated":""#);
        u.initiated.write_rfc3339(&mut out, 0);
        out.push('"');
        if let Some(class) = &u.storage_class {
            field(&mut out, r#","storageClass":"#, class.to_bos());
        }
        out.push('}');
    }
    out.push_str("]}");
    out.into_bytes()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InitiateJson<'a> {
    bucket: &'a str,
    key: &'a str,
    upload_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BucketJson<'a> {
    name: &'a str,
    location: &'a str,
    creation_date: String,
}

#[derive(Serialize)]
struct BucketsJson<'a> {
    owner: Owner<'a>,
    buckets: Vec<BucketJson<'a>>,
}

fn builder(status: StatusCode, meta: &RequestMeta) -> http::response::Builder {
    Response::builder()
        .status(status)
        .header(REQUEST_ID, meta.request_id.as_str())
        .header(DEBUG_ID, meta.debug_id.as_str())
        .header(header::SERVER, SERVER)
}

fn json_response(status: StatusCode, meta: &RequestMeta, body: Vec<u8>) -> Response<Bytes> {
    builder(status, meta)
        .header(header::CONTENT_TYPE, JSON)
        .body(Bytes::from(body))
        .unwrap_or_else(|_| dragoman_dialect::unbuildable())
}

fn empty(status: StatusCode, meta: &RequestMeta) -> Response<Bytes> {
    builder(status, meta)
        .body(Bytes::new())
        .unwrap_or_else(|_| dragoman_dialect::unbuildable())
}

/// Writes an outcome as the BOS response to `op`. `region` is the `location` of buckets.
pub fn encode(
    op: &Operation,
    outcome: &Outcome,
    meta: &RequestMeta,
    region: &str,
) -> Response<Bytes> {
    let json = |body: Vec<u8>| json_response(StatusCode::OK, meta, body);
    if let Some((status, location)) = dragoman_wire::bodiless(outcome) {
        let mut r = empty(status, meta);
        if let Some(v) = location.and_then(|l| http::HeaderValue::from_str(&l).ok()) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        return r;
    }
    match (op, outcome) {
        (Operation::ListUploads(q), Outcome::Page(page)) => {
            json_response(StatusCode::OK, meta, list_uploads_json(q, page))
        }
        (_, Outcome::Created { bucket, upload }) => json(to_vec(&InitiateJson {
            bucket,
            key: &upload.key,
            upload_id: &upload.upload_id,
        })),
        (_, Outcome::Buckets(buckets)) => json(to_vec(&BucketsJson {
            owner: Owner {
                id: "",
                display_name: "",
            },
            buckets: buckets
                .iter()
                .map(|b: &Bucket| BucketJson {
                    name: &b.name,
                    location: region,
                    creation_date: b.created.to_secs_z(),
                })
                .collect(),
        })),
        (op, _) => encode_error(
            &Error::internal(format!("{} got an outcome of another operation", op.name())),
            meta,
            false,
        ),
    }
}

/// These bodies are plain structs of strings and numbers, which serde_json always serializes.
fn to_vec<T: Serialize>(body: &T) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_default()
}

/// The BOS status and code of each canonical error (spec/bos.md §3.3).
pub(crate) fn status_and_code(err: &Error) -> (StatusCode, &'static str) {
    use StatusCode as S;
    match err {
        Error::NoSuchBucket { .. } => (S::NOT_FOUND, "NoSuchBucket"),
        Error::NoSuchUpload { .. } => (S::NOT_FOUND, "NoSuchUpload"),
        Error::BucketAlreadyExists { .. } => (S::CONFLICT, "BucketAlreadyExists"),
        Error::BucketNotEmpty { .. } => (S::CONFLICT, "BucketNotEmpty"),
        Error::InvalidBucketName { .. } => (S::BAD_REQUEST, "InvalidBucketName"),
        Error::InvalidArgument { .. } => (S::BAD_REQUEST, "InvalidArgument"),
        Error::InvalidRequest { .. } | Error::HeadersTooLarge => {
            (S::BAD_REQUEST, "InvalidHTTPRequest")
        }
        Error::InvalidUri { .. } => (S::BAD_REQUEST, "InvalidURI"),
        Error::KeyTooLong { .. } => (S::BAD_REQUEST, "InvalidObjectName"),
        Error::TlsRequired => (S::FORBIDDEN, "AccessDenied"),
        Error::ContentHashMismatch { .. } => (S::BAD_REQUEST, "BadDigest"),
        Error::BodyTooLarge => (S::BAD_REQUEST, "EntityTooLarge"),
        Error::RequestTimeout => (S::BAD_REQUEST, "RequestTimeout"),
        Error::AccessDenied { .. } | Error::Unauthenticated { .. } => {
            (S::FORBIDDEN, "AccessDenied")
        }
        Error::SignatureDoesNotMatch(_) => (S::BAD_REQUEST, "SignatureDoesNotMatch"),
        Error::UnknownAccessKey { .. } => (S::FORBIDDEN, "InvalidAccessKeyId"),
        Error::RequestTimeTooSkewed { .. } | Error::RequestExpired { .. } => {
            (S::BAD_REQUEST, "RequestExpired")
        }
        Error::MalformedAuthorization { .. } => (S::BAD_REQUEST, "InvalidHTTPAuthHeader"),
        Error::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
        Error::NotImplemented { .. } => (S::NOT_IMPLEMENTED, "NotImplemented"),
        Error::Throttled { .. } => (S::SERVICE_UNAVAILABLE, "SlowDown"),
        Error::TooManyAttempts { .. } => (S::TOO_MANY_REQUESTS, "RequestRateLimitExceeded"),
        Error::BackendUnavailable { .. } => (S::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
        Error::BackendTimeout => (S::GATEWAY_TIMEOUT, "GatewayTimeout"),
        Error::BadBackendAnswer { .. } => (S::BAD_GATEWAY, "BadGateway"),
        Error::Internal { .. } => (S::INTERNAL_SERVER_ERROR, "InternalError"),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorJson<'a> {
    code: &'a str,
    message: &'a str,
    request_id: &'a str,
}

/// Renders a canonical error: `{"code","message","requestId"}`, all three always (the Python
/// SDK fails with a bare `KeyError` without any of them). A HEAD answer has no body.
pub fn encode_error(err: &Error, meta: &RequestMeta, head: bool) -> Response<Bytes> {
    let (status, code) = status_and_code(err);
    if head {
        return empty(status, meta);
    }
    let message = err.to_string();
    let body = ErrorJson {
        code,
        message: &message,
        request_id: &meta.request_id,
    };
    let mut resp = json_response(status, meta, serde_json::to_vec(&body).unwrap_or_default());
    if let Some(secs) = err.retry_after() {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragoman_model::{Identity, Upload};

    impl<'a> Owner<'a> {
        fn of(who: Option<&'a Identity>) -> Option<Self> {
            let who = who?;
            Some(Self {
                id: who.id.as_deref().unwrap_or_default(),
                display_name: who.display_name.as_deref().unwrap_or_default(),
            })
        }
    }

    // The serde model the listing body was written with before, kept as the oracle of the
    // hand-written one.
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct UploadJson<'a> {
        key: &'a str,
        upload_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        owner: Option<Owner<'a>>,
        initiated: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        storage_class: Option<&'a str>,
    }

    #[derive(Serialize)]
    struct PrefixJson<'a> {
        prefix: &'a str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ListJson<'a> {
        bucket: &'a str,
        key_marker: &'a str,
        upload_id_marker: &'a str,
        prefix: &'a str,
        delimiter: &'a str,
        max_uploads: u16,
        is_truncated: bool,
        next_key_marker: &'a str,
        next_upload_id_marker: &'a str,
        common_prefixes: Vec<PrefixJson<'a>>,
        uploads: Vec<UploadJson<'a>>,
    }

    fn upload_json(u: &Upload) -> UploadJson<'_> {
        UploadJson {
            key: &u.key,
            upload_id: &u.upload_id,
            owner: Owner::of(u.owner.as_deref()),
            initiated: u.initiated.to_secs_z(),
            storage_class: u.storage_class.as_ref().map(|s| s.to_bos()),
        }
    }

    use dragoman_model::{StorageClass, Timestamp};
    use serde_json::{Value, json};

    fn meta() -> RequestMeta {
        crate::request_meta(0x4db2b34d654d4d8ab49b3049ca786409)
    }

    fn up(key: &str, id: &str, class: StorageClass) -> Upload {
        Upload {
            key: key.into(),
            upload_id: id.into(),
            initiated: Timestamp::from_nanos(1_714_979_289_123_000_000),
            owner: Some(Identity::shared("75aa", "alice")),
            initiator: None,
            storage_class: Some(class),
            checksum_algorithm: None,
            checksum_type: None,
            state: Default::default(),
        }
    }

    /// The body as the serde model writes it.
    fn serde_body(q: &ListUploads, page: &UploadsPage) -> Vec<u8> {
        let m = markers(q, page);
        serde_json::to_vec(&ListJson {
            bucket: &q.bucket,
            key_marker: m.key,
            upload_id_marker: &m.upload_id,
            prefix: &q.prefix,
            delimiter: q.delimiter().unwrap_or_default(),
            max_uploads: q.max,
            is_truncated: page.truncated,
            next_key_marker: m.next_key,
            next_upload_id_marker: &m.next_upload_id,
            common_prefixes: page
                .prefixes()
                .map(|prefix| PrefixJson { prefix })
                .collect(),
            uploads: page.uploads().map(upload_json).collect(),
        })
        .unwrap_or_default()
    }

    proptest::proptest! {
        /// Byte for byte what the serde model wrote: every field, escapes, owners with and
        /// without names or none, storage classes or none, prefixes, markers, truncation.
        #[test]
        fn writes_what_the_serde_model_writes(
            uploads in proptest::collection::vec(
                (
                    "[a-z/\"\\\\\u{1}\t é😀]{0,12}",
                    "[a-f0-9]{0,12}",
                    0i64..4_102_444_800,
                    proptest::option::of((proptest::option::of("[a-z\"]{0,4}"), proptest::option::of("[A-Z\\\\]{0,4}"))),
                    proptest::option::of(proptest::sample::select(vec!["STANDARD", "COLD", "ARCHIVE", "GLACIER"])),
                ),
                0..6,
            ),
            prefixes in proptest::collection::vec("[a-z\"]{0,4}/", 0..3),
            after in proptest::option::of(("[a-z\"]{0,6}", proptest::option::of("[a-f0-9]{1,8}"))),
            truncated in proptest::bool::ANY,
            (bucket, prefix, max) in ("[a-z-]{3,8}", "[a-z\"/]{0,4}", 1u16..=1000),
        ) {
            let uploads: Vec<Entry> = uploads
                .into_iter()
                .map(|(key, id, secs, owner, class)| {
                    Entry::Upload(Upload {
                        key,
                        upload_id: id,
                        initiated: Timestamp::from_secs(secs),
                        owner: owner.map(|(id, name)| {
                            std::sync::Arc::new(Identity {
                                id: id.map(Into::into),
                                display_name: name.map(Into::into),
                            })
                        }),
                        initiator: None,
                        storage_class: class.map(StorageClass::from_bos),
                        checksum_algorithm: None,
                        checksum_type: None,
                        state: Default::default(),
                    })
                })
                .collect();
            let entries = dragoman_model::interleave(uploads, prefixes.into_iter().map(Entry::Prefix).collect());
            let q = ListUploads {
                prefix,
                max,
                delimiter: Some("/".into()),
                after: after.map(|(key, id)| match id {
                    Some(upload_id) => Cursor::Upload { key, upload_id, initiated: None, next_upload: None },
                    None => Cursor::Key(key),
                }),
                ..ListUploads::bucket(&bucket)
            };
            let page = UploadsPage::from_entries(entries, truncated);
            let (ours, theirs) = (list_uploads_json(&q, &page), serde_body(&q, &page));
            proptest::prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
        }
    }

    fn parse(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap_or(Value::Null)
    }

    #[test]
    fn listing_has_the_documented_fields_and_types() {
        let q = ListUploads {
            prefix: "photos/".into(),
            delimiter: Some("/".into()),
            max: 2,
            whole_keys: true,
            ..ListUploads::bucket("mybucket")
        };
        let page = UploadsPage::from_entries(
            vec![
                Entry::Upload(up("photos/a.bin", "a44c", StorageClass::Standard)),
                Entry::Prefix("photos/x/".into()),
            ],
            true,
        );
        let v = parse(&list_uploads_json(&q, &page));
        assert_eq!(
            v,
            json!({
                "bucket": "mybucket", "keyMarker": "", "uploadIdMarker": "", "prefix": "photos/",
                "delimiter": "/", "maxUploads": 2, "isTruncated": true,
                "nextKeyMarker": "photos/x/", "nextUploadIdMarker": "",
                "commonPrefixes": [{"prefix": "photos/x/"}],
                "uploads": [{"key": "photos/a.bin", "uploadId": "a44c",
                    "owner": {"id": "75aa", "displayName": "alice"},
                    "initiated": "2024-05-06T07:08:09Z", "storageClass": "STANDARD"}]
            })
        );
    }

    #[test]
    fn markers_echo_and_next_upload_id() {
        let q = ListUploads {
            after: Some(Cursor::Upload {
                key: "k".into(),
                upload_id: "u0".into(),
                initiated: None,
                next_upload: None,
            }),
            ..ListUploads::bucket("b")
        };
        let page = UploadsPage::from_entries(
            vec![Entry::Upload(up("k", "u1", StorageClass::Cold))],
            false,
        );
        let v = parse(&list_uploads_json(&q, &page));
        assert_eq!(
            (v["keyMarker"].as_str(), v["uploadIdMarker"].as_str()),
            (Some("k"), Some("u0"))
        );
        assert_eq!(
            (
                v["nextKeyMarker"].as_str(),
                v["nextUploadIdMarker"].as_str()
            ),
            // u1 is not an id dragoman issued: the marker carries its time.
            (Some("k"), Some("u1~t17ccd493bd540ec0"))
        );
        assert_eq!(v["uploads"][0]["storageClass"], "COLD");
        assert_eq!(v["isTruncated"], false);
    }

    #[test]
    fn errors_carry_code_message_and_request_id() {
        let r = encode_error(
            &Error::NoSuchBucket {
                bucket: "nb".into(),
            },
            &meta(),
            false,
        );
        assert_eq!(r.status(), 404);
        assert_eq!(
            r.headers()["x-bce-request-id"],
            "4db2b34d-654d-4d8a-b49b-3049ca786409"
        );
        assert_eq!(r.headers()["server"], "BceBos");
        assert!(r.headers().contains_key("x-bce-debug-id"));
        assert_eq!(r.headers()["content-type"], JSON);
        let v = parse(r.body());
        assert_eq!(v["code"], "NoSuchBucket");
        assert_eq!(v["requestId"], "4db2b34d-654d-4d8a-b49b-3049ca786409");
        assert!(v["message"].is_string());
        let statuses: Vec<u16> = [
            Error::RequestExpired {
                message: "x".into(),
            },
            Error::SignatureDoesNotMatch(Box::new(dragoman_model::SignatureMismatch {
                access_key: "a".into(),
                string_to_sign: "s".into(),
                signature_provided: "p".into(),
                canonical_request: "c".into(),
            })),
            Error::UnknownAccessKey {
                access_key: "a".into(),
            },
            Error::BackendTimeout,
        ]
        .iter()
        .map(|e| encode_error(e, &meta(), false).status().as_u16())
        .collect();
        assert_eq!(statuses, [400, 400, 403, 504]);
        assert!(
            encode_error(
                &Error::NoSuchBucket {
                    bucket: "nb".into()
                },
                &meta(),
                true
            )
            .body()
            .is_empty()
        );
    }
}
