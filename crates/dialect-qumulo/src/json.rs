//! Qumulo JSON responses and errors (spec/qumulo.md §0, §2, §5).

use bytes::Bytes;
use dragoman_model::{
    Error, Identity, ListUploads, Operation, Outcome, RequestMeta, Timestamp, Upload, UploadsPage,
};
use http::{HeaderName, HeaderValue, Response, StatusCode, header};
use serde::Serialize;

use crate::QumuloConfig;
use crate::route::paging_token;

/// Appends `s` as a JSON string. Most keys need no escaping, and a branch-free scan finds that
/// in one vectorised pass; serde_json's escaper, table-driven byte by byte, was a third of a
/// 1000-upload page's render time (BENCHMARKS.md).
fn push_str_json(out: &mut String, s: &str) {
    out.push('"');
    let needs_escape = s.bytes().fold(false, |acc, b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if needs_escape {
        // serde_json escapes exactly as JSON requires; its output of a string is always valid.
        let quoted = serde_json::to_string(s).unwrap_or_default();
        out.push_str(
            quoted
                .get(1..quoted.len().saturating_sub(1))
                .unwrap_or_default(),
        );
    } else {
        out.push_str(s);
    }
    out.push('"');
}

fn push_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_str_json(out, s),
        None => out.push_str("null"),
    }
}

/// Qumulo's `api_identity`: all six keys always, `null` where unknown. Only an id that has
/// Qumulo's own form (a decimal 64-bit `auth_id`) is written as one; a name stays a name.
fn push_identity(out: &mut String, who: Option<&Identity>) {
    let id = who
        .and_then(|w| w.id.as_deref())
        .filter(|i| i.parse::<u64>().is_ok());
    out.push_str(r#"{"domain":null,"auth_id":"#);
    push_opt_str(out, id);
    out.push_str(r#","uid":null,"gid":null,"sid":null,"name":"#);
    push_opt_str(out, who.and_then(|w| w.display_name.as_deref()));
    out.push('}');
}

/// A block count: a decimal string on the wire, `null` when unknown.
fn push_count(out: &mut String, n: Option<u64>) {
    match n {
        Some(n) => {
            out.push('"');
            out.push_str(&n.to_string());
            out.push('"');
        }
        None => out.push_str("null"),
    }
}

fn push_bool(out: &mut String, b: Option<bool>) {
    out.push_str(match b {
        Some(true) => "true",
        Some(false) => "false",
        None => "null",
    });
}

fn push_time(out: &mut String, t: Option<Timestamp>) {
    match t {
        Some(t) => {
            out.push('"');
            t.write_rfc3339(out, 9);
            out.push('"');
        }
        None => out.push_str("null"),
    }
}

fn push_upload(out: &mut String, bucket: &str, u: &Upload) {
    let s = &u.state;
    out.push_str(r#"{"id":"#);
    push_str_json(out, &u.upload_id);
    out.push_str(r#","key":"#);
    push_str_json(out, &u.key);
    out.push_str(r#","bucket":"#);
    push_str_json(out, bucket);
    out.push_str(r#","initiator":"#);
    push_identity(out, u.initiator.as_deref());
    out.push_str(r#","initiated":"#);
    push_time(out, Some(u.initiated));
    out.push_str(r#","last_modified":"#);
    push_time(out, s.last_modified);
    out.push_str(r#","total_blocks":"#);
    push_count(out, s.total_blocks);
    out.push_str(r#","datablocks":"#);
    push_count(out, s.datablocks);
    out.push_str(r#","metablocks":"#);
    push_count(out, s.metablocks);
    out.push_str(r#","completing":"#);
    push_bool(out, s.completing);
    out.push_str(r#","system_initiated":"#);
    push_bool(out, s.system_initiated);
    out.push('}');
}

/// The listing body, written by hand (see `push_str_json` for why). A truncated page names the
/// next page as a relative URI repeating the endpoint with a signed, percent-encoded `after`
/// token and the `limit`; the last page says `null`. Qumulo has no common prefixes: its callers
/// send no delimiter.
pub fn list_uploads_json(config: &QumuloConfig, q: &ListUploads, page: &UploadsPage) -> Vec<u8> {
    let mut out = String::with_capacity(64 + page.entries.len() * 512);
    out.push_str(r#"{"uploads":["#);
    for (i, u) in page.uploads().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_upload(&mut out, &q.bucket, u);
    }
    out.push_str(r#"],"paging":{"next":"#);
    match (&page.next, page.truncated) {
        (Some(cursor), true) => {
            let next = format!(
                "/v1/s3/buckets/{}/uploads/?after={}&limit={}",
                dragoman_wire::uri_encode(q.bucket.as_bytes(), false),
                dragoman_wire::uri_encode(
                    paging_token(config, &q.bucket, cursor).as_bytes(),
                    false
                ),
                q.max
            );
            push_str_json(&mut out, &next);
        }
        _ => out.push_str("null"),
    }
    out.push_str("}}");
    out.into_bytes()
}

#[derive(Serialize)]
struct LockConfig {
    enabled: bool,
}

#[derive(Serialize)]
struct BucketJson<'a> {
    name: &'a str,
    creation_time: String,
    path: String,
    anonymous_access_enabled: bool,
    versioning: &'a str,
    lock_config: LockConfig,
}

#[derive(Serialize)]
struct BucketsJson<'a> {
    buckets: Vec<BucketJson<'a>>,
}

#[derive(Serialize)]
pub(crate) struct LoginJson {
    pub bearer_token: String,
}

// Made once: a `&str` given to the response builder is parsed and copied on every answer.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const SERVER: HeaderValue = HeaderValue::from_static("dragoman");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Every Qumulo answer: JSON, a request id, and never an `ETag` (the SDK asserts there is none).
fn builder(status: StatusCode, meta: &RequestMeta) -> http::response::Builder {
    Response::builder()
        .status(status)
        .header(REQUEST_ID, meta.request_id.as_str())
        .header(header::SERVER, SERVER)
}

pub(crate) fn json(status: StatusCode, meta: &RequestMeta, body: Vec<u8>) -> Response<Bytes> {
    builder(status, meta)
        .header(header::CONTENT_TYPE, JSON)
        .body(Bytes::from(body))
        .unwrap_or_else(|_| dragoman_dialect::unbuildable())
}

/// Writes an outcome as the Qumulo response to `op`.
pub fn encode(
    config: &QumuloConfig,
    op: &Operation,
    outcome: &Outcome,
    meta: &RequestMeta,
) -> Response<Bytes> {
    match (op, outcome) {
        (Operation::ListUploads(q), Outcome::Page(page)) => {
            json(StatusCode::OK, meta, list_uploads_json(config, q, page))
        }
        (_, Outcome::Buckets(buckets)) => {
            let body = BucketsJson {
                buckets: buckets
                    .iter()
                    .map(|b| BucketJson {
                        name: &b.name,
                        creation_time: b.created.to_nanos_z(),
                        path: format!("/{}", b.name),
                        anonymous_access_enabled: false,
                        versioning: "Unversioned",
                        lock_config: LockConfig { enabled: false },
                    })
                    .collect(),
            };
            json(
                StatusCode::OK,
                meta,
                serde_json::to_vec(&body).unwrap_or_default(),
            )
        }
        // Abort: 204 and no body at all (a body of `{}` fails the SDK's assertion).
        (_, Outcome::Aborted | Outcome::BucketDeleted) => builder(StatusCode::NO_CONTENT, meta)
            .body(Bytes::new())
            .unwrap_or_else(|_| dragoman_dialect::unbuildable()),
        (op, _) => encode_error(
            &Error::internal(format!(
                "{} got an outcome the Qumulo dialect cannot write",
                op.name()
            )),
            meta,
            false,
        ),
    }
}

/// Qumulo's status and `error_class` for each canonical error. Clients key on the status;
/// the class names are dragoman's, in Qumulo's style (the real ones are undocumented).
fn status_and_class(err: &Error) -> (StatusCode, &'static str) {
    use StatusCode as S;
    match err {
        Error::NoSuchBucket { .. } => (S::NOT_FOUND, "s3_no_such_bucket_error"),
        Error::NoSuchUpload { .. } => (S::NOT_FOUND, "s3_no_such_upload_error"),
        Error::BucketAlreadyExists { .. } => (S::CONFLICT, "s3_bucket_already_exists_error"),
        Error::BucketNotEmpty { .. } => (S::CONFLICT, "s3_bucket_not_empty_error"),
        Error::InvalidBucketName { .. }
        | Error::InvalidArgument { .. }
        | Error::InvalidRequest { .. }
        | Error::InvalidUri { .. }
        | Error::ContentHashMismatch { .. }
        | Error::HeadersTooLarge
        | Error::KeyTooLong { .. }
        | Error::BodyTooLarge => (S::BAD_REQUEST, "invalid_request_error"),
        Error::RequestTimeout => (S::REQUEST_TIMEOUT, "request_timeout_error"),
        Error::Unauthenticated { .. }
        | Error::SignatureDoesNotMatch(_)
        | Error::UnknownAccessKey { .. }
        | Error::RequestExpired { .. }
        | Error::RequestTimeTooSkewed { .. }
        | Error::MalformedAuthorization { .. } => (S::UNAUTHORIZED, "authentication_error"),
        Error::AccessDenied { .. } => (S::FORBIDDEN, "privilege_error"),
        Error::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "http_method_not_allowed_error"),
        Error::NotImplemented { .. } => (S::NOT_IMPLEMENTED, "api_not_implemented_error"),
        Error::Throttled { .. } => (S::SERVICE_UNAVAILABLE, "throttled_error"),
        Error::TooManyAttempts { .. } => (S::TOO_MANY_REQUESTS, "too_many_attempts_error"),
        Error::TlsRequired => (S::FORBIDDEN, "tls_required_error"),
        Error::BackendUnavailable { .. } => (S::SERVICE_UNAVAILABLE, "backend_unavailable_error"),
        Error::BackendTimeout => (S::GATEWAY_TIMEOUT, "backend_timeout_error"),
        Error::BadBackendAnswer { .. } => (S::BAD_GATEWAY, "backend_bad_answer_error"),
        Error::Internal { .. } => (S::INTERNAL_SERVER_ERROR, "internal_error"),
    }
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    module: &'a str,
    error_class: &'a str,
    description: &'a str,
    stack: [&'a str; 0],
    user_visible: bool,
}

/// Renders a canonical error as Qumulo's JSON error (never `text/plain`: the SDK cannot read it).
pub fn encode_error(err: &Error, meta: &RequestMeta, head: bool) -> Response<Bytes> {
    let (status, class) = status_and_class(err);
    if head {
        return builder(status, meta)
            .body(Bytes::new())
            .unwrap_or_else(|_| dragoman_dialect::unbuildable());
    }
    let description = match err {
        Error::Unauthenticated { message } => message.clone(),
        other => other.to_string(),
    };
    let body = ErrorJson {
        module: "dragoman",
        error_class: class,
        description: &description,
        stack: [],
        user_visible: true,
    };
    let mut r = json(status, meta, serde_json::to_vec(&body).unwrap_or_default());
    if let Some(secs) = err.retry_after() {
        r.headers_mut()
            .insert(header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragoman_model::{Cursor, Entry, Timestamp, UploadState};
    use serde_json::{Value, json as j};

    fn config() -> QumuloConfig {
        QumuloConfig {
            token_key: b"k".to_vec(),
            ..QumuloConfig::default()
        }
    }

    fn meta() -> RequestMeta {
        crate::request_meta(7)
    }

    fn up(state: UploadState, initiator: Option<std::sync::Arc<Identity>>) -> Upload {
        Upload {
            key: "deployment/data1.dat".into(),
            upload_id: "00000000example1".into(),
            initiated: Timestamp::from_nanos(1_677_783_660_446_468_848),
            owner: None,
            initiator,
            storage_class: None,
            checksum_algorithm: None,
            checksum_type: None,
            state,
        }
    }

    #[test]
    fn every_field_always_with_unknowns_as_null() {
        let q = ListUploads::bucket("my-bucket");
        let known = UploadState {
            last_modified: Some(Timestamp::from_nanos(1_677_783_817_209_271_702)),
            total_blocks: Some(16387),
            datablocks: Some(16384),
            metablocks: Some(3),
            completing: Some(false),
            system_initiated: Some(false),
        };
        let page = UploadsPage::from_entries(
            vec![Entry::Upload(up(
                known,
                Some(std::sync::Arc::new(Identity {
                    id: Some("500".into()),
                    display_name: None,
                })),
            ))],
            false,
        );
        let v: Value =
            serde_json::from_slice(&list_uploads_json(&config(), &q, &page)).unwrap_or(Value::Null);
        assert_eq!(
            v,
            j!({"uploads": [{
                "id": "00000000example1", "key": "deployment/data1.dat", "bucket": "my-bucket",
                "initiator": {"domain": null, "auth_id": "500", "uid": null, "gid": null, "sid": null, "name": null},
                "initiated": "2023-03-02T19:01:00.446468848Z", "last_modified": "2023-03-02T19:03:37.209271702Z",
                "total_blocks": "16387", "datablocks": "16384", "metablocks": "3",
                "completing": false, "system_initiated": false}],
               "paging": {"next": null}})
        );
        let unknown = UploadsPage::from_entries(
            vec![Entry::Upload(up(
                UploadState::default(),
                Some(Identity::shared("alice", "alice")),
            ))],
            false,
        );
        let v: Value = serde_json::from_slice(&list_uploads_json(&config(), &q, &unknown))
            .unwrap_or(Value::Null);
        let u = &v["uploads"][0];
        assert_eq!(u.as_object().map(|o| o.len()), Some(11));
        assert_eq!(
            u["initiator"],
            j!({"domain": null, "auth_id": null, "uid": null, "gid": null, "sid": null, "name": "alice"})
        );
        for k in [
            "last_modified",
            "total_blocks",
            "datablocks",
            "metablocks",
            "completing",
            "system_initiated",
        ] {
            assert!(u[k].is_null(), "{k}");
        }
    }

    #[test]
    fn hand_written_json_escapes_like_serde() {
        for key in [
            "plain",
            "quote\"d",
            "back\\slash",
            "tab\tnew\nline",
            "\u{1}ctl",
            "ü日本/語 😀",
            "",
        ] {
            let q = ListUploads::bucket("b");
            let mut u = up(UploadState::default(), Some(Identity::shared(key, key)));
            u.key = key.into();
            let page = UploadsPage::from_entries(vec![Entry::Upload(u)], false);
            let v: Value = serde_json::from_slice(&list_uploads_json(&config(), &q, &page))
                .unwrap_or(Value::Null);
            assert_eq!(v["uploads"][0]["key"], key, "{key:?}");
            assert_eq!(v["uploads"][0]["initiator"]["name"], key, "{key:?}");
        }
    }

    #[test]
    fn next_is_a_relative_uri_with_an_encoded_after() {
        let q = ListUploads {
            max: 3,
            ..ListUploads::bucket("b1")
        };
        let page = UploadsPage {
            entries: vec![],
            truncated: true,
            next: Some(Cursor::Key("k".into())),
        };
        let v: Value =
            serde_json::from_slice(&list_uploads_json(&config(), &q, &page)).unwrap_or(Value::Null);
        let next = v["paging"]["next"].as_str().unwrap_or_default();
        assert!(
            next.starts_with("/v1/s3/buckets/b1/uploads/?after=v1."),
            "{next}"
        );
        assert!(next.ends_with("&limit=3"), "{next}");
        assert!(!next.contains('+'));
    }

    #[test]
    fn errors_and_abort() {
        let r = encode_error(&Error::NoSuchBucket { bucket: "x".into() }, &meta(), false);
        assert_eq!(r.status(), 404);
        assert!(!r.headers().contains_key("etag"));
        let v: Value = serde_json::from_slice(r.body()).unwrap_or(Value::Null);
        assert_eq!(v["error_class"], "s3_no_such_bucket_error");
        assert!(
            v["stack"].is_array()
                && v["user_visible"] == true
                && v["module"].is_string()
                && v["description"].is_string()
        );
        let statuses: Vec<u16> = [
            Error::Unauthenticated {
                message: "m".into(),
            },
            Error::access_denied("m"),
            Error::invalid_argument("after", "x", "m"),
        ]
        .iter()
        .map(|e| encode_error(e, &meta(), false).status().as_u16())
        .collect();
        assert_eq!(statuses, [401, 403, 400]);
        let abort = encode(
            &config(),
            &Operation::AbortUpload {
                bucket: "b".into(),
                key: None,
                upload_id: "u".into(),
            },
            &Outcome::Aborted,
            &meta(),
        );
        assert_eq!(abort.status(), 204);
        assert!(abort.body().is_empty());
    }
}
