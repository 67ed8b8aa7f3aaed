//! The client side: what dragoman sends to a Qumulo cluster and how it reads the answers.
//! The cluster's `after` token is opaque here: extracted from `paging.next`, sent back as is.

use bytes::Bytes;
use dragoman_model::{Error, Timestamp, Upload};
use dragoman_wire::uri_encode;
use http::{Method, Request, header};
use serde::Deserialize;

fn build(
    method: Method,
    uri: &str,
    bearer: Option<&str>,
    body: Bytes,
) -> Result<Request<Bytes>, Error> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json");
    if let Some(t) = bearer {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(body)
        .map_err(|e| Error::internal(format!("cannot build a Qumulo request: {e}")))
}

/// `POST /v1/session/login`. `base` is `https://host:port`.
pub fn login_request(base: &str, username: &str, password: &str) -> Result<Request<Bytes>, Error> {
    let body = serde_json::json!({ "username": username, "password": password }).to_string();
    build(
        Method::POST,
        &format!("{base}/v1/session/login"),
        None,
        Bytes::from(body),
    )
}

#[derive(Deserialize)]
struct LoginBody {
    bearer_token: String,
}

pub fn parse_login(body: &[u8]) -> Result<String, Error> {
    serde_json::from_slice::<LoginBody>(body)
        .map(|b| b.bearer_token)
        .map_err(|e| Error::BadBackendAnswer {
            message: format!("Qumulo login answer: {e}"),
        })
}

/// One page of `GET /v1/s3/buckets/{bucket}/uploads/`.
pub fn list_request(
    base: &str,
    bucket: &str,
    after: Option<&str>,
    limit: Option<u16>,
    bearer: &str,
) -> Result<Request<Bytes>, Error> {
    let mut uri = format!("/v1/s3/buckets/{}/uploads/", path_segment(bucket)?);
    let mut sep = '?';
    if let Some(n) = limit {
        uri.push_str(&format!("{sep}limit={n}"));
        sep = '&';
    }
    if let Some(a) = after {
        uri.push_str(&format!("{sep}after={}", uri_encode(a.as_bytes(), false)));
    }
    build_exact(Method::GET, base, &uri, bearer)
}

/// One path segment of a cluster URL, encoded. `.`, `..` and empty segments are refused: a
/// URL parser folds them away, so `uploads/..` would reach `DELETE /v1/s3/buckets/{b}/` —
/// deleting the bucket instead of aborting an upload.
pub fn path_segment(s: &str) -> Result<String, Error> {
    if s.is_empty() || s == "." || s == ".." {
        return Err(Error::invalid_argument(
            "upload-id",
            s,
            "An upload id may not be empty, \".\" or \"..\"",
        ));
    }
    Ok(uri_encode(s.as_bytes(), true))
}

/// Builds a request and checks that its path is the one meant, so that no segment a caller
/// chose can change which resource the cluster acts on.
fn build_exact(
    method: Method,
    base: &str,
    path: &str,
    bearer: &str,
) -> Result<Request<Bytes>, Error> {
    let req = build(method, &format!("{base}{path}"), Some(bearer), Bytes::new())?;
    if req.uri().path() != path.split('?').next().unwrap_or(path) {
        return Err(Error::internal(format!(
            "the Qumulo request path {path} would be sent as {}",
            req.uri().path()
        )));
    }
    Ok(req)
}

/// `DELETE /v1/s3/buckets/{bucket}/uploads/{id}`.
pub fn abort_request(
    base: &str,
    bucket: &str,
    upload_id: &str,
    bearer: &str,
) -> Result<Request<Bytes>, Error> {
    let path = format!(
        "/v1/s3/buckets/{}/uploads/{}",
        path_segment(bucket)?,
        path_segment(upload_id)?
    );
    build_exact(Method::DELETE, base, &path, bearer)
}

/// The `after` parameter of a `paging.next` URI, read as the official SDK reads it (a standard
/// query parser: `%XX` decoded, `+` a space). `None` ends the listing.
pub fn after_of(next: &str) -> Option<String> {
    let query = next.split_once('?')?.1;
    query.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == "after" && !v.is_empty()).then(|| {
            String::from_utf8_lossy(&dragoman_wire::decode_bytes(&v.replace('+', " "))).into_owned()
        })
    })
}

/// One page as a Qumulo cluster answered it: uploads in the cluster's order (undocumented)
/// and the opaque token of the next page, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QumuloPage {
    pub uploads: Vec<Upload>,
    pub next_after: Option<String>,
}

pub(crate) fn bad(message: impl Into<String>) -> Error {
    Error::BadBackendAnswer {
        message: message.into(),
    }
}

pub use crate::page::parse_page;

#[derive(Deserialize)]
struct BucketBody {
    name: String,
    creation_time: Option<String>,
}

#[derive(Deserialize)]
struct BucketsBody {
    buckets: Vec<BucketBody>,
}

/// `GET /v1/s3/buckets/`.
pub fn buckets_request(base: &str, bearer: &str) -> Result<Request<Bytes>, Error> {
    build(
        Method::GET,
        &format!("{base}/v1/s3/buckets/"),
        Some(bearer),
        Bytes::new(),
    )
}

pub fn parse_buckets(body: &[u8]) -> Result<Vec<dragoman_model::Bucket>, Error> {
    let b: BucketsBody =
        serde_json::from_slice(body).map_err(|e| bad(format!("Qumulo bucket list: {e}")))?;
    Ok(b.buckets
        .into_iter()
        .map(|b| dragoman_model::Bucket {
            created: b
                .creation_time
                .as_deref()
                .and_then(Timestamp::parse_rfc3339)
                .unwrap_or_default(),
            name: b.name,
        })
        .collect())
}

#[derive(Deserialize)]
struct ErrorBody {
    error_class: Option<String>,
    description: Option<String>,
}

/// Turns a Qumulo error answer into the canonical error the caller should see. The cluster
/// refusing dragoman's own credentials (401) is the operator's problem: an unavailable backend.
pub fn parse_error(status: u16, body: &[u8], bucket: &str, upload_id: Option<&str>) -> Error {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let class = parsed
        .as_ref()
        .and_then(|b| b.error_class.clone())
        .unwrap_or_default();
    let description = parsed
        .and_then(|b| b.description)
        .unwrap_or_else(|| format!("Qumulo answered {status}"));
    match status {
        401 => Error::Unauthenticated {
            message: description,
        },
        403 => Error::AccessDenied {
            message: description,
        },
        404 => match upload_id {
            Some(id) => Error::NoSuchUpload {
                upload_id: id.to_owned(),
            },
            None => Error::NoSuchBucket {
                bucket: bucket.to_owned(),
            },
        },
        429 => Error::Throttled {
            message: description,
        },
        400 => Error::InvalidRequest {
            message: format!("Qumulo: {class}: {description}"),
        },
        503 => Error::BackendUnavailable {
            message: description,
        },
        // Any other server error: the backend failed, not dragoman (502, not 500).
        500..=599 => bad(format!("Qumulo answered {status} {class}: {description}")),
        _ => bad(format!("Qumulo answered {status} {class}: {description}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragoman_model::Identity;

    #[test]
    fn after_is_taken_from_next_like_the_sdk_does() {
        assert_eq!(
            after_of("/v1/s3/buckets/b1/uploads/?after=0000000000000002&limit=3").as_deref(),
            Some("0000000000000002")
        );
        assert_eq!(
            after_of("https://other-host/x?limit=3&after=a%2Fb%2Bc%3D%20d").as_deref(),
            Some("a/b+c= d")
        );
        assert_eq!(after_of("/v1/s3/buckets/b1/uploads/?after=&limit=3"), None);
        assert_eq!(after_of("/v1/s3/buckets/b1/uploads/"), None);
    }

    #[test]
    fn pages_are_read_with_string_or_number_counts_and_any_fraction() {
        let body = br#"{"uploads":[{"id":"u1","key":"k","bucket":"b","initiator":{"domain":null,"auth_id":"500","uid":null,"gid":null,"sid":null,"name":null},
            "initiated":"2023-03-02T19:01:00.446468848Z","last_modified":"2023-03-02T19:03:37Z","total_blocks":"16387","datablocks":16384,"metablocks":"3",
            "completing":false,"system_initiated":true}],"paging":{"next":"/v1/s3/buckets/b/uploads/?after=t%2B1&limit=1"}}"#;
        let p = parse_page(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.next_after.as_deref(), Some("t+1"));
        let u = &p.uploads[0];
        assert_eq!(
            u.initiated,
            Timestamp::from_nanos(1_677_783_660_446_468_848)
        );
        assert_eq!(
            (u.state.total_blocks, u.state.datablocks, u.state.metablocks),
            (Some(16387), Some(16384), Some(3))
        );
        assert_eq!(u.state.system_initiated, Some(true));
        assert_eq!(
            u.initiator.as_deref(),
            Some(&Identity {
                id: Some("500".into()),
                display_name: None
            })
        );
        for end in [r#"null"#, r#""""#] {
            let body = format!(r#"{{"uploads":[],"paging":{{"next":{end}}}}}"#);
            assert_eq!(parse_page(body.as_bytes()).map(|p| p.next_after), Ok(None));
        }
        assert!(matches!(
            parse_page(br#"{"uploads":[]}"#),
            Err(Error::BadBackendAnswer { .. })
        ));
        assert!(matches!(
            parse_page(b"Dev error"),
            Err(Error::BadBackendAnswer { .. })
        ));
    }

    #[test]
    fn errors_translate() {
        assert_eq!(
            parse_error(404, b"{}", "b", None),
            Error::NoSuchBucket { bucket: "b".into() }
        );
        assert_eq!(
            parse_error(404, b"", "b", Some("u")),
            Error::NoSuchUpload {
                upload_id: "u".into()
            }
        );
        assert!(matches!(
            parse_error(401, b"", "b", None),
            Error::Unauthenticated { .. }
        ));
        assert!(matches!(
            parse_error(502, b"<html>", "b", None),
            Error::BadBackendAnswer { .. }
        ));
    }

    #[test]
    fn requests() {
        let r = list_request(
            "https://127.0.0.1:8000",
            "b1",
            Some("a/b+c= d"),
            Some(2),
            "tok",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.uri().to_string(),
            "https://127.0.0.1:8000/v1/s3/buckets/b1/uploads/?limit=2&after=a%2Fb%2Bc%3D%20d"
        );
        assert_eq!(r.headers()["authorization"], "Bearer tok");
    }
}
