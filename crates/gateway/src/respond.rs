//! Respond: the only place an error becomes a response. Whatever an inner layer returns (a
//! canonical error, tower's overload or timeout error) or however it fails (a panic), the
//! caller gets an answer in its own dialect. (tower-http's `CatchPanicLayer`, request-id and
//! timeout layers answer in one fixed format of their own, which cannot be a dialect's error
//! document; hence the panic catch here and the typed errors everywhere else.) Respond also writes the one access-log line of
//! every request and records its metrics, since only here are both the request and its
//! final status known.

use std::any::Any;
use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use dragoman_metrics::Metrics;
use dragoman_model::Error;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use http::{Method, Request, Response};
use tower::{BoxError, Layer, Service};

use crate::context::{Body, Caller, Notes, full, notes};
use crate::request_id::TraceParent;

#[derive(Clone, Debug)]
pub struct RespondLayer {
    metrics: Metrics,
}

impl RespondLayer {
    pub fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for RespondLayer {
    type Service = Respond<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Respond {
            inner,
            metrics: self.metrics.clone(),
            not_ready: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Respond<S> {
    inner: S,
    metrics: Metrics,
    /// The inner service's readiness failure, answered as the next request's error (this
    /// layer's own error type is `Infallible`: every error is a response).
    not_ready: Option<Error>,
}

/// Any error an inner layer can return, as the canonical error the caller will see.
pub fn canonical(e: BoxError) -> Error {
    match e.downcast::<Error>() {
        Ok(e) => *e,
        Err(e) if e.is::<tower::load_shed::error::Overloaded>() => crate::shed::overloaded(),
        Err(e) if e.is::<tower::timeout::error::Elapsed>() => Error::BackendTimeout,
        Err(e) => Error::internal(e.to_string()),
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

impl<S, B> Service<Request<B>> for Respond<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = BoxError> + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        if self.not_ready.is_some() {
            return Poll::Ready(Ok(()));
        }
        match self.inner.poll_ready(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => {
                self.not_ready = Some(canonical(e));
                Poll::Ready(Ok(()))
            }
        }
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let started = Instant::now();
        let caller = req.extensions().get::<Caller>().cloned();
        let trace = req.extensions().get::<TraceParent>().cloned();
        let notes = notes(&mut req);
        let head = req.method() == Method::HEAD;
        let (method, path) = (req.method().clone(), req.uri().path().to_owned());
        let in_flight = self.metrics.in_flight();
        // The call itself may panic as well as its future: both are caught.
        let called = match self.not_ready.take() {
            None => std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(req))).map(Ok),
            Some(e) => Ok(Err(e)),
        };
        Box::pin(async move {
            let outcome = match called {
                Ok(Ok(fut)) => AssertUnwindSafe(fut).catch_unwind().await,
                Ok(Err(e)) => Ok(Err(BoxError::from(e))),
                Err(panic) => Err(panic),
            };
            let failure = match outcome {
                Ok(Ok(resp)) => Ok(resp),
                Ok(Err(e)) => Err(canonical(e)),
                Err(panic) => Err(Error::internal(format!(
                    "panic: {}",
                    panic_message(&*panic)
                ))),
            };
            let resp = match (&failure, &caller) {
                (Ok(_), _) => None,
                (Err(err), Some(c)) => Some(c.dialect.encode_error(err, &c.meta, head).map(full)),
                // Detection always runs first; without it there is no dialect to answer in.
                (Err(_), None) => Some(plain_500()),
            };
            let (resp, err) = match (failure, resp) {
                (Ok(resp), _) => (resp, None),
                (Err(err), Some(resp)) => (resp, Some(err)),
                (Err(err), None) => (plain_500(), Some(err)),
            };
            let line = AccessLine {
                caller: caller.as_ref(),
                notes: &notes,
                trace: trace.as_ref(),
                method: &method,
                path: &path,
                status: resp.status().as_u16(),
                started,
            };
            line.record(in_flight.metrics(), err.as_ref());
            Ok(resp)
        })
    }
}

fn plain_500() -> Response<Body> {
    let mut resp = Response::new(full(bytes::Bytes::from_static(b"internal error\n")));
    *resp.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    resp
}

/// One request as the access log and the metrics see it.
struct AccessLine<'a> {
    caller: Option<&'a Caller>,
    notes: &'a Arc<Notes>,
    trace: Option<&'a TraceParent>,
    method: &'a Method,
    path: &'a str,
    status: u16,
    started: Instant,
}

impl AccessLine<'_> {
    fn record(&self, metrics: &Metrics, err: Option<&Error>) {
        let took = self.started.elapsed();
        let dialect = self.caller.map_or("none", |c| c.dialect.name());
        let operation = self.notes.operation.get().copied().unwrap_or("none");
        metrics.request(dialect, operation, self.status, took);
        let request_id = self.caller.map_or("", |c| c.meta.request_id.as_str());
        let user = self.notes.user.get().map_or("-", |u| &**u);
        let backend = self.notes.backend.get().map_or("-", String::as_str);
        let trace_id = self.trace.map_or("-", |t| t.trace_id.as_str());
        let elapsed_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let (method, path, status) = (self.method.as_str(), self.path, self.status);
        match err {
            // The cause in full (an internal error's message, a backend's address): for the
            // operator only; the caller got the dialect's rendering.
            Some(e) if status >= 500 => tracing::warn!(
                target: "dragoman::access", request_id, dialect, operation, user, backend,
                method, path, status, elapsed_us, trace_id, error = %e, cause = ?e,
                "request failed"
            ),
            Some(e) => tracing::info!(
                target: "dragoman::access", request_id, dialect, operation, user, backend,
                method, path, status, elapsed_us, trace_id, error = %e, "request refused"
            ),
            None => tracing::info!(
                target: "dragoman::access", request_id, dialect, operation, user, backend,
                method, path, status, elapsed_us, trace_id, "request served"
            ),
        }
    }
}
