//! One layer shape for the steps that look at a request and either let it through (perhaps
//! annotated) or refuse it: header limits, transport security, decoding, authentication,
//! authorization. Each step is a [`Check`]; [`CheckLayer`] makes it a tower layer.
//!
//! A check neither clones its inner service nor boxes a future: readiness is the inner
//! service's, and the answer is either the refusal, ready at once, or the inner call itself.
//! (Five checks stand on every request's path; the clone of the stack below each one and a
//! boxed future apiece were measured in `tests/load/peers.py --instructions`, see
//! BENCHMARKS.md.) A refused request leaves the inner service polled ready but not called;
//! nothing below a check reserves capacity in `poll_ready` (the concurrency limit takes its
//! slot in `call`, `shed.rs`), so nothing is held by the refusal.

use std::future::{Ready, ready};
use std::task::{Context, Poll};

use dragoman_model::Error;
use futures_util::future::Either;
use http::Request;
use http::request::Parts;
use tower::{BoxError, Layer, Service};

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
    S: Service<Request<B>, Error = BoxError>,
    C: Check<B>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Either<Ready<Result<S::Response, BoxError>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        match self.check.check(&mut parts, &body) {
            Ok(()) => Either::Right(self.inner.call(Request::from_parts(parts, body))),
            Err(e) => Either::Left(ready(Err(e.into()))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failure is the test failing

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tower::limit::ConcurrencyLimit;
    use tower::{ServiceExt, service_fn};

    use super::*;

    /// Refuses requests whose path is `/refused`, and marks the others.
    #[derive(Clone)]
    struct RefusePath;

    #[derive(Clone, Debug, PartialEq)]
    struct Passed;

    impl Check<()> for RefusePath {
        fn check(&self, parts: &mut Parts, _body: &()) -> Result<(), Error> {
            if parts.uri.path() == "/refused" {
                return Err(Error::access_denied("refused path"));
            }
            parts.extensions.insert(Passed);
            Ok(())
        }
    }

    fn request(path: &str) -> Request<()> {
        Request::builder().uri(path).body(()).unwrap()
    }

    #[tokio::test]
    async fn a_refused_request_never_reaches_the_inner_service_and_a_passed_one_is_annotated() {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let inner = service_fn(move |req: Request<()>| {
            seen.fetch_add(1, Ordering::SeqCst);
            let passed = req.extensions().get::<Passed>().cloned();
            async move { Ok::<_, BoxError>(passed) }
        });
        let svc = CheckLayer::new(RefusePath).layer(inner);

        let err = svc.clone().oneshot(request("/refused")).await.unwrap_err();
        assert!(
            matches!(
                err.downcast_ref::<Error>(),
                Some(Error::AccessDenied { .. })
            ),
            "{err}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        let passed = svc.oneshot(request("/b")).await.unwrap();
        assert_eq!(passed, Some(Passed));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn readiness_is_the_inner_services() {
        // An inner service with one slot, taken: the check is not ready either, so a caller
        // above it (load shedding) sees the overload instead of queueing past it.
        let inner = service_fn(|_: Request<()>| async { Ok::<_, BoxError>(()) });
        let mut held = CheckLayer::new(RefusePath).layer(ConcurrencyLimit::new(inner, 1));
        let mut other = held.clone();
        std::future::poll_fn(|cx| held.poll_ready(cx))
            .await
            .unwrap();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(other.poll_ready(&mut cx).is_pending());

        // The slot comes back when the service holding it goes, as a per-request clone does.
        drop(held);
        assert!(other.poll_ready(&mut cx).is_ready());
    }
}
