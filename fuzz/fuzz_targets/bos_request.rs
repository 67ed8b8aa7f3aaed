//! BOS request decoding and bce-auth-v1 verification (header and query forms).
#![no_main]

use dragoman_dialect_bos::BosDialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dragoman_fuzz::drive(&BosDialect::default(), data);
});
