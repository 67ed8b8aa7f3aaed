//! The embedded store as a backend client. SQLite calls block, so they run on tokio's
//! blocking pool, except small pages (below).

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use dragoman_metrics::Metrics;
use dragoman_model::{Error, ListUploads, Operation, Outcome};
use dragoman_store::Store;

use crate::client::{Call, Capabilities, Client, NativePage, Reply, unsupported};

/// Pages of at most this many uploads, without a delimiter, are read on the calling task's own
/// thread: one index range scan of at most 100 rows, about 30 µs (`cargo bench -p
/// dragoman-store`). Handing a page-10 listing to the blocking pool and back cost more than
/// reading it: two cross-thread wakeups, half of the gateway's CPU per request in kernel futex
/// and scheduler time (`perf` on `scripts/perf-peers --only embedded --pages 10`). Larger
/// pages, delimiter scans (a seek per prefix) and writes (which commit) still go to the pool.
const INLINE_MAX_PAGE: u16 = 100;

/// Whether the call only reads (it takes one of the store's reader connections).
fn reads(call: &Call) -> bool {
    matches!(
        call,
        Call::Page(_)
            | Call::Op(
                Operation::HeadBucket { .. } | Operation::ListBuckets | Operation::ListUploads(_)
            )
    )
}

fn runs_inline(call: &Call) -> bool {
    matches!(call, Call::Page(r) if r.delimiter.is_none() && r.max <= INLINE_MAX_PAGE)
}

#[derive(Clone)]
pub struct EmbeddedClient {
    store: Arc<Store>,
    metrics: Option<Metrics>,
    /// Reading calls admitted at once: one per store reader, so that none ever waits inside
    /// the store for a reader (a page read on the task's own thread must not block it).
    readers: Arc<tokio::sync::Semaphore>,
    /// Writing calls admitted at once: the store's one writer.
    writer: Arc<tokio::sync::Semaphore>,
}

impl EmbeddedClient {
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            metrics: None,
            readers: Arc::new(tokio::sync::Semaphore::new(dragoman_store::MAX_READERS)),
            writer: Arc::new(tokio::sync::Semaphore::new(1)),
        }
    }

    /// Records each page's latency in `dragoman_store_page_duration_seconds`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn run(&self, call: Call) -> Result<Reply, Error> {
        let store = &self.store;
        let outcome = match call {
            Call::Page(r) => {
                let started = Instant::now();
                let page = store.list_uploads(&ListUploads {
                    bucket: r.bucket,
                    prefix: r.prefix,
                    delimiter: r.delimiter,
                    after: r.after,
                    max: r.max,
                    encode_keys: false,
                    whole_keys: false,
                })?;
                if let Some(m) = &self.metrics {
                    m.store_page(started.elapsed());
                }
                return Ok(Reply::Page(NativePage {
                    truncated: page.truncated,
                    entries: page.entries,
                    continuation: None,
                }));
            }
            Call::Op(Operation::CreateUpload(new)) => {
                store.create_upload(&new).map(|upload| Outcome::Created {
                    bucket: new.bucket,
                    upload,
                })
            }
            Call::Op(Operation::AbortUpload {
                bucket,
                key,
                upload_id,
            }) => store
                .abort_upload(&bucket, key.as_deref(), &upload_id)
                .map(|()| Outcome::Aborted),
            Call::Op(Operation::CreateBucket { bucket }) => store
                .create_bucket(&bucket)
                .map(|b| Outcome::BucketCreated { bucket: b.name }),
            Call::Op(Operation::DeleteBucket { bucket }) => store
                .delete_bucket(&bucket)
                .map(|()| Outcome::BucketDeleted),
            Call::Op(Operation::HeadBucket { bucket }) => {
                store.head_bucket(&bucket).map(|()| Outcome::BucketExists)
            }
            Call::Op(Operation::ListBuckets) => store.list_buckets().map(Outcome::Buckets),
            Call::Op(op @ Operation::ListUploads(_)) => Err(unsupported("embedded", &op)),
        }?;
        Ok(Reply::Done(outcome))
    }
}

#[async_trait]
impl Client for EmbeddedClient {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NATIVE
    }

    async fn call(&self, call: Call) -> Result<Reply, Error> {
        // One call per store connection at most: more calls wait here, as tasks, instead of
        // as blocking threads parked on the store's pool (each thread a stack; under 1000
        // connections the pool had grown to 300 of them).
        let slots = if reads(&call) {
            &self.readers
        } else {
            &self.writer
        };
        let _slot = slots
            .acquire()
            .await
            .map_err(|_| Error::internal("the embedded store is closed"))?;
        if runs_inline(&call) {
            return self.run(call);
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.run(call))
            .await
            .map_err(|e| Error::internal(format!("embedded store task failed: {e}")))?
    }
}
