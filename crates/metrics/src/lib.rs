//! Every metric dragoman exports, in one registry rendered as Prometheus/OpenMetrics text.
//!
//! Label sets are typed structs of `&'static str` and operator-chosen names (a backend's
//! configured name), so no caller-controlled value (bucket, key, credential) can become a
//! label: the type system keeps cardinality bounded and secrets out.

mod cached;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub dialect: &'static str,
    pub operation: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub dialect: &'static str,
    pub operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub backend: Arc<str>,
    pub call: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallKindLabels {
    pub backend: Arc<str>,
    pub call: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BackendLabels {
    pub backend: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: &'static str,
}

fn latency() -> Histogram {
    // 100 µs .. ~26 s: a cached embedded page up to a backend at its timeout.
    Histogram::new(exponential_buckets(0.0001, 2.0, 19))
}

/// The breaker states as the `dragoman_backend_breaker_state` gauge writes them.
pub mod breaker_state {
    pub const CLOSED: i64 = 0;
    pub const HALF_OPEN: i64 = 1;
    pub const OPEN: i64 = 2;
}

/// The gateway's metrics. Cheap to clone; every clone records into the same registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    /// Tells this registry's handles apart in the per-thread cache (an address could be
    /// reused by a later registry; an id is not).
    id: u64,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
    calls: Family<CallLabels, Counter>,
    call_seconds: Family<CallKindLabels, Histogram, fn() -> Histogram>,
    retries: Family<BackendLabels, Counter>,
    breaker: Family<BackendLabels, Gauge>,
    store_page_seconds: Histogram,
    sweep_found: Family<BackendLabels, Counter>,
    sweep_aborted: Family<BackendLabels, Counter>,
    sweep_oldest: Family<BackendLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("dragoman");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by caller dialect, operation and HTTP status",
            requests.clone(),
        );
        let request_seconds =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        registry.register(
            "request_duration_seconds",
            "Time from the request's head to its response, by dialect and operation",
            request_seconds.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "requests_in_flight",
            "Requests being served now",
            in_flight.clone(),
        );
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "backend_calls",
            "Calls to backends, by backend, call and outcome",
            calls.clone(),
        );
        let call_seconds =
            Family::<CallKindLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        registry.register(
            "backend_call_duration_seconds",
            "Backend call latency, retries included, by backend and call",
            call_seconds.clone(),
        );
        let retries = Family::<BackendLabels, Counter>::default();
        registry.register(
            "backend_retries",
            "Retries spent on idempotent backend reads",
            retries.clone(),
        );
        let breaker = Family::<BackendLabels, Gauge>::default();
        registry.register(
            "backend_breaker_state",
            "Circuit breaker per backend: 0 closed, 1 half-open, 2 open",
            breaker.clone(),
        );
        let store_page_seconds = latency();
        registry.register(
            "store_page_duration_seconds",
            "Time the embedded store takes to read one listing page",
            store_page_seconds.clone(),
        );
        let sweep_found = Family::<BackendLabels, Counter>::default();
        registry.register(
            "sweep_uploads_found",
            "Abandoned uploads sweeps found, by backend",
            sweep_found.clone(),
        );
        let sweep_aborted = Family::<BackendLabels, Counter>::default();
        registry.register(
            "sweep_uploads_aborted",
            "Abandoned uploads sweeps aborted, by backend",
            sweep_aborted.clone(),
        );
        let sweep_oldest = Family::<BackendLabels, Gauge>::default();
        registry.register(
            "sweep_oldest_upload_age_seconds",
            "Age of the oldest abandoned upload the last sweep saw, by backend",
            sweep_oldest.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register("build_info", "dragoman's version", build);
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                registry,
                requests,
                request_seconds,
                in_flight,
                calls,
                call_seconds,
                retries,
                breaker,
                store_page_seconds,
                sweep_found,
                sweep_aborted,
                sweep_oldest,
            }),
        }
    }

    /// The registry as OpenMetrics text (Prometheus scrapes it as is).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.inner.registry);
        out
    }

    pub fn request(
        &self,
        dialect: &'static str,
        operation: &'static str,
        status: u16,
        took: Duration,
    ) {
        let create = || {
            let count = self
                .inner
                .requests
                .get_or_create(&RequestLabels {
                    dialect,
                    operation,
                    status,
                })
                .clone();
            let seconds = self
                .inner
                .request_seconds
                .get_or_create(&RouteLabels { dialect, operation })
                .clone();
            (count, seconds)
        };
        let id = self.inner.id;
        cached::request(id, dialect, operation, status, create, |count, seconds| {
            count.inc();
            seconds.observe(took.as_secs_f64());
        });
    }

    /// Counts a request in flight until the guard drops. The guard holds the metrics, for
    /// recording the request once it is answered.
    pub fn in_flight(&self) -> InFlight {
        self.inner.in_flight.inc();
        InFlight(self.clone())
    }

    pub fn backend_call(
        &self,
        backend: &Arc<str>,
        call: &'static str,
        outcome: &'static str,
        took: Duration,
    ) {
        let create = || {
            let count = self
                .inner
                .calls
                .get_or_create(&CallLabels {
                    backend: Arc::clone(backend),
                    call,
                    outcome,
                })
                .clone();
            let seconds = self
                .inner
                .call_seconds
                .get_or_create(&CallKindLabels {
                    backend: Arc::clone(backend),
                    call,
                })
                .clone();
            (count, seconds)
        };
        let id = self.inner.id;
        cached::call(id, backend, call, outcome, create, |count, seconds| {
            count.inc();
            seconds.observe(took.as_secs_f64());
        });
    }

    pub fn retry(&self, backend: &Arc<str>) {
        self.inner
            .retries
            .get_or_create(&BackendLabels {
                backend: Arc::clone(backend),
            })
            .inc();
    }

    pub fn breaker_state(&self, backend: &Arc<str>, state: i64) {
        self.inner
            .breaker
            .get_or_create(&BackendLabels {
                backend: Arc::clone(backend),
            })
            .set(state);
    }

    pub fn store_page(&self, took: Duration) {
        self.inner.store_page_seconds.observe(took.as_secs_f64());
    }

    /// One bucket's sweep: the abandoned uploads found and aborted.
    pub fn sweep(&self, backend: &str, found: u64, aborted: u64) {
        let labels = BackendLabels {
            backend: Arc::from(backend),
        };
        self.inner.sweep_found.get_or_create(&labels).inc_by(found);
        self.inner
            .sweep_aborted
            .get_or_create(&labels)
            .inc_by(aborted);
    }

    /// The age in seconds of the oldest abandoned upload a sweep saw on a backend (0: none).
    pub fn sweep_oldest(&self, backend: &str, age_secs: i64) {
        self.inner
            .sweep_oldest
            .get_or_create(&BackendLabels {
                backend: Arc::from(backend),
            })
            .set(age_secs);
    }
}

/// Keeps `dragoman_requests_in_flight` up while alive.
pub struct InFlight(Metrics);

impl InFlight {
    pub fn metrics(&self) -> &Metrics {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.inner.in_flight.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_histograms() {
        let m = Metrics::new();
        m.request("s3", "list_uploads", 200, Duration::from_millis(3));
        m.request("s3", "list_uploads", 200, Duration::from_millis(5));
        let backend: Arc<str> = Arc::from("lake");
        m.backend_call(&backend, "list", "ok", Duration::from_millis(1));
        m.breaker_state(&backend, breaker_state::OPEN);
        {
            let _a = m.in_flight();
            assert!(m.render().contains("dragoman_requests_in_flight 1"));
        }
        let text = m.render();
        assert!(
            text.contains(
                r#"dragoman_requests_total{dialect="s3",operation="list_uploads",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains("dragoman_requests_in_flight 0"), "{text}");
        assert!(text.contains(r#"dragoman_backend_breaker_state{backend="lake"} 2"#));
        assert!(text.contains(
            r#"dragoman_request_duration_seconds_count{dialect="s3",operation="list_uploads"} 2"#
        ));
        assert!(text.contains(r#"dragoman_build_info{version=""#));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn registries_on_one_thread_keep_their_own_series() {
        // The per-thread handles are per registry: one registry's requests never show in
        // another's, however the two interleave, and every one is counted.
        let (a, b) = (Metrics::new(), Metrics::new());
        let backend: Arc<str> = Arc::from("lake");
        for _ in 0..3 {
            a.request("s3", "list_uploads", 200, Duration::from_millis(1));
            a.backend_call(&backend, "list_page", "ok", Duration::from_millis(1));
        }
        b.request("s3", "list_uploads", 200, Duration::from_millis(1));
        let (a, b) = (a.render(), b.render());
        let count =
            r#"dragoman_requests_total{dialect="s3",operation="list_uploads",status="200"}"#;
        assert!(a.contains(&format!("{count} 3")), "{a}");
        assert!(b.contains(&format!("{count} 1")), "{b}");
        assert!(a.contains(
            r#"dragoman_backend_calls_total{backend="lake",call="list_page",outcome="ok"} 3"#
        ));
        assert!(!b.contains("lake"), "{b}");
        // A new backend with the same name in a later registry starts from zero too.
        let c = Metrics::new();
        c.backend_call(
            &Arc::from("lake"),
            "list_page",
            "ok",
            Duration::from_millis(1),
        );
        assert!(c.render().contains(
            r#"dragoman_backend_calls_total{backend="lake",call="list_page",outcome="ok"} 1"#
        ));
    }
}
