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

/// A HEAD bucket answer (no body to read an error from): 200 is there, 404 is missing, any
/// other status is what `error` makes of it.
pub(crate) fn head_outcome(
    status: u16,
    bucket: &str,
    error: impl Fn(u16, &[u8]) -> dragoman_model::Error,
) -> Result<Reply, dragoman_model::Error> {
    match status {
        200..=299 => Ok(Reply::Done(dragoman_model::Outcome::BucketExists)),
        404 => Err(dragoman_model::Error::NoSuchBucket {
            bucket: bucket.to_owned(),
        }),
        _ => Err(error(status, b"")),
    }
}

/// The outcome of a create on a backend that answers only the new id: the upload as asked
/// for, initiated now (the backend's own time is not in its answer).
pub(crate) fn created(
    new: dragoman_model::NewUpload,
    upload_id: String,
) -> dragoman_model::Outcome {
    let initiated = crate::http::now();
    dragoman_model::Outcome::Created {
        upload: dragoman_model::Upload {
            key: new.key,
            upload_id,
            initiated,
            owner: None,
            initiator: new.initiator.map(std::sync::Arc::new),
            storage_class: new.storage_class,
            checksum_algorithm: new.checksum_algorithm,
            checksum_type: new.checksum_type,
            state: Default::default(),
        },
        bucket: new.bucket,
    }
}
