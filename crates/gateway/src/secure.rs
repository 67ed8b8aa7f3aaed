//! Refuses credentials sent in the clear. When the listener serves TLS, the dialects named in
//! `tls.require_for` (Qumulo by default: its passwords and bearer tokens are the secrets
//! themselves, where S3's and BOS's signatures are not) may not send credentials over plain
//! HTTP; the caller is told, in its dialect, to use https.

use std::sync::Arc;
use std::task::{Context, Poll};

use dragoman_model::Error;
use futures_util::future::BoxFuture;
use http::Request;
use tower::{BoxError, Layer, Service, ServiceExt};

use crate::context::{Caller, Transport};

#[derive(Clone, Debug, Default)]
pub struct RequireTlsLayer {
    dialects: Arc<[String]>,
}

impl RequireTlsLayer {
    /// `dialects`: the dialects whose credentials must come over TLS (empty: none).
    pub fn new(dialects: Vec<String>) -> Self {
        Self {
            dialects: dialects.into(),
        }
    }
}

impl<S> Layer<S> for RequireTlsLayer {
    type Service = RequireTls<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireTls {
            inner,
            dialects: Arc::clone(&self.dialects),
        }
    }
}

#[derive(Clone, Debug)]
pub struct RequireTls<S> {
    inner: S,
    dialects: Arc<[String]>,
}

/// Whether the request carries credentials: an authorization header or query, or a login.
fn carries_credentials<B>(req: &Request<B>) -> bool {
    req.headers().contains_key(http::header::AUTHORIZATION)
        || req.uri().query().is_some_and(|q| {
            q.split('&').any(|p| {
                let k = p.split('=').next().unwrap_or_default();
                k.eq_ignore_ascii_case("authorization") || k == "X-Amz-Signature"
            })
        })
        || req.uri().path().starts_with("/v1/session/")
}

impl<S, B> Service<Request<B>> for RequireTls<S>
where
    S: Service<Request<B>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let plain = req.extensions().get::<Transport>().is_some_and(|t| !t.tls);
        let required = req
            .extensions()
            .get::<Caller>()
            .is_some_and(|c| self.dialects.iter().any(|d| d == c.dialect.name()));
        if plain && required && carries_credentials(&req) {
            return Box::pin(std::future::ready(Err(Error::TlsRequired.into())));
        }
        Box::pin(self.inner.clone().oneshot(req))
    }
}
