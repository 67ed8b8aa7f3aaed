//! S3 request decoding and SigV4 verification (header and presigned forms).
#![no_main]

use dragoman_dialect_s3::S3Dialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dragoman_fuzz::drive(&S3Dialect::default(), data);
});
