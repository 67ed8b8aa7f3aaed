//! The core service: one request in, one response out, never an error.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dragoman_backend::Backend;
use dragoman_backend::http::now;
use dragoman_dialect_bos::BosConfig;
use dragoman_dialect_qumulo::QumuloConfig;
use dragoman_dialect_s3::S3Config;
use dragoman_model::{Error, Operation, Outcome, Principal, Timestamp};
use http::request::Parts;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use tower::{BoxError, Service};

use crate::frontend::{Dialect, Frontends};
use crate::request_id::RequestId;
use crate::{Access, User};

/// What the gateway needs to answer requests.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub s3: S3Config,
    pub bos: BosConfig,
    pub qumulo: QumuloConfig,
    /// The dialect of requests that carry no dialect's signals.
    pub default_dialect: Dialect,
    pub users: Vec<User>,
    /// The most header bytes (names and values) a request may carry.
    pub max_header_bytes: usize,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// How long a backend may take to answer.
    pub backend_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            s3: S3Config::default(),
            bos: BosConfig::default(),
            qumulo: QumuloConfig::default(),
            default_dialect: Dialect::S3,
            users: Vec::new(),
            max_header_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            backend_timeout: Duration::from_secs(30),
        }
    }
}

struct Inner {
    frontends: Frontends,
    access: Access,
    backend: Arc<dyn Backend>,
    max_header_bytes: usize,
    max_body_bytes: usize,
    backend_timeout: Duration,
}

/// The core service. Cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

impl Gateway {
    pub fn new(config: GatewayConfig, backend: Arc<dyn Backend>) -> Self {
        Self {
            inner: Arc::new(Inner {
                frontends: Frontends {
                    s3: config.s3,
                    bos: config.bos,
                    qumulo: config.qumulo,
                    default: config.default_dialect,
                },
                access: Access::new(config.users),
                backend,
                max_header_bytes: config.max_header_bytes,
                max_body_bytes: config.max_body_bytes,
                backend_timeout: config.backend_timeout,
            }),
        }
    }

    /// Answers one request. Every failure is rendered here, in the caller's dialect.
    pub async fn respond<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<BoxError>,
    {
        let started = Instant::now();
        let id = req
            .extensions()
            .get::<RequestId>()
            .copied()
            .unwrap_or_else(RequestId::random);
        let (parts, body) = req.into_parts();
        let f = &self.inner.frontends;
        let dialect = f.detect(&parts);
        let meta = f.meta(dialect, id);
        let result = self.run(dialect, &parts, body).await;
        let (resp, op_name) = match &result {
            Ok((op, outcome)) => (f.encode(dialect, op, outcome, &meta), op.name()),
            Err(err) => (
                f.encode_error(dialect, err, &meta, parts.method == Method::HEAD),
                "-",
            ),
        };
        let status = resp.status().as_u16();
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        match &result {
            Err(err) if status >= 500 => tracing::warn!(
                request_id = %meta.request_id, dialect = dialect.name(), method = %parts.method,
                path = parts.uri.path(), status, elapsed_us, error = %err, "request failed"
            ),
            Err(err) => tracing::info!(
                request_id = %meta.request_id, dialect = dialect.name(), method = %parts.method,
                path = parts.uri.path(), status, elapsed_us, error = %err, "request refused"
            ),
            Ok(_) => tracing::info!(
                request_id = %meta.request_id, dialect = dialect.name(), op = op_name,
                status, elapsed_us, "request served"
            ),
        }
        resp.map(Full::new)
    }

    async fn run<B>(
        &self,
        dialect: Dialect,
        parts: &Parts,
        body: B,
    ) -> Result<(Operation, Outcome), Error>
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<BoxError>,
    {
        let inner = &*self.inner;
        let header_bytes: usize = parts
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum();
        if header_bytes > inner.max_header_bytes {
            return Err(Error::HeadersTooLarge);
        }
        let body = read_body(body, inner.max_body_bytes).await?;
        let mut op = inner.frontends.decode(dialect, parts, &body)?;
        let now = now();
        // A login is how a caller gets credentials: the gateway answers it, no backend does.
        if let Operation::Login { username, password } = &op {
            let principal = inner.access.login(username, password)?;
            let ttl =
                i64::try_from(inner.frontends.qumulo.session_ttl.as_nanos()).unwrap_or(i64::MAX);
            let expires = Timestamp::from_nanos(now.as_nanos().saturating_add(ttl));
            return Ok((
                op,
                Outcome::LoggedIn {
                    access_key: principal.access_key,
                    expires,
                },
            ));
        }
        let access_key = inner
            .frontends
            .authenticate(dialect, parts, &body, &inner.access, now)?;
        let principal = access_key
            .and_then(|k| inner.access.principal(&k))
            .ok_or_else(|| Error::Unauthenticated {
                message: "Anonymous access is forbidden for this operation".into(),
            })?;
        if let Some(bucket) = op.bucket() {
            inner.access.authorize(&principal, bucket)?;
        }
        if let Operation::CreateUpload(new) = &mut op {
            new.initiator = Some(inner.access.identity(&principal));
        }
        let outcome =
            tokio::time::timeout(inner.backend_timeout, inner.backend.execute(op.clone()))
                .await
                .map_err(|_| Error::BackendTimeout)??;
        Ok((op, self.visible(&principal, outcome)))
    }

    /// A bucket listing shows only the buckets the principal may use.
    fn visible(&self, principal: &Principal, outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Buckets(all) => Outcome::Buckets(
                all.into_iter()
                    .filter(|b| self.inner.access.may_use(principal, &b.name))
                    .collect(),
            ),
            other => other,
        }
    }
}

async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, Error>
where
    B: http_body::Body<Data = Bytes> + Send,
    B::Error: Into<BoxError>,
{
    if http_body::Body::size_hint(&body).lower() > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(Error::BodyTooLarge);
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(Error::BodyTooLarge)
        }
        Err(e) => Err(Error::InvalidRequest {
            message: format!("could not read the request body: {e}"),
        }),
    }
}

impl<B> Service<Request<B>> for Gateway
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.respond(req).await) })
    }
}
