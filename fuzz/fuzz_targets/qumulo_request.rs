//! Qumulo request decoding, bearer tokens (sessions and `after` tokens opened with the key),
//! and the login route.
#![no_main]

use dragoman_dialect_qumulo::token::{Kind, open};
use dragoman_dialect_qumulo::{QumuloConfig, QumuloDialect};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"a fuzzing key that is thirty-two bytes+";

fuzz_target!(|data: &[u8]| {
    let dialect = QumuloDialect {
        config: QumuloConfig {
            token_key: KEY.to_vec(),
            ..QumuloConfig::default()
        },
    };
    dragoman_fuzz::drive(&dialect, data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = open(KEY, Kind::Session, text);
        let _ = open(KEY, Kind::Paging, text);
    }
});
