//! The outbound stack around each backend client, outermost first:
//!
//! ```text
//! metrics -> circuit breaker -> retry (idempotent reads, budgeted) -> concurrency limit
//!         -> timeout -> client
//! ```
//!
//! The breaker sits outside the retries so that one call, however many tries it took, is one
//! success or one failure; the limit sits inside them so that a retry waits for a slot like
//! any call; the timeout bounds each try.

mod breaker;
mod call_metrics;
mod retry;

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use dragoman_metrics::Metrics;
use dragoman_model::Error;
use futures_util::future::BoxFuture;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, ServiceBuilder};

pub(crate) use breaker::is_failure;
pub use breaker::{Breaker, BreakerLayer, BreakerState};
pub use call_metrics::CallMetricsLayer;
pub(crate) use call_metrics::outcome_of;
pub use retry::RetryPolicy;

use crate::client::{Call, Client, Reply};

/// A backend client behind its outbound stack. Cheap to clone.
pub type Outbound = BoxCloneSyncService<Call, Reply, Error>;

/// The resilience settings of one backend.
#[derive(Clone, Debug)]
pub struct OutboundConfig {
    /// How long one try may take.
    pub timeout: Duration,
    /// Calls in flight to this backend at once; more wait for a slot.
    pub max_concurrency: usize,
    /// Tries after the first for an idempotent read that failed retryably.
    pub max_retries: u32,
    /// Retries may add at most this share of the calls (plus `retry_min_per_sec`).
    pub retry_ratio: f32,
    pub retry_min_per_sec: u32,
    /// Consecutive failed calls that open the breaker.
    pub breaker_failures: u32,
    /// How long an open breaker refuses calls before it lets one probe through.
    pub breaker_cooldown: Duration,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_concurrency: 256,
            max_retries: 2,
            retry_ratio: 0.2,
            retry_min_per_sec: 10,
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(5),
        }
    }
}

/// A client as a tower service.
#[derive(Clone)]
struct ClientService(Arc<dyn Client>);

impl tower::Service<Call> for ClientService {
    type Response = Reply;
    type Error = Error;
    type Future = BoxFuture<'static, Result<Reply, Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: Call) -> Self::Future {
        let client = Arc::clone(&self.0);
        Box::pin(async move { client.call(call).await })
    }
}

/// The one place a tower error from the stack becomes a canonical error.
fn canonical(e: BoxError) -> Error {
    match e.downcast::<Error>() {
        Ok(e) => *e,
        Err(e) if e.is::<tower::timeout::error::Elapsed>() => Error::BackendTimeout,
        Err(e) => Error::internal(format!("outbound stack: {e}")),
    }
}

/// Wraps `client` in its outbound stack. Returns the stack and its breaker (for `/readyz`).
pub fn stack(
    name: &Arc<str>,
    client: Arc<dyn Client>,
    config: &OutboundConfig,
    metrics: &Metrics,
) -> (Outbound, Arc<Breaker>) {
    let breaker = Arc::new(Breaker::new(
        Arc::clone(name),
        config.breaker_failures,
        config.breaker_cooldown,
        metrics.clone(),
    ));
    let service = ServiceBuilder::new()
        .layer(CallMetricsLayer::new(Arc::clone(name), metrics.clone()))
        .layer(BreakerLayer::new(Arc::clone(&breaker)))
        .layer(tower::retry::RetryLayer::new(RetryPolicy::new(
            Arc::clone(name),
            config,
            metrics.clone(),
        )))
        .layer(tower::limit::ConcurrencyLimitLayer::new(
            config.max_concurrency.max(1),
        ))
        .map_err(canonical)
        .layer(tower::timeout::TimeoutLayer::new(config.timeout))
        .service(ClientService(client));
    (BoxCloneSyncService::new(service), breaker)
}
