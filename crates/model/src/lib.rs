//! The canonical model of dragoman.
//!
//! Every dialect decodes into these types and every backend answers with them, so the three
//! wire formats never meet. Nothing here does I/O: the crate can be tested, fuzzed and reasoned
//! about on its own.

mod bucket_glob;
mod error;
mod listing;
mod marker;
mod op;
mod request;
mod secret;
mod storage_class;
mod timestamp;
mod upload;

pub use bucket_glob::{bucket_matches, is_literal_pattern};
pub use error::{Error, SignatureMismatch};
pub use listing::{
    Cursor, Entry, ListUploads, MAX_PAGE, UploadsPage, common_prefix, end_at_key_boundary,
    interleave, page_capacity, paginate,
};
pub use marker::{initiated_of, parse_upload_id_marker, upload_id_marker};
pub use op::{Bucket, NewUpload, Operation, Outcome, Principal};
pub use request::RequestMeta;
pub use secret::Secret;
pub use storage_class::StorageClass;
pub use timestamp::{AmzDate, Timestamp};
pub use upload::{Identity, PageIdentities, Upload, UploadState};
