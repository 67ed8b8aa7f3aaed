//! What a Qumulo cluster can send back: upload pages (and their `paging.next`), bucket lists,
//! login answers, error documents.
#![no_main]

use dragoman_dialect_qumulo::client::{
    after_of, parse_buckets, parse_error, parse_login, parse_page,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_page(data);
    let _ = parse_buckets(data);
    let _ = parse_login(data);
    let _ = parse_error(404, data, "fuzz", Some("id"));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = after_of(text);
    }
});
