//! One layer shape for the steps that look at a request and either let it through (perhaps
//! annotated) or refuse it: header limits, transport security, decoding, authentication,
//! authorization. Each step is a [`Check`]; [`CheckLayer`] makes it a tower layer.

use std::task::{Context, Poll};

use dragoman_model::Error;
use futures_util::future::BoxFuture;
use http::Request;
use http::request::Parts;
use tower::{BoxError, Layer, Service, ServiceExt};

/// A step that inspects (and may annotate) a request's head, given its body.
pub trait Check<B>: Clone + Send + Sync + 'static {
    fn check(&self, parts: &mut Parts, body: &B) -> Result<(), Error>;
}

#[derive(Clone, Debug)]
pub struct CheckLayer<C> {
    check: C,
}

impl<C> CheckLayer<C> {
    pub fn new(check: C) -> Self {
        Self { check }
    }
}

impl<S, C: Clone> Layer<S> for CheckLayer<C> {
    type Service = CheckService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CheckService {
            inner,
            check: self.check.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct CheckService<S, C> {
    inner: S,
    check: C,
}

impl<S, C, B> Service<Request<B>> for CheckService<S, C>
where
    S: Service<Request<B>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    C: Check<B>,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness is the inner service's, taken per request by `oneshot`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        if let Err(e) = self.check.check(&mut parts, &body) {
            return Box::pin(std::future::ready(Err(e.into())));
        }
        Box::pin(self.inner.clone().oneshot(Request::from_parts(parts, body)))
    }
}
