use std::sync::Arc;

use crate::{StorageClass, Timestamp};

/// Who owns or started an upload. A field a backend does not know stays `None`; dialects write
/// their documented "unknown" form, nothing is invented. The names are shared (`Arc<str>`):
/// a page of a thousand uploads usually names one or two identities, and readers of backend
/// pages and of the store hand out one allocation per identity, not two per upload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub id: Option<Arc<str>>,
    pub display_name: Option<Arc<str>>,
}

impl Identity {
    pub fn named(id: impl Into<Arc<str>>, display_name: impl Into<Arc<str>>) -> Self {
        Self {
            id: Some(id.into()),
            display_name: Some(display_name.into()),
        }
    }
    /// [`Identity::named`], shared, as an upload holds it.
    pub fn shared(id: impl Into<Arc<str>>, display_name: impl Into<Arc<str>>) -> Arc<Self> {
        Arc::new(Self::named(id, display_name))
    }
}

/// The identities a page has named so far, each allocated once: a page of a thousand uploads
/// usually names one or two, and every reader of a page (backend clients, the store) shares
/// them instead of allocating two names per upload.
#[derive(Default)]
pub struct PageIdentities {
    seen: Vec<Arc<Identity>>,
}

impl PageIdentities {
    /// The identity with these names; `None` when both are unknown.
    pub fn share(&mut self, id: Option<&str>, display_name: Option<&str>) -> Option<Arc<Identity>> {
        if id.is_none() && display_name.is_none() {
            return None;
        }
        if let Some(known) = self
            .seen
            .iter()
            .find(|k| k.id.as_deref() == id && k.display_name.as_deref() == display_name)
        {
            return Some(Arc::clone(known));
        }
        let new = Arc::new(Identity {
            id: id.map(Into::into),
            display_name: display_name.map(Into::into),
        });
        // A page names a handful of identities; past that, stop remembering.
        if self.seen.len() < 8 {
            self.seen.push(Arc::clone(&new));
        }
        Some(new)
    }
}

/// Progress of an upload as Qumulo reports it. `None`: the backend does not know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadState {
    /// The last time the upload received data.
    pub last_modified: Option<Timestamp>,
    /// Data plus metadata blocks (4096 bytes each).
    pub total_blocks: Option<u64>,
    pub datablocks: Option<u64>,
    pub metablocks: Option<u64>,
    /// CompleteMultipartUpload is running.
    pub completing: Option<bool>,
    /// Created by the storage system itself (large PutObject/CopyObject), not by a caller.
    pub system_initiated: Option<bool>,
}

/// One in-progress multipart upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub key: String,
    pub upload_id: String,
    pub initiated: Timestamp,
    pub owner: Option<Arc<Identity>>,
    pub initiator: Option<Arc<Identity>>,
    pub storage_class: Option<StorageClass>,
    pub checksum_algorithm: Option<String>,
    pub checksum_type: Option<String>,
    pub state: UploadState,
}

impl Upload {
    /// The upload's place in the canonical order: key bytes, then initiation, then upload id.
    pub fn sort_key(&self) -> (&[u8], Timestamp, &str) {
        (self.key.as_bytes(), self.initiated, &self.upload_id)
    }
}
