//! A circuit breaker per backend. After `failures` consecutive failed calls it opens: calls
//! are refused at once (the caller's 503) instead of each waiting for a timeout. After
//! `cooldown` one call probes; its success closes the breaker, its failure opens it again.
//!
//! Hand-written: tower has no breaker, and the crates that do either own the retry policy
//! too or cannot report their state, which `/readyz` needs.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use dragoman_metrics::{Metrics, breaker_state};
use dragoman_model::Error;
use futures_util::future::BoxFuture;
use tower::{Layer, Service};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    /// Refusing calls until the cooldown ends.
    Open,
    /// The cooldown ended: the next call probes (or one is probing).
    HalfOpen,
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

pub struct Breaker {
    backend: Arc<str>,
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
    metrics: Metrics,
}

/// What the breaker let through: an ordinary call, or the one probe of a half-open breaker.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Admission {
    Call,
    Probe,
}

/// Whether an error says the backend is unhealthy (rather than that the request was wrong).
pub(crate) fn is_failure(e: &Error) -> bool {
    matches!(
        e,
        Error::BackendUnavailable { .. } | Error::BackendTimeout | Error::BadBackendAnswer { .. }
    )
}

impl Breaker {
    pub fn new(backend: Arc<str>, threshold: u32, cooldown: Duration, metrics: Metrics) -> Self {
        metrics.breaker_state(&backend, breaker_state::CLOSED);
        Self {
            backend,
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
            metrics,
        }
    }

    pub fn backend(&self) -> &str {
        &self.backend
    }

    /// The state as `/readyz` and the metrics see it. An open breaker whose cooldown is over
    /// reads half-open: it is ready to probe, and a readiness check that kept it out of
    /// rotation would starve it of the very call that closes it.
    pub fn state(&self) -> BreakerState {
        match &*self.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if Instant::now() < *until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Runs one call that does not go through the tower stack (a forwarded stream) under
    /// the breaker: refused at once while it is open; `healthy` judges the result.
    pub(crate) async fn run<T>(
        self: &Arc<Self>,
        call: impl std::future::Future<Output = Result<T, Error>>,
        healthy: impl FnOnce(&Result<T, Error>) -> bool,
    ) -> Result<T, Error> {
        let admission = self.admit()?;
        let mut pending = Pending {
            breaker: Arc::clone(self),
            admission,
            done: false,
        };
        let result = call.await;
        pending.done = true;
        self.record(admission, healthy(&result));
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the state itself is always whole.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn admit(&self) -> Result<Admission, Error> {
        let mut state = self.lock();
        match &*state {
            State::Closed { .. } => Ok(Admission::Call),
            State::Open { until } if Instant::now() < *until => Err(self.refusal()),
            State::Open { .. } | State::HalfOpen { probing: false } => {
                *state = State::HalfOpen { probing: true };
                self.metrics
                    .breaker_state(&self.backend, breaker_state::HALF_OPEN);
                Ok(Admission::Probe)
            }
            State::HalfOpen { probing: true } => Err(self.refusal()),
        }
    }

    fn refusal(&self) -> Error {
        Error::BackendUnavailable {
            message: format!(
                "{}: circuit breaker open after {} consecutive failures",
                self.backend, self.threshold
            ),
        }
    }

    fn record(&self, admission: Admission, healthy: bool) {
        let mut state = self.lock();
        let next = match (&*state, healthy) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            // A call admitted before the breaker opened does not extend the open period.
            (State::Open { .. }, false) if admission == Admission::Call => return,
            (_, false) => State::Open {
                until: Instant::now() + self.cooldown,
            },
        };
        let gauge = match next {
            State::Closed { .. } => breaker_state::CLOSED,
            State::Open { .. } => {
                tracing::warn!(backend = %self.backend, cooldown = ?self.cooldown, "circuit breaker open");
                breaker_state::OPEN
            }
            State::HalfOpen { .. } => breaker_state::HALF_OPEN,
        };
        if matches!(next, State::Closed { .. }) && !matches!(*state, State::Closed { .. }) {
            tracing::info!(backend = %self.backend, "circuit breaker closed");
        }
        *state = next;
        self.metrics.breaker_state(&self.backend, gauge);
    }
}

/// Records a probe that never finished (its caller went away) as a failure, so the breaker
/// cannot stay half-open with nobody probing.
struct Pending {
    breaker: Arc<Breaker>,
    admission: Admission,
    done: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done && self.admission == Admission::Probe {
            self.breaker.record(Admission::Probe, false);
        }
    }
}

#[derive(Clone)]
pub struct BreakerLayer {
    breaker: Arc<Breaker>,
}

impl BreakerLayer {
    pub fn new(breaker: Arc<Breaker>) -> Self {
        Self { breaker }
    }
}

impl<S> Layer<S> for BreakerLayer {
    type Service = BreakerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BreakerService {
            inner,
            breaker: Arc::clone(&self.breaker),
        }
    }
}

#[derive(Clone)]
pub struct BreakerService<S> {
    inner: S,
    breaker: Arc<Breaker>,
}

impl<S, Req> Service<Req> for BreakerService<S>
where
    S: Service<Req, Error = Error> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = Error;
    type Future = BoxFuture<'static, Result<S::Response, Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // Readiness is taken in `call` (oneshot-style), so an open breaker refuses at once
        // instead of parking the caller in poll_ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let breaker = Arc::clone(&self.breaker);
        let inner = self.inner.clone();
        Box::pin(async move {
            let admission = breaker.admit()?;
            let mut pending = Pending {
                breaker: Arc::clone(&breaker),
                admission,
                done: false,
            };
            let result = tower::ServiceExt::oneshot(inner, req).await;
            pending.done = true;
            breaker.record(admission, !result.as_ref().err().is_some_and(is_failure));
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(cooldown: Duration) -> Breaker {
        Breaker::new(Arc::from("b"), 3, cooldown, Metrics::new())
    }

    #[test]
    fn opens_after_consecutive_failures_and_probes_after_cooldown() {
        let b = breaker(Duration::from_millis(30));
        for _ in 0..2 {
            let a = b.admit().unwrap_or_else(|e| panic!("{e}"));
            b.record(a, false);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        // A success in between resets the count.
        b.record(Admission::Call, true);
        for _ in 0..3 {
            let a = b.admit().unwrap_or_else(|e| panic!("{e}"));
            b.record(a, false);
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert!(matches!(b.admit(), Err(Error::BackendUnavailable { .. })));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let probe = b.admit().unwrap_or_else(|e| panic!("{e}"));
        // Only one probe at a time.
        assert!(b.admit().is_err());
        b.record(probe, false);
        assert_eq!(b.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(40));
        let probe = b.admit().unwrap_or_else(|e| panic!("{e}"));
        b.record(probe, true);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn an_abandoned_probe_counts_as_a_failure() {
        let b = Arc::new(breaker(Duration::ZERO));
        for _ in 0..3 {
            b.record(Admission::Call, false);
        }
        let probe = b.admit().unwrap_or_else(|e| panic!("{e}"));
        drop(Pending {
            breaker: Arc::clone(&b),
            admission: probe,
            done: false,
        });
        // Open again (cooldown zero: ready to probe again at once), not stuck probing.
        assert!(b.admit().is_ok());
    }
}
