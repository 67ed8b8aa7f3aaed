//! The planner: turns a canonical operation into calls a backend can answer natively and
//! emulates, from the backend's declared capabilities, everything else:
//!
//! - pages that end at key boundaries (one entry of lookahead, fetched in a second call when
//!   the backend's page cap leaves no room for it);
//! - resuming inside a key on a backend without an upload-id marker, and after an upload that
//!   was aborted since (the marker retry) — see [`position`];
//! - listing a backend that pages in an order of its own through a sorted snapshot — see
//!   [`snapshot`];
//! - aborting by key on a backend that aborts by id alone.

mod position;
mod snapshot;

use std::sync::Arc;

use async_trait::async_trait;
use dragoman_model::{
    Cursor, Entry, Error, ListUploads, Operation, Outcome, UploadsPage, end_at_key_boundary,
};

use crate::Backend;
use crate::client::{Call, Capabilities, Reply};
use crate::outbound::Outbound;

pub use snapshot::SnapshotConfig;

/// One backend: its name, its capabilities and its client behind the outbound stack.
pub struct Planner {
    name: Arc<str>,
    kind: &'static str,
    caps: Capabilities,
    outbound: Outbound,
    snapshots: snapshot::Snapshots,
    forwarder: Option<crate::forward::Forwarder>,
    /// The client, for what is not a canonical operation (an upload's part sizes).
    sizes: Option<Arc<dyn crate::Client>>,
}

impl Planner {
    pub fn new(
        name: Arc<str>,
        kind: &'static str,
        caps: Capabilities,
        outbound: Outbound,
        snapshot: SnapshotConfig,
    ) -> Self {
        Self {
            name,
            kind,
            caps,
            outbound,
            snapshots: snapshot::Snapshots::new(snapshot),
            forwarder: None,
            sizes: None,
        }
    }

    pub(crate) fn with_sizes(mut self, client: Arc<dyn crate::Client>) -> Self {
        self.sizes = Some(client);
        self
    }

    /// Lets the backend take requests of its own protocol as they are.
    pub(crate) fn with_forwarder(mut self, forwarder: Option<crate::forward::Forwarder>) -> Self {
        self.forwarder = forwarder;
        self
    }

    /// `embedded`, `s3`, `bos` or `qumulo`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    pub(crate) async fn call(&self, call: Call) -> Result<Reply, Error> {
        tower::ServiceExt::oneshot(self.outbound.clone(), call).await
    }

    pub(crate) async fn page(
        &self,
        r: crate::client::PageRequest,
    ) -> Result<crate::client::NativePage, Error> {
        match self.call(Call::Page(r)).await? {
            Reply::Page(page) => Ok(page),
            Reply::Done(_) => Err(Error::internal(format!(
                "{} answered a listing page with an outcome",
                self.name
            ))),
        }
    }

    async fn op(&self, op: Operation) -> Result<Outcome, Error> {
        match self.call(Call::Op(op)).await? {
            Reply::Done(outcome) => Ok(outcome),
            Reply::Page(_) => Err(self.confused("an operation")),
        }
    }

    fn confused(&self, what: &str) -> Error {
        Error::internal(format!("{} answered {what} with a listing page", self.name))
    }

    async fn list(&self, q: ListUploads) -> Result<UploadsPage, Error> {
        // One entry of lookahead, for two reasons. Callers that resume with a key marker alone
        // get pages that end at a key boundary: the entry after the page says whether the last
        // key goes on. And on a backend that cannot place an upload aborted since (S3, BOS),
        // the marker names the upload that follows, so that the listing can resume there.
        let records_next = self.caps.pages_by_position() && !self.caps.resume_after_gone_upload;
        let lookahead = q.max > 0 && (q.whole_keys || records_next);
        let want = if lookahead { q.max + 1 } else { q.max };
        let inner = ListUploads {
            max: want,
            whole_keys: false,
            ..q
        };
        let page = if self.caps.pages_by_position() {
            position::list(self, &inner).await?
        } else {
            self.snapshots.list(self, &inner).await?
        };
        Ok(if q.whole_keys {
            end_at_key_boundary(page, q.max)
        } else if lookahead {
            with_next_upload(page, q.max)
        } else {
            page
        }
        .with_cursor())
    }

    /// The key of an upload, by listing the bucket until it turns up.
    async fn key_of(&self, bucket: &str, upload_id: &str) -> Result<String, Error> {
        let mut after = None;
        loop {
            let q = ListUploads {
                after,
                ..ListUploads::bucket(bucket)
            };
            let page = position::list(self, &q).await?.with_cursor();
            if let Some(u) = page.uploads().find(|u| u.upload_id == upload_id) {
                return Ok(u.key.clone());
            }
            if !page.truncated || page.next.is_none() {
                return Err(Error::NoSuchUpload {
                    upload_id: upload_id.to_owned(),
                });
            }
            after = page.next;
        }
    }

    /// HeadBucket, or, on a backend whose API has none (Qumulo), a look in its bucket list.
    async fn head_bucket(&self, bucket: String) -> Result<Outcome, Error> {
        match self
            .op(Operation::HeadBucket {
                bucket: bucket.clone(),
            })
            .await
        {
            Err(Error::NotImplemented { .. }) => match self.op(Operation::ListBuckets).await? {
                Outcome::Buckets(all) if all.iter().any(|b| b.name == bucket) => {
                    Ok(Outcome::BucketExists)
                }
                _ => Err(Error::NoSuchBucket { bucket }),
            },
            other => other,
        }
    }

    async fn abort(
        &self,
        bucket: String,
        key: Option<String>,
        upload_id: String,
    ) -> Result<Outcome, Error> {
        // A backend that aborts by id alone must not abort another key's upload for a caller
        // that names the key (S3, BOS): check the id against the key first.
        if self.caps.abort_ignores_key
            && let Some(key) = &key
            && !self.snapshots.owns(self, &bucket, key, &upload_id).await?
        {
            return Err(Error::NoSuchUpload { upload_id });
        }
        // A caller that names the id alone (Qumulo) on a backend that aborts by key and id
        // (S3, BOS): find the key by listing the bucket.
        let key = match key {
            None if self.caps.abort_needs_key => Some(self.key_of(&bucket, &upload_id).await?),
            key => key,
        };
        self.op(Operation::AbortUpload {
            bucket,
            key,
            upload_id,
        })
        .await
    }
}

/// Trims a page fetched with one entry of lookahead to `max`, recording on its cursor the
/// upload that follows its last one in the same key (or that none does).
fn with_next_upload(mut page: UploadsPage, max: u16) -> UploadsPage {
    let max = usize::from(max);
    if page.entries.len() <= max {
        return page;
    }
    let ahead = page.entries.swap_remove(max);
    page.entries.truncate(max);
    // The next upload of the same key, or "" when the key ends here.
    let next = match (page.entries.last(), ahead) {
        (Some(Entry::Upload(last)), Entry::Upload(v)) if v.key == last.key => Some(v.upload_id),
        (Some(Entry::Upload(_)), _) => Some(String::new()),
        _ => None,
    };
    let mut page = UploadsPage::from_entries(page.entries, true);
    if let Some(Cursor::Upload { next_upload, .. }) = &mut page.next {
        *next_upload = next;
    }
    page
}

#[async_trait]
impl Backend for Planner {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &str {
        self.kind
    }

    fn forwards(&self) -> Option<&'static str> {
        self.forwarder.as_ref().and_then(|f| f.client.forwards())
    }

    async fn upload_size(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<u64>, Error> {
        match &self.sizes {
            Some(client) => client.upload_size(bucket, key, upload_id).await,
            None => Ok(None),
        }
    }

    async fn forward(
        &self,
        call: crate::ForwardCall,
    ) -> Result<::http::Response<dragoman_dialect::StreamBody>, Error> {
        match &self.forwarder {
            Some(f) => f.forward(call).await,
            None => Err(Error::NotImplemented {
                what: format!("{} requests on a {} backend", call.method, self.kind),
            }),
        }
    }

    async fn execute(&self, op: Operation) -> Result<Outcome, Error> {
        match op {
            Operation::ListUploads(q) => self.list(q).await.map(Outcome::Page),
            Operation::AbortUpload {
                bucket,
                key,
                upload_id,
            } => self.abort(bucket, key, upload_id).await,
            Operation::HeadBucket { bucket } => self.head_bucket(bucket).await,
            op => self.op(op).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragoman_model::{Cursor, ListUploads, NewUpload};
    use dragoman_store::Store;

    #[tokio::test]
    async fn whole_key_pages_never_split_a_key_that_fits() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Arc::new(Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}")));
        let (planner, _) = crate::embedded(store, &dragoman_metrics::Metrics::new());
        planner
            .execute(Operation::CreateBucket { bucket: "b".into() })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for key in ["a", "b", "b", "b", "c"] {
            let new = NewUpload {
                bucket: "b".into(),
                key: key.into(),
                storage_class: None,
                checksum_algorithm: None,
                checksum_type: None,
                initiator: None,
            };
            planner
                .execute(Operation::CreateUpload(new))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let mut keys = Vec::new();
        let mut after = None;
        loop {
            let q = ListUploads {
                after: after.clone(),
                max: 3,
                whole_keys: true,
                ..ListUploads::bucket("b")
            };
            let Ok(Outcome::Page(page)) = planner.execute(Operation::ListUploads(q)).await else {
                panic!("list failed")
            };
            keys.push(
                page.uploads()
                    .map(|u| u.key.clone())
                    .collect::<Vec<_>>()
                    .join(""),
            );
            if !page.truncated {
                break;
            }
            after = page.entries.last().map(|e| Cursor::Key(e.key().to_owned()));
        }
        assert_eq!(keys, ["a", "bbb", "c"]);
    }
}
