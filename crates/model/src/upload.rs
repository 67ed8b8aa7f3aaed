use crate::{StorageClass, Timestamp};

/// Who owns or started an upload. A field a backend does not know stays `None`; dialects write
/// their documented "unknown" form, nothing is invented.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub id: Option<String>,
    pub display_name: Option<String>,
}

impl Identity {
    pub fn named(id: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            display_name: Some(display_name.into()),
        }
    }
}

/// One in-progress multipart upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub key: String,
    pub upload_id: String,
    pub initiated: Timestamp,
    pub owner: Option<Identity>,
    pub initiator: Option<Identity>,
    pub storage_class: Option<StorageClass>,
    pub checksum_algorithm: Option<String>,
    pub checksum_type: Option<String>,
}

impl Upload {
    /// The upload's place in the canonical order: key bytes, then initiation, then upload id.
    pub fn sort_key(&self) -> (&[u8], Timestamp, &str) {
        (self.key.as_bytes(), self.initiated, &self.upload_id)
    }
}
