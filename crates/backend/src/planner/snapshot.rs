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
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        Self {
            max_uploads: 100_000,
            ttl: Duration::from_secs(5),
        }
    }
}

type Snapshot = Arc<Vec<Upload>>;

pub(super) struct Snapshots {
    config: SnapshotConfig,
    cache: Mutex<HashMap<String, (Instant, Snapshot)>>,
}

impl Snapshots {
    pub(super) fn new(config: SnapshotConfig) -> Self {
        Self {
            config,
            cache: Mutex::new(HashMap::new()),
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
        let ttl = self.config.ttl;
        if !first_page {
            let cached = self.cache.lock().ok().and_then(|m| m.get(bucket).cloned());
            if let Some((_, snap)) = cached.filter(|(at, _)| at.elapsed() < ttl) {
                return Ok(snap);
            }
        }
        let mut all = self.read_fresh(p, bucket).await?;
        all.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let snap = Arc::new(all);
        if let Ok(mut m) = self.cache.lock() {
            m.retain(|_, (at, _)| at.elapsed() < ttl);
            m.insert(bucket.to_owned(), (Instant::now(), Arc::clone(&snap)));
        }
        Ok(snap)
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
