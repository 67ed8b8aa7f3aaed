//! Decoding Qumulo REST requests and verifying their bearer tokens.

use dragoman_model::{Cursor, Error, ListUploads, MAX_PAGE, Operation, Timestamp};
use dragoman_wire::{Plus, QueryParams};
use http::{Method, request::Parts};
use serde::{Deserialize, Serialize};

use crate::QumuloConfig;
use crate::token::{self, Kind, TokenError};

/// The state an `after` token carries: the bucket it belongs to and the position after the
/// last entry of the page that issued it.
#[derive(Serialize, Deserialize)]
pub(crate) struct PagingState {
    #[serde(rename = "b")]
    pub bucket: String,
    #[serde(rename = "c")]
    pub cursor: CursorJson,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "t")]
pub(crate) enum CursorJson {
    #[serde(rename = "k")]
    Key { k: String },
    #[serde(rename = "p")]
    Prefix { p: String },
    #[serde(rename = "u")]
    Upload {
        k: String,
        u: String,
        i: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        n: Option<String>,
    },
}

impl From<&Cursor> for CursorJson {
    fn from(c: &Cursor) -> Self {
        match c {
            Cursor::Key(k) => Self::Key { k: k.clone() },
            Cursor::Prefix(p) => Self::Prefix { p: p.clone() },
            Cursor::Upload {
                key,
                upload_id,
                initiated,
                next_upload,
            } => Self::Upload {
                k: key.clone(),
                u: upload_id.clone(),
                i: initiated.map(Timestamp::as_nanos),
                n: next_upload.clone(),
            },
        }
    }
}

impl From<CursorJson> for Cursor {
    fn from(c: CursorJson) -> Self {
        match c {
            CursorJson::Key { k } => Self::Key(k),
            CursorJson::Prefix { p } => Self::Prefix(p),
            CursorJson::Upload { k, u, i, n } => Self::Upload {
                key: k,
                upload_id: u,
                initiated: i.map(Timestamp::from_nanos),
                next_upload: n,
            },
        }
    }
}

/// Seals the position after a page of `bucket` as an `after` token.
pub(crate) fn paging_token(config: &QumuloConfig, bucket: &str, cursor: &Cursor) -> String {
    let state = PagingState {
        bucket: bucket.to_owned(),
        cursor: cursor.into(),
    };
    token::seal(
        &config.token_key,
        Kind::Paging,
        &serde_json::to_vec(&state).unwrap_or_default(),
    )
}

fn bad_after(value: &str, why: &str) -> Error {
    Error::invalid_argument(
        "after",
        value,
        format!("The after token is not valid: {why}"),
    )
}

fn open_after(config: &QumuloConfig, bucket: &str, raw: &str) -> Result<Cursor, Error> {
    let payload = token::open(&config.token_key, Kind::Paging, raw).map_err(|e| {
        bad_after(
            raw,
            match e {
                TokenError::Malformed => "it is not a dragoman paging token",
                TokenError::Version => "it was issued by a newer or older dragoman",
                TokenError::Forged => "its signature does not match",
                TokenError::WrongKind => "it is not a paging token",
            },
        )
    })?;
    let state: PagingState = serde_json::from_slice(&payload)
        .map_err(|_| bad_after(raw, "its content is unreadable"))?;
    if state.bucket != bucket {
        return Err(bad_after(raw, "it belongs to another bucket"));
    }
    Ok(state.cursor.into())
}

fn limit(config: &QumuloConfig, q: &QueryParams<'_>) -> Result<u16, Error> {
    let Some(raw) = q.non_empty("limit") else {
        return Ok(config.page_size.clamp(1, MAX_PAGE));
    };
    match raw.parse::<i64>() {
        // "The system may choose a smaller limit": larger requests get the largest page.
        Ok(n) if n >= 1 => Ok(u16::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE)),
        _ => Err(Error::invalid_argument(
            "limit",
            raw,
            "limit must be a positive integer",
        )),
    }
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

/// Whether the request is for `/v1/session/login`.
pub(crate) fn is_login(parts: &Parts) -> bool {
    parts.uri.path().trim_end_matches('/') == "/v1/session/login"
}

/// The user name and password of `POST /v1/session/login`; `None` for any other request.
pub(crate) fn login_request(parts: &Parts, body: &[u8]) -> Option<Result<(String, String), Error>> {
    if !is_login(parts) {
        return None;
    }
    if parts.method != Method::POST {
        return Some(Err(Error::MethodNotAllowed));
    }
    Some(
        serde_json::from_slice::<LoginBody>(body)
            .map(|b| (b.username, b.password))
            .map_err(|_| Error::InvalidRequest {
                message: "The login body must be JSON {\"username\": …, \"password\": …}".into(),
            }),
    )
}

fn segments(path: &str) -> Result<Vec<String>, Error> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| {
            String::from_utf8(dragoman_wire::decode_bytes(s)).map_err(|_| Error::InvalidUri {
                message: "the path is not valid UTF-8 once percent-decoded".into(),
            })
        })
        .collect()
}

/// Decodes a Qumulo REST request into a canonical operation.
pub fn decode(config: &QumuloConfig, parts: &Parts) -> Result<Operation, Error> {
    let q = QueryParams::parse(parts.uri.query(), Plus::Space)?;
    let segs = segments(parts.uri.path())?;
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = &parts.method;
    let not_here = || Error::NotImplemented {
        what: format!("{} {}", parts.method, parts.uri.path()),
    };
    // Names are checked before anything routes on them or puts them in a backend's URL.
    if let ["v1", "s3", "buckets", bucket, ..] = segs.as_slice()
        && !bucket.is_empty()
    {
        dragoman_wire::validate_s3_bucket_name(bucket)?;
    }
    if let ["v1", "s3", "buckets", _, "uploads", id] = segs.as_slice()
        && !id.is_empty()
    {
        crate::client::path_segment(id)?;
    }
    match segs.as_slice() {
        ["v1", "s3", "buckets"] | ["v1", "s3", "buckets", ""] => match *m {
            Method::GET => Ok(Operation::ListBuckets),
            _ => Err(Error::MethodNotAllowed),
        },
        ["v1", "s3", "buckets", bucket, "uploads"]
        | ["v1", "s3", "buckets", bucket, "uploads", ""] => match *m {
            Method::GET => {
                let after = q
                    .non_empty("after")
                    .map(|a| open_after(config, bucket, a))
                    .transpose()?;
                Ok(Operation::ListUploads(ListUploads {
                    after,
                    max: limit(config, &q)?,
                    ..ListUploads::bucket(*bucket)
                }))
            }
            _ => Err(Error::MethodNotAllowed),
        },
        ["v1", "s3", "buckets", bucket, "uploads", id] => match *m {
            Method::DELETE => Ok(Operation::AbortUpload {
                bucket: (*bucket).to_owned(),
                key: None,
                upload_id: (*id).to_owned(),
            }),
            _ => Err(Error::MethodNotAllowed),
        },
        _ => Err(not_here()),
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SessionClaims {
    #[serde(rename = "k")]
    pub access_key: String,
    #[serde(rename = "e")]
    pub expires: i64,
}

/// Issues a session token for the principal holding `access_key`.
pub(crate) fn session_token(config: &QumuloConfig, access_key: &str, expires: Timestamp) -> String {
    let claims = SessionClaims {
        access_key: access_key.to_owned(),
        expires: expires.as_secs(),
    };
    token::seal(
        &config.token_key,
        Kind::Session,
        &serde_json::to_vec(&claims).unwrap_or_default(),
    )
}

fn unauthenticated(message: &str) -> Error {
    Error::Unauthenticated {
        message: message.to_owned(),
    }
}

/// Verifies `Authorization: Bearer <token>`: a session dragoman issued (signed, not expired),
/// or a configured `access-v1:` token. `Ok(None)`: no credentials at all.
pub fn verify(
    config: &QumuloConfig,
    parts: &Parts,
    token_owner: &dyn Fn(&str) -> Option<String>,
    now: Timestamp,
) -> Result<Option<String>, Error> {
    let Some(header) = parts.headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let header = header
        .to_str()
        .map_err(|_| unauthenticated("The Authorization header is not text"))?;
    let Some(tok) = header.strip_prefix("Bearer ").map(str::trim) else {
        return Err(unauthenticated("Expected Authorization: Bearer <token>"));
    };
    if tok.starts_with("access-v1:") {
        return token_owner(tok)
            .map(Some)
            .ok_or_else(|| unauthenticated("Unknown access token"));
    }
    let payload = token::open(&config.token_key, Kind::Session, tok)
        .map_err(|_| unauthenticated("The bearer token is not a valid session; log in again"))?;
    let claims: SessionClaims = serde_json::from_slice(&payload)
        .map_err(|_| unauthenticated("The bearer token is not a valid session; log in again"))?;
    if now.as_secs() >= claims.expires {
        return Err(unauthenticated("The session has expired; log in again"));
    }
    Ok(Some(claims.access_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> QumuloConfig {
        QumuloConfig {
            token_key: b"test key".to_vec(),
            page_size: 3,
            ..QumuloConfig::default()
        }
    }

    fn parts(method: &str, uri: &str, auth: Option<&str>) -> Parts {
        let mut b = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1");
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        b.body(()).unwrap_or_default().into_parts().0
    }

    fn list(uri: &str) -> Result<ListUploads, Error> {
        match decode(&config(), &parts("GET", uri, None))? {
            Operation::ListUploads(q) => Ok(q),
            other => Err(Error::internal(format!("{other:?}"))),
        }
    }

    #[test]
    fn routes() {
        assert_eq!(
            list("/v1/s3/buckets/bk1/uploads/"),
            Ok(ListUploads {
                max: 3,
                ..ListUploads::bucket("bk1")
            })
        );
        assert_eq!(
            list("/v1/s3/buckets/bk1/uploads/?limit=2").map(|q| q.max),
            Ok(2)
        );
        assert_eq!(
            list("/v1/s3/buckets/bk1/uploads/?limit=100000").map(|q| q.max),
            Ok(1000)
        );
        assert!(matches!(
            list("/v1/s3/buckets/bk1/uploads/?limit=0"),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(matches!(
            list("/v1/s3/buckets/bk1/uploads/?limit=x"),
            Err(Error::InvalidArgument { .. })
        ));
        let c = config();
        assert_eq!(
            decode(
                &c,
                &parts(
                    "DELETE",
                    "/v1/s3/buckets/bk1/uploads/0000000000000006",
                    None
                ),
            ),
            Ok(Operation::AbortUpload {
                bucket: "bk1".into(),
                key: None,
                upload_id: "0000000000000006".into()
            })
        );
        assert_eq!(
            decode(&c, &parts("GET", "/v1/s3/buckets/", None)),
            Ok(Operation::ListBuckets)
        );
        assert_eq!(
            login_request(
                &parts("POST", "/v1/session/login", None),
                br#"{"username": "admin", "password": "secret"}"#
            ),
            Some(Ok(("admin".into(), "secret".into())))
        );
        assert!(matches!(
            login_request(&parts("POST", "/v1/session/login", None), b"admin"),
            Some(Err(Error::InvalidRequest { .. }))
        ));
        assert_eq!(
            login_request(&parts("GET", "/v1/session/login", None), b""),
            Some(Err(Error::MethodNotAllowed))
        );
        assert!(matches!(
            decode(&c, &parts("GET", "/v1/files/2/entries/", None)),
            Err(Error::NotImplemented { .. })
        ));
        assert_eq!(
            decode(&c, &parts("PUT", "/v1/s3/buckets/bk1/uploads/", None)),
            Err(Error::MethodNotAllowed)
        );
    }

    #[test]
    fn after_tokens_resume_and_refuse_forgeries() {
        let c = config();
        let cursor = Cursor::Upload {
            key: "a b/ü".into(),
            upload_id: "u1".into(),
            initiated: Some(Timestamp::from_nanos(7)),
            next_upload: None,
        };
        let tok = paging_token(&c, "bk1", &cursor);
        let uri = format!("/v1/s3/buckets/bk1/uploads/?after={tok}");
        assert_eq!(list(&uri).map(|q| q.after), Ok(Some(cursor)));
        let other_bucket = format!("/v1/s3/buckets/bk2/uploads/?after={tok}");
        assert!(matches!(
            list(&other_bucket),
            Err(Error::InvalidArgument { .. })
        ));
        let other_key = QumuloConfig {
            token_key: b"another".to_vec(),
            ..config()
        };
        let forged = paging_token(&other_key, "bk1", &Cursor::Key("z".into()));
        assert!(matches!(
            list(&format!("/v1/s3/buckets/bk1/uploads/?after={forged}")),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(matches!(
            list("/v1/s3/buckets/bk1/uploads/?after=0000000000000002"),
            Err(Error::InvalidArgument { .. })
        ));
        let session = session_token(&c, "ak", Timestamp::from_secs(100));
        assert!(matches!(
            list(&format!("/v1/s3/buckets/bk1/uploads/?after={session}")),
            Err(Error::InvalidArgument { .. })
        ));
    }

    #[test]
    fn bearer_tokens() {
        let c = config();
        let owner = |t: &str| (t == "access-v1:good").then(|| "ak-static".to_owned());
        let now = Timestamp::from_secs(50);
        let session = session_token(&c, "ak", Timestamp::from_secs(100));
        let v = |auth: Option<&str>, at: Timestamp| {
            verify(&c, &parts("GET", "/v1/s3/buckets/", auth), &owner, at)
        };
        assert_eq!(
            v(Some(&format!("Bearer {session}")), now),
            Ok(Some("ak".into()))
        );
        assert!(matches!(
            v(
                Some(&format!("Bearer {session}")),
                Timestamp::from_secs(100)
            ),
            Err(Error::Unauthenticated { .. })
        ));
        assert_eq!(
            v(Some("Bearer access-v1:good"), now),
            Ok(Some("ak-static".into()))
        );
        assert!(matches!(
            v(Some("Bearer access-v1:bad"), now),
            Err(Error::Unauthenticated { .. })
        ));
        assert!(matches!(
            v(Some("Bearer 1:ATwAAABFAKEfakeFAKEfakeBearerToken=="), now),
            Err(Error::Unauthenticated { .. })
        ));
        assert!(matches!(
            v(Some("Basic YTpi"), now),
            Err(Error::Unauthenticated { .. })
        ));
        let paging = paging_token(&c, "bk1", &Cursor::Key("k".into()));
        assert!(matches!(
            v(Some(&format!("Bearer {paging}")), now),
            Err(Error::Unauthenticated { .. })
        ));
        assert_eq!(v(None, now), Ok(None));
    }
}
