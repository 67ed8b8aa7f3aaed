//! A Qumulo cluster as a backend.
//!
//! Qumulo lists a bucket's uploads with an opaque `after` and a `limit` only: no prefix, no
//! delimiter, no documented order. So a listing reads every page of the bucket (up to a
//! configured bound, with a clear error past it), sorts the uploads canonically, and applies
//! prefix, delimiter and the caller's position in the gateway.

use async_trait::async_trait;
use bytes::Bytes;
use dragoman_dialect_qumulo::client::{
    QumuloPage, abort_request, buckets_request, list_request, login_request, parse_buckets,
    parse_error, parse_login, parse_page,
};
use dragoman_model::{Error, ListUploads, Operation, Outcome, Upload, UploadsPage, paginate};
use http::Request;
use tokio::sync::Mutex;

use crate::Backend;
use crate::http::{HttpOptions, client, transport_error};

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
pub struct QumuloBackendConfig {
    pub name: String,
    /// `https://host:port` of the cluster's REST API.
    pub base_url: String,
    pub auth: QumuloAuth,
    pub http: HttpOptions,
    /// The `limit` sent with each page; `None` lets the cluster choose.
    pub page_limit: Option<u16>,
    /// The most uploads one listing may read from a bucket.
    pub max_uploads: usize,
}

pub struct QumuloBackend {
    config: QumuloBackendConfig,
    http: reqwest::Client,
    session: Mutex<Option<String>>,
}

impl QumuloBackend {
    pub fn new(config: QumuloBackendConfig) -> Result<Self, Error> {
        let http = client(&config.http)?;
        Ok(Self {
            config,
            http,
            session: Mutex::new(None),
        })
    }

    async fn send(&self, req: Request<Bytes>) -> Result<(u16, Bytes), Error> {
        let req = reqwest::Request::try_from(req)
            .map_err(|e| Error::internal(format!("Qumulo request: {e}")))?;
        let resp = self
            .http
            .execute(req)
            .await
            .map_err(|e| transport_error(&self.config.name, &e))?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport_error(&self.config.name, &e))?;
        Ok((status, body))
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
    async fn call(
        &self,
        build: impl Fn(&str) -> Result<Request<Bytes>, Error>,
    ) -> Result<(u16, Bytes), Error> {
        let (status, body) = self.send(build(&self.bearer(false).await?)?).await?;
        if status != 401 || matches!(self.config.auth, QumuloAuth::Token(_)) {
            return Ok((status, body));
        }
        self.send(build(&self.bearer(true).await?)?).await
    }

    /// Every upload of the bucket, following `paging.next` to its end.
    async fn read_bucket(&self, bucket: &str) -> Result<Vec<Upload>, Error> {
        let base = &self.config.base_url;
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (status, body) = self
                .call(|t| list_request(base, bucket, after.as_deref(), self.config.page_limit, t))
                .await?;
            if status == 401 {
                return Err(self.refused(&parse_error(status, &body, bucket, None)));
            }
            if status != 200 {
                return Err(parse_error(status, &body, bucket, None));
            }
            let QumuloPage {
                uploads,
                next_after,
            } = parse_page(&body)?;
            all.extend(uploads);
            if all.len() > self.config.max_uploads {
                return Err(Error::BackendUnavailable {
                    message: format!(
                        "bucket {bucket} on {} holds more than {} uploads, the most one listing may read (raise max_uploads)",
                        self.config.name, self.config.max_uploads
                    ),
                });
            }
            match next_after {
                Some(next) if after.as_deref() == Some(next.as_str()) => {
                    return Err(Error::BadBackendAnswer {
                        message: format!("{} repeated its paging token", self.config.name),
                    });
                }
                Some(next) => after = Some(next),
                None => return Ok(all),
            }
        }
    }

    async fn list(&self, q: ListUploads) -> Result<UploadsPage, Error> {
        let mut all = self.read_bucket(&q.bucket).await?;
        all.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        paginate(&all, &q)
    }

    async fn abort(&self, bucket: &str, upload_id: &str) -> Result<Outcome, Error> {
        let base = &self.config.base_url;
        let (status, body) = self
            .call(|t| abort_request(base, bucket, upload_id, t))
            .await?;
        match status {
            200 | 204 => Ok(Outcome::Aborted),
            401 => Err(self.refused(&parse_error(status, &body, bucket, Some(upload_id)))),
            _ => Err(parse_error(status, &body, bucket, Some(upload_id))),
        }
    }

    async fn buckets(&self) -> Result<Outcome, Error> {
        let base = &self.config.base_url;
        let (status, body) = self.call(|t| buckets_request(base, t)).await?;
        match status {
            200 => parse_buckets(&body).map(Outcome::Buckets),
            401 => Err(self.refused(&parse_error(status, &body, "", None))),
            _ => Err(parse_error(status, &body, "", None)),
        }
    }
}

#[async_trait]
impl Backend for QumuloBackend {
    fn name(&self) -> &str {
        &self.config.name
    }

    async fn execute(&self, op: Operation) -> Result<Outcome, Error> {
        match op {
            Operation::ListUploads(q) => self.list(q).await.map(Outcome::Page),
            Operation::AbortUpload {
                bucket,
                key,
                upload_id,
            } => {
                // Qumulo aborts by id alone; a caller that names a key (S3, BOS) must not abort
                // another key's upload, so the id is checked against the key first.
                if let Some(key) = key {
                    let owned = self
                        .read_bucket(&bucket)
                        .await?
                        .iter()
                        .any(|u| u.upload_id == upload_id && u.key == key);
                    if !owned {
                        return Err(Error::NoSuchUpload { upload_id });
                    }
                }
                self.abort(&bucket, &upload_id).await
            }
            Operation::ListBuckets => self.buckets().await,
            other => Err(Error::NotImplemented {
                what: format!("{} on a Qumulo backend", other.name()),
            }),
        }
    }
}
