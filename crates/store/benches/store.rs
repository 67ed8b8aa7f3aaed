//! A page of 1000 from a bucket of one million uploads: must cost O(page), not O(bucket).
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dragoman_model::{Cursor, ListUploads, StorageClass, Timestamp, Upload};
use dragoman_store::{Store, new_upload_id};

const UPLOADS: usize = 1_000_000;

fn seed(store: &Store) {
    store.create_bucket("big").unwrap_or_else(|e| panic!("{e}"));
    // 1000 directories of 1000 keys; every tenth key has a second upload.
    let uploads = (0..UPLOADS).map(|i| {
        let t = 1_767_323_045_000_000_000 + i as i64;
        Upload {
            key: format!(
                "dir{:04}/key{:06}",
                i / 1000,
                (i % 1000) / 10 * 10 + usize::from(i % 10 == 9)
            ),
            upload_id: new_upload_id(Timestamp::from_nanos(t)),
            initiated: Timestamp::from_nanos(t),
            owner: None,
            initiator: None,
            storage_class: Some(StorageClass::Standard),
            checksum_algorithm: None,
            checksum_type: None,
            state: Default::default(),
        }
    });
    store
        .import("big", uploads)
        .unwrap_or_else(|e| panic!("{e}"));
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    seed(&store);
    let mut g = c.benchmark_group("store_1m");
    g.sample_size(30);
    g.bench_function("first_page_1000", |b| {
        b.iter(|| store.list_uploads(black_box(&ListUploads::bucket("big"))))
    });
    let middle = ListUploads {
        after: Some(Cursor::Key("dir0500/key000500".into())),
        ..ListUploads::bucket("big")
    };
    g.bench_function("middle_page_1000_after_key", |b| {
        b.iter(|| store.list_uploads(black_box(&middle)))
    });
    let prefixed = ListUploads {
        prefix: "dir0999/".into(),
        ..ListUploads::bucket("big")
    };
    g.bench_function("last_prefix_page_1000", |b| {
        b.iter(|| store.list_uploads(black_box(&prefixed)))
    });
    let grouped = ListUploads {
        delimiter: Some("/".into()),
        ..ListUploads::bucket("big")
    };
    g.bench_function("delimiter_page_1000_prefixes", |b| {
        b.iter(|| store.list_uploads(black_box(&grouped)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
