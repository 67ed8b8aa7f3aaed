//! BOS codec hot paths: a 1000-upload page both ways, and one request signed and verified.
#![allow(clippy::expect_used, clippy::unwrap_used)] // bench code: a failure is the bench failing

/// The allocator the gateway ships with, so that a page read here allocates as it does there.
#[global_allocator]
static ALLOCATOR: dragoman_alloc::MiMalloc = dragoman_alloc::MiMalloc;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dragoman_dialect_bos::client::{Endpoint, list_request, parse_list, sign_request};
use dragoman_dialect_bos::{list_uploads_json, verify};
use dragoman_model::{Entry, Identity, ListUploads, StorageClass, Timestamp, Upload, UploadsPage};
use dragoman_wire::MarkerRequest;

fn page(n: usize) -> UploadsPage {
    let entries = (0..n)
        .map(|i| {
            Entry::Upload(Upload {
                key: format!("logs/2026/11/{i:06}/part data ü.bin"),
                upload_id: format!("18ea4d7be0bb8c54{i:016x}"),
                initiated: Timestamp::from_nanos(1_767_323_045_000_000_000 + i as i64 * 1_000_000),
                owner: Some(std::sync::Arc::new(Identity::named(
                    "75aa57f09aa0c8caeab4aeebf76c078efc7c6caea54ba06a",
                    "alice",
                ))),
                initiator: None,
                storage_class: Some(StorageClass::StandardIa),
                checksum_algorithm: None,
                checksum_type: None,
                state: Default::default(),
            })
        })
        .collect();
    UploadsPage::from_entries(entries, true)
}

fn bench(c: &mut Criterion) {
    let q = ListUploads {
        whole_keys: true,
        ..ListUploads::bucket("bench")
    };
    let page = page(1000);
    c.bench_function("bos/render_1000_uploads", |b| {
        b.iter(|| list_uploads_json(black_box(&q), black_box(&page)))
    });
    let body = list_uploads_json(&q, &page);
    c.bench_function("bos/parse_1000_uploads", |b| {
        b.iter(|| parse_list(black_box(&body)).unwrap())
    });

    let ep = Endpoint {
        scheme: "http".into(),
        authority: "127.0.0.1:8080".into(),
        virtual_hosted: false,
    };
    let r = MarkerRequest {
        bucket: "bench".into(),
        prefix: "logs/2026/".into(),
        delimiter: Some("/".into()),
        key_marker: Some("logs/2026/11/000999/part data ü.bin".into()),
        upload_id_marker: None,
        max: 1000,
    };
    let now = Timestamp::from_secs(1_767_323_045);
    c.bench_function("bos/sign_request", |b| {
        b.iter(|| {
            sign_request(
                list_request(&ep, black_box(&r)).unwrap(),
                "ak",
                "secret-key",
                now,
            )
            .unwrap()
        })
    });
    let (parts, _) = sign_request(list_request(&ep, &r).unwrap(), "ak", "secret-key", now)
        .unwrap()
        .into_parts();
    let secret = |_: &str| Some("secret-key".to_owned());
    c.bench_function("bos/verify_request", |b| {
        b.iter(|| verify(black_box(&parts), &secret, now).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
