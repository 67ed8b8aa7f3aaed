//! The outbound stack around a backend client, driven through the real planner with a
//! scripted client: the breaker, the retry policy and its budget, and the timeout.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the test failing

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dragoman_backend::{
    Backend, BreakerState, Call, Capabilities, Client, NativePage, OutboundConfig, Reply,
    SnapshotConfig,
};
use dragoman_metrics::Metrics;
use dragoman_model::{Error, ListUploads, NewUpload, Operation, Outcome};

/// A client that answers from a script (then succeeds) and counts the calls it got.
#[derive(Default)]
struct Scripted {
    script: Mutex<VecDeque<Result<(), Error>>>,
    calls: AtomicUsize,
    hang: Mutex<bool>,
}

impl Scripted {
    fn failing(n: usize) -> Arc<Self> {
        let s = Self::default();
        for _ in 0..n {
            s.script
                .lock()
                .unwrap()
                .push_back(Err(Error::BackendUnavailable {
                    message: "connection refused".into(),
                }));
        }
        Arc::new(s)
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Client for Scripted {
    fn kind(&self) -> &'static str {
        "scripted"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NATIVE
    }

    async fn call(&self, call: Call) -> Result<Reply, Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if *self.hang.lock().unwrap() {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        let next = self.script.lock().unwrap().pop_front().unwrap_or(Ok(()));
        next?;
        Ok(match call {
            Call::Page(_) => Reply::Page(NativePage::default()),
            Call::Op(Operation::AbortUpload { .. }) => Reply::Done(Outcome::Aborted),
            Call::Op(_) => Reply::Done(Outcome::BucketExists),
        })
    }
}

fn config() -> OutboundConfig {
    OutboundConfig {
        timeout: Duration::from_millis(200),
        breaker_failures: 3,
        breaker_cooldown: Duration::from_millis(300),
        ..OutboundConfig::default()
    }
}

fn list() -> Operation {
    Operation::ListUploads(ListUploads::bucket("b"))
}

fn create() -> Operation {
    Operation::CreateUpload(NewUpload {
        bucket: "b".into(),
        key: "k".into(),
        storage_class: None,
        checksum_algorithm: None,
        checksum_type: None,
        initiator: None,
    })
}

#[tokio::test]
async fn a_flaky_listing_succeeds_after_one_failed_try() {
    let client = Scripted::failing(1);
    let metrics = Metrics::new();
    let (b, _) = dragoman_backend::backend(
        "flaky",
        client.clone(),
        &config(),
        SnapshotConfig::default(),
        &metrics,
    );
    assert!(matches!(b.execute(list()).await, Ok(Outcome::Page(_))));
    assert_eq!(client.calls(), 2);
    let text = metrics.render();
    assert!(
        text.contains(r#"dragoman_backend_retries_total{backend="flaky"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"dragoman_backend_calls_total{backend="flaky",call="list_page",outcome="ok"} 1"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn creates_and_aborts_are_never_retried() {
    for op in [
        create(),
        Operation::AbortUpload {
            bucket: "b".into(),
            key: Some("k".into()),
            upload_id: "u".into(),
        },
    ] {
        let client = Scripted::failing(1);
        let (b, _) = dragoman_backend::backend(
            "once",
            client.clone(),
            &config(),
            SnapshotConfig::default(),
            &Metrics::new(),
        );
        assert!(matches!(
            b.execute(op).await,
            Err(Error::BackendUnavailable { .. })
        ));
        assert_eq!(client.calls(), 1);
    }
}

#[tokio::test]
async fn retries_stop_when_the_budget_is_spent() {
    // Always failing: each listing is tried once, plus retries while the budget lasts: a
    // reserve of one a second over the budget's 10 s window, and 20 % of calls beyond that.
    let client = Scripted::failing(10_000);
    let cfg = OutboundConfig {
        breaker_failures: 1_000_000,
        retry_min_per_sec: 1,
        ..config()
    };
    let metrics = Metrics::new();
    let (b, _) = dragoman_backend::backend(
        "spent",
        client.clone(),
        &cfg,
        SnapshotConfig::default(),
        &metrics,
    );
    let listings = 100;
    for _ in 0..listings {
        assert!(b.execute(list()).await.is_err());
    }
    let retries = client.calls() - listings;
    // Without a budget there would be 2 retries per listing (200).
    assert!(
        (10..=40).contains(&retries),
        "{retries} retries for {listings} listings"
    );
    assert!(b.execute(list()).await.is_err());
    assert_eq!(
        client.calls() - listings - 1,
        retries,
        "a spent budget allows no retry"
    );
}

#[tokio::test]
async fn the_breaker_opens_answers_at_once_and_recovers() {
    let client = Scripted::failing(3);
    let cfg = OutboundConfig {
        max_retries: 0,
        ..config()
    };
    let (b, breaker) = dragoman_backend::backend(
        "down",
        client.clone(),
        &cfg,
        SnapshotConfig::default(),
        &Metrics::new(),
    );
    for _ in 0..3 {
        assert!(b.execute(create()).await.is_err());
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    // Open: refused without reaching the client, and at once.
    *client.hang.lock().unwrap() = true;
    let started = Instant::now();
    match b.execute(list()).await {
        Err(Error::BackendUnavailable { message }) => {
            assert!(message.contains("circuit breaker open"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(client.calls(), 3);
    // After the cooldown one probe goes through; the backend is back, so the breaker closes.
    *client.hang.lock().unwrap() = false;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    assert!(b.execute(list()).await.is_ok());
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn a_silent_backend_times_out_per_try() {
    let client = Arc::new(Scripted::default());
    *client.hang.lock().unwrap() = true;
    let cfg = OutboundConfig {
        max_retries: 1,
        ..config()
    };
    let (b, _) = dragoman_backend::backend(
        "silent",
        client.clone(),
        &cfg,
        SnapshotConfig::default(),
        &Metrics::new(),
    );
    let started = Instant::now();
    assert_eq!(b.execute(list()).await, Err(Error::BackendTimeout));
    // Two tries of 200 ms and a short backoff, not an hour.
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(client.calls(), 2);
}
