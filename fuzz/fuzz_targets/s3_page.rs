//! What an S3 backend can send back: listing pages, part listings, bucket lists, errors.
#![no_main]

use dragoman_dialect_s3::client::{parse_buckets, parse_error, parse_list, parse_parts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = parse_list(data) {
        // A page that parses must be one dragoman can write back without breaking XML.
        let q = dragoman_model::ListUploads::bucket("fuzz");
        let page = dragoman_model::UploadsPage::from_entries(page.entries, page.truncated);
        let _ = dragoman_dialect_s3::encode(
            &dragoman_model::Operation::ListUploads(q),
            &dragoman_model::Outcome::Page(page),
            &dragoman_dialect_s3::request_meta(1),
        );
    }
    let _ = parse_parts(data);
    let _ = parse_buckets(data);
    let _ = parse_error(400, data, "fuzz", Some("id"));
    let _ = parse_error(503, data, "fuzz", None);
});
