//! Counts and times every backend call by backend, call and outcome.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use dragoman_metrics::Metrics;
use dragoman_model::Error;
use futures_util::future::BoxFuture;
use tower::{Layer, Service};

use crate::client::Call;

/// The outcome label: a short class, never a message.
fn outcome(result: &Result<impl Sized, Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => outcome_of(e),
    }
}

/// The outcome label of a failed call.
pub(crate) fn outcome_of(e: &Error) -> &'static str {
    match e {
        Error::BackendUnavailable { .. } => "unavailable",
        Error::BackendTimeout => "timeout",
        Error::BadBackendAnswer { .. } => "bad_answer",
        Error::Throttled { .. } => "throttled",
        Error::NotImplemented { .. } => "not_implemented",
        Error::Internal { .. } => "internal",
        // The backend answered, and the answer was "no": missing bucket, bad marker, ...
        _ => "refused",
    }
}

#[derive(Clone)]
pub struct CallMetricsLayer {
    backend: Arc<str>,
    metrics: Metrics,
}

impl CallMetricsLayer {
    pub fn new(backend: Arc<str>, metrics: Metrics) -> Self {
        Self { backend, metrics }
    }
}

impl<S> Layer<S> for CallMetricsLayer {
    type Service = CallMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallMetrics {
            inner,
            backend: Arc::clone(&self.backend),
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct CallMetrics<S> {
    inner: S,
    backend: Arc<str>,
    metrics: Metrics,
}

impl<S> Service<Call> for CallMetrics<S>
where
    S: Service<Call, Error = Error>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = Error;
    type Future = BoxFuture<'static, Result<S::Response, Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: Call) -> Self::Future {
        let name = call.name();
        let started = Instant::now();
        let fut = self.inner.call(call);
        let (backend, metrics) = (Arc::clone(&self.backend), self.metrics.clone());
        Box::pin(async move {
            let result = fut.await;
            metrics.backend_call(&backend, name, outcome(&result), started.elapsed());
            result
        })
    }
}
