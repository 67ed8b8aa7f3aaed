//! The sorted snapshot of a backend that pages in an order of its own (Qumulo): one bucket
//! read however many callers list at once, an abort after a listing reads nothing, and the
//! cache stays within its bound.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the test failing

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use dragoman_backend::{
    Backend, Call, Capabilities, Client, NativePage, OutboundConfig, PageRequest, Reply,
    SnapshotConfig,
};
use dragoman_metrics::Metrics;
use dragoman_model::{
    Entry, Error, ListUploads, Operation, Outcome, StorageClass, Timestamp, Upload,
};

/// A cluster of `n` uploads per bucket in pages of 10, slow enough that callers overlap,
/// counting the pages it serves.
struct Cluster {
    n: usize,
    pages: AtomicUsize,
    aborts: AtomicUsize,
}

fn upload(i: usize) -> Upload {
    Upload {
        key: format!("key-{:03}", i % 7),
        upload_id: format!("id-{i:04}"),
        initiated: Timestamp::from_nanos(i64::try_from(i).unwrap()),
        owner: None,
        initiator: None,
        storage_class: Some(StorageClass::Standard),
        checksum_algorithm: None,
        checksum_type: None,
        state: Default::default(),
    }
}

#[async_trait]
impl Client for Cluster {
    fn kind(&self) -> &'static str {
        "qumulo"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::opaque(10)
    }

    async fn call(&self, call: Call) -> Result<Reply, Error> {
        match call {
            Call::Page(PageRequest { continuation, .. }) => {
                self.pages.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                let from: usize = continuation.map_or(0, |c| c.parse().unwrap());
                let to = (from + 10).min(self.n);
                Ok(Reply::Page(NativePage {
                    entries: (from..to).map(|i| Entry::Upload(upload(i))).collect(),
                    truncated: to < self.n,
                    continuation: (to < self.n).then(|| to.to_string()),
                }))
            }
            Call::Op(Operation::AbortUpload { .. }) => {
                self.aborts.fetch_add(1, Ordering::SeqCst);
                Ok(Reply::Done(Outcome::Aborted))
            }
            Call::Op(op) => Err(Error::NotImplemented {
                what: op.name().into(),
            }),
        }
    }
}

fn planner(n: usize, snapshot: SnapshotConfig) -> (Arc<Cluster>, Arc<dyn Backend>) {
    let cluster = Arc::new(Cluster {
        n,
        pages: AtomicUsize::new(0),
        aborts: AtomicUsize::new(0),
    });
    let client: Arc<dyn Client> = cluster.clone();
    let (p, _) = dragoman_backend::backend(
        "cluster",
        client,
        &OutboundConfig::default(),
        snapshot,
        &Metrics::new(),
    );
    (cluster, p)
}

#[tokio::test]
async fn concurrent_first_pages_share_one_bucket_read() {
    let (cluster, p) = planner(100, SnapshotConfig::default());
    let lists: Vec<_> = (0..20)
        .map(|_| {
            let p = Arc::clone(&p);
            tokio::spawn(async move {
                p.execute(Operation::ListUploads(ListUploads::bucket("b")))
                    .await
            })
        })
        .collect();
    for l in lists {
        assert!(matches!(l.await.unwrap(), Ok(Outcome::Page(_))));
    }
    // 100 uploads in pages of 10: one read is 10 pages, not 20 reads of 10.
    assert_eq!(cluster.pages.load(Ordering::SeqCst), 10);
}

#[tokio::test]
async fn an_abort_after_a_listing_reads_nothing_and_checks_the_key() {
    let (cluster, p) = planner(30, SnapshotConfig::default());
    p.execute(Operation::ListUploads(ListUploads::bucket("b")))
        .await
        .unwrap();
    let read = cluster.pages.load(Ordering::SeqCst);
    let abort = |key: &str, id: &str| Operation::AbortUpload {
        bucket: "b".into(),
        key: Some(key.into()),
        upload_id: id.into(),
    };
    assert_eq!(
        p.execute(abort("key-003", "id-0003")).await,
        Ok(Outcome::Aborted)
    );
    // Another key's upload id is refused, without aborting anything.
    assert_eq!(
        p.execute(abort("key-004", "id-0003")).await,
        Err(Error::NoSuchUpload {
            upload_id: "id-0003".into()
        })
    );
    assert_eq!(cluster.pages.load(Ordering::SeqCst), read);
    assert_eq!(cluster.aborts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_cache_stays_within_its_bound() {
    let bound = SnapshotConfig {
        max_cached_uploads: 50,
        ttl: Duration::from_secs(60),
        ..SnapshotConfig::default()
    };
    let (cluster, p) = planner(30, bound);
    let first_then_next = |bucket: &str| {
        let p = Arc::clone(&p);
        let bucket = bucket.to_owned();
        async move {
            let Ok(Outcome::Page(page)) = p
                .execute(Operation::ListUploads(ListUploads {
                    max: 5,
                    ..ListUploads::bucket(bucket.clone())
                }))
                .await
            else {
                panic!("first page")
            };
            p.execute(Operation::ListUploads(ListUploads {
                max: 5,
                after: page.next,
                ..ListUploads::bucket(bucket)
            }))
            .await
            .unwrap();
        }
    };
    // Bucket a (30 uploads) is cached: its second page reads nothing.
    first_then_next("a").await;
    assert_eq!(cluster.pages.load(Ordering::SeqCst), 3);
    // Bucket b (30 more) does not fit beside a (50 at most): a is evicted for it.
    first_then_next("b").await;
    assert_eq!(cluster.pages.load(Ordering::SeqCst), 6);
    // a's next page must read again, since its snapshot is gone.
    let before = cluster.pages.load(Ordering::SeqCst);
    let Ok(Outcome::Page(page)) = p
        .execute(Operation::ListUploads(ListUploads {
            max: 5,
            ..ListUploads::bucket("a")
        }))
        .await
    else {
        panic!("page")
    };
    assert!(page.truncated);
    assert_eq!(cluster.pages.load(Ordering::SeqCst), before + 3);
}
