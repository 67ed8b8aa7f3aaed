//! What a BOS backend can send back: listing pages, part listings, bucket lists, errors.
#![no_main]

use dragoman_dialect_bos::client::{parse_buckets, parse_error, parse_list, parse_parts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = parse_list(data) {
        let q = dragoman_model::ListUploads::bucket("fuzz");
        let page = dragoman_model::UploadsPage::from_entries(page.entries, page.truncated);
        let _ = dragoman_dialect_bos::list_uploads_json(&q, &page);
    }
    let _ = parse_parts(data);
    let _ = parse_buckets(data);
    let _ = parse_error(400, data, "fuzz", Some("id"));
    let _ = parse_error(500, data, "fuzz", None);
});
