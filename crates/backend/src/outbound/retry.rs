//! Retries for idempotent reads only, bounded twice: a few tries per call, and a budget
//! (tower's `TpsBudget`) so that retries add at most a share of the traffic. A backend in
//! trouble then sees a bounded extra load instead of every caller's tries multiplied.

use std::sync::Arc;
use std::time::Duration;

use dragoman_metrics::Metrics;
use dragoman_model::Error;
use tower::retry::Policy;
use tower::retry::budget::{Budget, TpsBudget};

use super::OutboundConfig;
use crate::client::{Call, Reply};

#[derive(Clone)]
pub struct RetryPolicy {
    backend: Arc<str>,
    budget: Arc<TpsBudget>,
    metrics: Metrics,
    /// Tries left for this call (the policy is cloned per call).
    left: u32,
    tried: u32,
}

impl RetryPolicy {
    pub fn new(backend: Arc<str>, config: &OutboundConfig, metrics: Metrics) -> Self {
        Self {
            backend,
            budget: Arc::new(TpsBudget::new(
                Duration::from_secs(10),
                config.retry_min_per_sec,
                config.retry_ratio,
            )),
            metrics,
            left: config.max_retries,
            tried: 0,
        }
    }
}

/// Errors worth another try: the backend may answer differently in a moment.
fn retryable(e: &Error) -> bool {
    matches!(
        e,
        Error::BackendUnavailable { .. } | Error::BackendTimeout | Error::Throttled { .. }
    )
}

impl Policy<Call, Reply, Error> for RetryPolicy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        call: &mut Call,
        result: &mut Result<Reply, Error>,
    ) -> Option<Self::Future> {
        let Err(e) = result else {
            return None;
        };
        if self.left == 0 || !call.is_idempotent_read() || !retryable(e) {
            return None;
        }
        if !self.budget.withdraw() {
            tracing::debug!(backend = %self.backend, "retry budget spent; not retrying");
            return None;
        }
        self.left -= 1;
        self.tried += 1;
        self.metrics.retry(&self.backend);
        // 25 ms, then 50 ms: long enough for a dropped connection to be replaced, short
        // enough to stay far inside a caller's patience.
        Some(tokio::time::sleep(
            Duration::from_millis(25) * (1 << self.tried.min(4)),
        ))
    }

    fn clone_request(&mut self, call: &Call) -> Option<Call> {
        if self.tried == 0 {
            // Each original call earns the budget a little.
            self.budget.deposit();
        }
        call.is_idempotent_read().then(|| call.clone())
    }
}
