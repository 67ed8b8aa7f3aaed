//! Listing a backend that pages in an order of its own with opaque tokens (Qumulo): read every
//! page of the bucket (bounded, with a clear error past the bound), sort canonically, and
//! serve pages from that sorted snapshot by binary search (`paginate`). A listing's first page
//! reads afresh; the pages after it reuse the snapshot while it is younger than the TTL, so a
//! listing costs one bucket read, not one per page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dragoman_model::{Entry, Error, ListUploads, Upload, UploadsPage, paginate};

use super::Planner;
use crate::client::PageRequest;

#[derive(Clone, Debug)]
pub struct SnapshotConfig {
    /// The most uploads one listing may read from a bucket.
    pub max_uploads: usize,
    /// How long a bucket's sorted snapshot serves the pages after a listing's first.
    pub ttl: Duration,
    /// The most uploads all of this backend's cached snapshots may hold together; the
    /// oldest snapshots go first, and a snapshot larger than this is served but not kept.
    pub max_cached_uploads: usize,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        Self {
            max_uploads: 100_000,
            ttl: Duration::from_secs(5),
            max_cached_uploads: 200_000,
        }
    }
}

type Snapshot = Arc<Vec<Upload>>;

/// One bucket read that every concurrent reader of the bucket awaits (single flight).
type Flight = Arc<tokio::sync::OnceCell<Result<Snapshot, Error>>>;

pub(super) struct Snapshots {
    config: SnapshotConfig,
    cache: Mutex<HashMap<String, (Instant, Snapshot)>>,
    flights: Mutex<HashMap<String, Flight>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere; the maps themselves are always whole.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Snapshots {
    pub(super) fn new(config: SnapshotConfig) -> Self {
        Self {
            config,
            cache: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
        }
    }

    pub(super) async fn list(&self, p: &Planner, q: &ListUploads) -> Result<UploadsPage, Error> {
        let snap = self.snapshot(p, &q.bucket, q.after.is_none()).await?;
        paginate(&snap, q)
    }

    async fn snapshot(
        &self,
        p: &Planner,
        bucket: &str,
        first_page: bool,
    ) -> Result<Snapshot, Error> {
        if !first_page && let Some(snap) = self.cached(bucket) {
            return Ok(snap);
        }
        self.fresh(p, bucket).await
    }

    fn cached(&self, bucket: &str) -> Option<Snapshot> {
        let ttl = self.config.ttl;
        lock(&self.cache)
            .get(bucket)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, snap)| Arc::clone(snap))
    }

    /// The bucket read now, sorted, and kept for the pages after. Concurrent callers for
    /// one bucket share one read.
    async fn fresh(&self, p: &Planner, bucket: &str) -> Result<Snapshot, Error> {
        let flight = Arc::clone(
            lock(&self.flights)
                .entry(bucket.to_owned())
                .or_insert_with(|| Arc::new(tokio::sync::OnceCell::new())),
        );
        let result = flight
            .get_or_init(|| async {
                let mut all = self.read_fresh(p, bucket).await?;
                all.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
                Ok(Arc::new(all))
            })
            .await
            .clone();
        {
            let mut flights = lock(&self.flights);
            if flights.get(bucket).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                flights.remove(bucket);
            }
        }
        let snap = result?;
        self.keep(bucket, &snap);
        Ok(snap)
    }

    /// Caches a snapshot within the memory bound, evicting the oldest first.
    fn keep(&self, bucket: &str, snap: &Snapshot) {
        let (ttl, max) = (self.config.ttl, self.config.max_cached_uploads);
        let mut cache = lock(&self.cache);
        cache.retain(|b, (at, _)| at.elapsed() < ttl && b != bucket);
        if snap.len() > max {
            return;
        }
        let mut total: usize = cache.values().map(|(_, s)| s.len()).sum();
        while total + snap.len() > max {
            let Some(oldest) = cache
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(b, _)| b.clone())
            else {
                break;
            };
            total -= cache.remove(&oldest).map_or(0, |(_, s)| s.len());
        }
        cache.insert(bucket.to_owned(), (Instant::now(), Arc::clone(snap)));
    }

    /// Whether `upload_id` is an upload of `key`, from the cached snapshot if it holds the
    /// id (an abort right after a listing, as cleanup tools do, reads nothing), else from a
    /// fresh read.
    pub(super) async fn owns(
        &self,
        p: &Planner,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<bool, Error> {
        let find = |snap: &Snapshot| {
            snap.iter()
                .find(|u| u.upload_id == upload_id)
                .map(|u| u.key == key)
        };
        let cached = lock(&self.cache).get(bucket).map(|(_, s)| Arc::clone(s));
        if let Some(owned) = cached.as_ref().and_then(find) {
            return Ok(owned);
        }
        Ok(find(&self.fresh(p, bucket).await?).unwrap_or(false))
    }

    /// Every upload of the bucket, following the backend's continuation to its end.
    pub(super) async fn read_fresh(&self, p: &Planner, bucket: &str) -> Result<Vec<Upload>, Error> {
        let mut all = Vec::new();
        let mut continuation: Option<String> = None;
        loop {
            let page = p
                .page(PageRequest {
                    bucket: bucket.to_owned(),
                    continuation: continuation.clone(),
                    max: p.caps.max_page,
                    ..PageRequest::default()
                })
                .await?;
            all.extend(page.entries.into_iter().filter_map(|e| match e {
                Entry::Upload(u) => Some(u),
                Entry::Prefix(_) => None,
            }));
            if all.len() > self.config.max_uploads {
                return Err(Error::BackendUnavailable {
                    message: format!(
                        "bucket {bucket} on {} holds more than {} uploads, the most one listing may read (raise max_uploads)",
                        p.name, self.config.max_uploads
                    ),
                });
            }
            match page.continuation {
                Some(next) if continuation.as_deref() == Some(next.as_str()) => {
                    return Err(Error::BadBackendAnswer {
                        message: format!("{} repeated its paging token", p.name),
                    });
                }
                Some(next) if page.truncated => continuation = Some(next),
                _ => return Ok(all),
            }
        }
    }
}
