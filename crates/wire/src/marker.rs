//! Listing requests and pages of the marker-paged services (S3 and BOS): both resume after a
//! key marker and an optional upload-id marker, and answer uploads and common prefixes with
//! next markers. Their client codecs and dragoman's planner share these two types.

use dragoman_model::Entry;

/// One listing request to a marker-paged service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarkerRequest {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    /// Sent only when set (and only with a key marker).
    pub upload_id_marker: Option<String>,
    pub max: u16,
}

/// One page as a marker-paged service answered it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarkerPage {
    /// Uploads and common prefixes interleaved in key order.
    pub entries: Vec<Entry>,
    pub truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_upload_id_marker: Option<String>,
}
