//! The percent and URI codecs and the query parser every dialect uses, and the upload-id
//! markers callers hand back.
#![no_main]

use dragoman_wire::{Plus, QueryParams, decode_bytes, uri_encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Encoding then decoding gives back the bytes, whatever they are.
    for slash in [false, true] {
        let encoded = uri_encode(data, slash);
        assert_eq!(decode_bytes(&encoded), data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode_bytes(text);
        let _ = QueryParams::parse(Some(text), Plus::Space);
        let _ = QueryParams::parse(Some(text), Plus::Literal);
        // A marker read back from the marker written for what it named names the same.
        let (id, time, next) = dragoman_model::parse_upload_id_marker(text);
        if let Some(t) = time {
            let again = dragoman_model::upload_id_marker(id, Some(t), next.as_deref());
            let (id2, _, next2) = dragoman_model::parse_upload_id_marker(&again);
            assert_eq!((id2, next2), (id, next));
        }
        let _ = dragoman_wire::validate_key(text, true);
        let _ = dragoman_wire::validate_s3_bucket_name(text);
    }
});
