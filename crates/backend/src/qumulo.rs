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
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Mutex;

use crate::Backend;
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
    /// How long a bucket's sorted snapshot serves the pages after the first.
    pub snapshot_ttl: std::time::Duration,
}

/// How the backend reaches a Qumulo cluster. The HTTP transport is the real one (with its
/// login and re-login); tests put an in-memory cluster behind the same planner logic.
#[async_trait]
pub trait QumuloTransport: Send + Sync + 'static {
    /// One page of the bucket's uploads after the opaque `after` token.
    async fn page(&self, bucket: &str, after: Option<&str>) -> Result<QumuloPage, Error>;
    async fn abort(&self, bucket: &str, upload_id: &str) -> Result<Outcome, Error>;
    async fn buckets(&self) -> Result<Outcome, Error>;
}

/// A Qumulo cluster over HTTPS.
pub struct HttpQumulo {
    config: QumuloBackendConfig,
    http: reqwest::Client,
    session: Mutex<Option<String>>,
}

type Snapshot = Arc<Vec<Upload>>;

pub struct QumuloBackend<T: QumuloTransport = HttpQumulo> {
    name: String,
    max_uploads: usize,
    snapshot_ttl: std::time::Duration,
    snapshots: std::sync::Mutex<HashMap<String, (Instant, Snapshot)>>,
    transport: T,
}

impl QumuloBackend {
    pub fn new(config: QumuloBackendConfig) -> Result<Self, Error> {
        let http = client(&config.http)?;
        let (name, max_uploads, snapshot_ttl) =
            (config.name.clone(), config.max_uploads, config.snapshot_ttl);
        Ok(Self::with_transport(
            &name,
            max_uploads,
            snapshot_ttl,
            HttpQumulo {
                config,
                http,
                session: Mutex::new(None),
            },
        ))
    }
}

impl HttpQumulo {
    async fn send(&self, req: Request<Bytes>) -> Result<(u16, Bytes), Error> {
        send(&self.http, &self.config.name, req).await
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
}

#[async_trait]
impl QumuloTransport for HttpQumulo {
    async fn page(&self, bucket: &str, after: Option<&str>) -> Result<QumuloPage, Error> {
        let base = &self.config.base_url;
        let (status, body) = self
            .call(|t| list_request(base, bucket, after, self.config.page_limit, t))
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

impl<T: QumuloTransport> QumuloBackend<T> {
    /// A Qumulo backend over any transport.
    pub fn with_transport(
        name: &str,
        max_uploads: usize,
        snapshot_ttl: std::time::Duration,
        transport: T,
    ) -> Self {
        Self {
            name: name.to_owned(),
            max_uploads,
            snapshot_ttl,
            snapshots: std::sync::Mutex::new(HashMap::new()),
            transport,
        }
    }

    /// Every upload of the bucket, following `paging.next` to its end.
    async fn read_bucket(&self, bucket: &str) -> Result<Vec<Upload>, Error> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let QumuloPage {
                uploads,
                next_after,
            } = self.transport.page(bucket, after.as_deref()).await?;
            all.extend(uploads);
            if all.len() > self.max_uploads {
                return Err(Error::BackendUnavailable {
                    message: format!(
                        "bucket {bucket} on {} holds more than {} uploads, the most one listing may read (raise max_uploads)",
                        self.name, self.max_uploads
                    ),
                });
            }
            match next_after {
                Some(next) if after.as_deref() == Some(next.as_str()) => {
                    return Err(Error::BadBackendAnswer {
                        message: format!("{} repeated its paging token", self.name),
                    });
                }
                Some(next) => after = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// The bucket's uploads in canonical order. A listing's first page reads the bucket afresh;
    /// the pages after it use that snapshot while it is younger than `snapshot_ttl`, so a
    /// listing costs one bucket read, not one per page.
    async fn snapshot(&self, bucket: &str, first_page: bool) -> Result<Snapshot, Error> {
        if !first_page {
            let cached = self
                .snapshots
                .lock()
                .ok()
                .and_then(|m| m.get(bucket).cloned());
            if let Some((at, snap)) = cached.filter(|(at, _)| at.elapsed() < self.snapshot_ttl) {
                let _ = at;
                return Ok(snap);
            }
        }
        let mut all = self.read_bucket(bucket).await?;
        all.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let snap = Arc::new(all);
        if let Ok(mut m) = self.snapshots.lock() {
            m.retain(|_, (at, _)| at.elapsed() < self.snapshot_ttl);
            m.insert(bucket.to_owned(), (Instant::now(), Arc::clone(&snap)));
        }
        Ok(snap)
    }

    async fn list(&self, q: ListUploads) -> Result<UploadsPage, Error> {
        let snap = self.snapshot(&q.bucket, q.after.is_none()).await?;
        paginate(&snap, &q)
    }
}

#[async_trait]
impl<T: QumuloTransport> Backend for QumuloBackend<T> {
    fn name(&self) -> &str {
        &self.name
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
                self.transport.abort(&bucket, &upload_id).await
            }
            Operation::ListBuckets => self.transport.buckets().await,
            other => Err(Error::NotImplemented {
                what: format!("{} on a Qumulo backend", other.name()),
            }),
        }
    }
}
