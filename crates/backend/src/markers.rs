//! The marker-paged services' (S3 and BOS) view of a page request: a position becomes a key
//! marker and, for an upload, an upload-id marker.

use dragoman_model::Cursor;
use dragoman_wire::{MarkerPage, MarkerRequest};

use crate::client::{NativePage, PageRequest, Reply};

pub(crate) fn marker_request(r: PageRequest) -> MarkerRequest {
    let (key_marker, upload_id_marker) = match r.after {
        None => (None, None),
        Some(Cursor::Key(k) | Cursor::Prefix(k)) => (Some(k), None),
        Some(Cursor::Upload { key, upload_id, .. }) => (Some(key), Some(upload_id)),
    };
    MarkerRequest {
        bucket: r.bucket,
        prefix: r.prefix,
        delimiter: r.delimiter,
        key_marker,
        upload_id_marker,
        max: r.max,
    }
}

pub(crate) fn native_page(p: MarkerPage) -> Reply {
    Reply::Page(NativePage {
        entries: p.entries,
        truncated: p.truncated,
        continuation: None,
    })
}
