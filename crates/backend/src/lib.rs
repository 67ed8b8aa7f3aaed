//! Backends answer canonical operations.
//!
//! A backend is three parts, each with one job:
//!
//! - a [`Client`] speaks one storage protocol (the embedded store, S3, BOS, Qumulo) and
//!   declares its [`Capabilities`];
//! - the [`outbound`] stack wraps it in metrics, a circuit breaker, budgeted retries for
//!   idempotent reads, a concurrency limit and a timeout;
//! - the [`Planner`] turns canonical operations into calls and emulates what the
//!   capabilities lack.
//!
//! The [`Router`] picks the backend that owns a bucket. The gateway holds it behind
//! `dyn Backend` and never learns which backend it talks to.
//!
//! Adding a backend kind is one new client module (a `Client` impl) and one arm where the
//! binary builds clients from configuration.

mod bos;
pub mod client;
mod embedded;
mod forward;
pub mod http;
mod http1_pool;
mod markers;
pub mod outbound;
mod planner;
mod qumulo;
mod router;
mod s3;

use std::sync::Arc;

use async_trait::async_trait;
use dragoman_metrics::Metrics;
use dragoman_model::{Error, Operation, Outcome};

pub use bos::{BosClient, BosClientConfig};
pub use client::{Call, Capabilities, Client, NativePage, PageRequest, Reply};
pub use embedded::EmbeddedClient;
pub use forward::ForwardCall;
pub use outbound::{Breaker, BreakerState, OutboundConfig};
pub use planner::{Planner, SnapshotConfig};
pub use qumulo::{QumuloAuth, QumuloClient, QumuloClientConfig, qumulo_native_page};
pub use router::{Route, Router};
pub use s3::{S3Client, S3ClientConfig};

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The backend's configured name, for logs and metrics (`embedded`, `lake`, …).
    fn name(&self) -> &str;

    /// `embedded`, `s3`, `bos` or `qumulo`, for messages.
    fn kind(&self) -> &str;

    /// Answers one canonical operation. Errors are canonical errors, never panics.
    async fn execute(&self, op: Operation) -> Result<Outcome, Error>;

    /// The bytes an upload's parts hold, where the backend's API says (S3 and BOS ListParts).
    async fn upload_size(
        &self,
        _bucket: &str,
        _key: &str,
        _upload_id: &str,
    ) -> Result<Option<u64>, Error> {
        Ok(None)
    }

    /// The caller dialect whose requests this backend takes as they are, if any.
    fn forwards(&self) -> Option<&'static str> {
        None
    }

    /// Sends a caller's request on (see [`ForwardCall`]).
    async fn forward(
        &self,
        call: ForwardCall,
    ) -> Result<::http::Response<dragoman_dialect::StreamBody>, Error> {
        Err(Error::NotImplemented {
            what: format!("{} requests on a {} backend", call.method, self.kind()),
        })
    }
}

/// A client behind its outbound stack and planner: a backend ready for the router, and its
/// breaker for readiness checks.
pub fn backend(
    name: &str,
    client: Arc<dyn Client>,
    outbound: &OutboundConfig,
    snapshot: SnapshotConfig,
    metrics: &Metrics,
) -> (Arc<Planner>, Arc<Breaker>) {
    let name: Arc<str> = Arc::from(name);
    let (kind, caps) = (client.kind(), client.capabilities());
    let (stack, breaker) = outbound::stack(&name, Arc::clone(&client), outbound, metrics);
    let sizes = Arc::clone(&client);
    let forwarder = client.forwards().is_some().then(|| forward::Forwarder {
        name: Arc::clone(&name),
        client,
        breaker: Arc::clone(&breaker),
        metrics: metrics.clone(),
        head_timeout: outbound.timeout,
    });
    (
        Arc::new(
            Planner::new(name, kind, caps, stack, snapshot)
                .with_forwarder(forwarder)
                .with_sizes(sizes),
        ),
        breaker,
    )
}

/// The embedded store as a backend named `embedded`, with store latency metrics.
pub fn embedded(
    store: Arc<dragoman_store::Store>,
    metrics: &Metrics,
) -> (Arc<Planner>, Arc<Breaker>) {
    backend(
        "embedded",
        Arc::new(EmbeddedClient::new(store).with_metrics(metrics.clone())),
        &OutboundConfig::default(),
        SnapshotConfig::default(),
        metrics,
    )
}
