//! A Qumulo cluster as a backend client: login (again on a 401) or a static token, and the
//! REST calls `GET …/uploads/?after=`, `DELETE …/uploads/{id}` and `GET /v1/s3/buckets/`.
//! Qumulo pages with an opaque `after` token in an undocumented order, so its capabilities
//! say so and the planner keeps a sorted snapshot.

use async_trait::async_trait;
use bytes::Bytes;
use dragoman_dialect_qumulo::client::{
    QumuloPage, abort_request, buckets_request, list_request, login_request, parse_buckets,
    parse_error, parse_login, parse_page,
};
use dragoman_model::{Entry, Error, Operation, Outcome};
use http::Request;
use tokio::sync::Mutex;

use crate::client::{Call, Capabilities, Client, NativePage, Reply, unsupported};
use crate::http::{HttpOptions, client, send};

#[derive(Clone)]
pub enum QumuloAuth {
    /// `POST /v1/session/login`, again whenever the cluster answers 401.
    Login { username: String, password: String },
    /// A long-lived `access-v1:` token.
    Token(String),
}

impl std::fmt::Debug for QumuloAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Login { username, .. } => {
                write!(f, "Login {{ username: {username:?}, password: **** }}")
            }
            Self::Token(_) => f.write_str("Token(****)"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct QumuloClientConfig {
    pub name: String,
    /// `https://host:port` of the cluster's REST API.
    pub base_url: String,
    pub auth: QumuloAuth,
    pub http: HttpOptions,
    /// The `limit` sent with each page; `None` lets the cluster choose.
    pub page_limit: Option<u16>,
}

pub struct QumuloClient {
    config: QumuloClientConfig,
    http: crate::http::HttpClient,
    session: Mutex<Option<String>>,
}

impl QumuloClient {
    pub fn new(config: QumuloClientConfig) -> Result<Self, Error> {
        let http = client(&config.http)?;
        Ok(Self {
            config,
            http,
            session: Mutex::new(None),
        })
    }

    async fn send(&self, req: Request<Bytes>) -> Result<(u16, Bytes), Error> {
        send(
            &self.http,
            &self.config.name,
            self.config.http.max_response_bytes,
            req,
        )
        .await
    }

    fn refused(&self, e: &Error) -> Error {
        Error::BackendUnavailable {
            message: format!(
                "{}: the cluster refused dragoman's credentials: {e}",
                self.config.name
            ),
        }
    }

    /// The bearer token to use: the static one, or a session (a new one when `fresh`).
    async fn bearer(&self, fresh: bool) -> Result<String, Error> {
        let (username, password) = match &self.config.auth {
            QumuloAuth::Token(t) => return Ok(t.clone()),
            QumuloAuth::Login { username, password } => (username, password),
        };
        let mut session = self.session.lock().await;
        if let (Some(t), false) = (session.as_ref(), fresh) {
            return Ok(t.clone());
        }
        let (status, body) = self
            .send(login_request(&self.config.base_url, username, password)?)
            .await?;
        if status != 200 {
            return Err(self.refused(&parse_error(status, &body, "", None)));
        }
        let token = parse_login(&body)?;
        *session = Some(token.clone());
        Ok(token)
    }

    /// Sends an authenticated request; on a 401 with a login, logs in again once and retries.
    async fn authed(
        &self,
        build: impl Fn(&str) -> Result<Request<Bytes>, Error>,
    ) -> Result<(u16, Bytes), Error> {
        let (status, body) = self.send(build(&self.bearer(false).await?)?).await?;
        if status != 401 || matches!(self.config.auth, QumuloAuth::Token(_)) {
            return Ok((status, body));
        }
        self.send(build(&self.bearer(true).await?)?).await
    }

    async fn page(&self, bucket: &str, after: Option<&str>) -> Result<QumuloPage, Error> {
        let base = &self.config.base_url;
        let (status, body) = self
            .authed(|t| list_request(base, bucket, after, self.config.page_limit, t))
            .await?;
        match status {
            200 => parse_page(&body),
            401 => Err(self.refused(&parse_error(status, &body, bucket, None))),
            _ => Err(parse_error(status, &body, bucket, None)),
        }
    }

    async fn abort(&self, bucket: &str, upload_id: &str) -> Result<Outcome, Error> {
        let base = &self.config.base_url;
        let (status, body) = self
            .authed(|t| abort_request(base, bucket, upload_id, t))
            .await?;
        match status {
            200 | 204 => Ok(Outcome::Aborted),
            401 => Err(self.refused(&parse_error(status, &body, bucket, Some(upload_id)))),
            _ => Err(parse_error(status, &body, bucket, Some(upload_id))),
        }
    }

    async fn buckets(&self) -> Result<Outcome, Error> {
        let base = &self.config.base_url;
        let (status, body) = self.authed(|t| buckets_request(base, t)).await?;
        match status {
            200 => parse_buckets(&body).map(Outcome::Buckets),
            401 => Err(self.refused(&parse_error(status, &body, "", None))),
            _ => Err(parse_error(status, &body, "", None)),
        }
    }
}

/// A Qumulo page as the planner reads it: uploads in the cluster's order, and the token of
/// the next page.
pub fn qumulo_native_page(p: QumuloPage) -> NativePage {
    NativePage {
        truncated: p.next_after.is_some(),
        continuation: p.next_after,
        entries: p.uploads.into_iter().map(Entry::Upload).collect(),
    }
}

#[async_trait]
impl Client for QumuloClient {
    fn kind(&self) -> &'static str {
        "qumulo"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::opaque(self.config.page_limit.unwrap_or(1000))
    }

    async fn call(&self, call: Call) -> Result<Reply, Error> {
        match call {
            Call::Page(r) => self
                .page(&r.bucket, r.continuation.as_deref())
                .await
                .map(|p| Reply::Page(qumulo_native_page(p))),
            Call::Op(Operation::AbortUpload {
                bucket, upload_id, ..
            }) => self.abort(&bucket, &upload_id).await.map(Reply::Done),
            Call::Op(Operation::ListBuckets) => self.buckets().await.map(Reply::Done),
            Call::Op(Operation::CreateUpload(_)) => Err(Error::NotImplemented {
                what: "create_upload on a qumulo backend (Qumulo's REST API has no call that creates an upload; clients create them through the cluster's S3 API)".into(),
            }),
            Call::Op(op) => Err(unsupported("qumulo", &op)),
        }
    }
}
