//! Qumulo codec hot paths: a 1000-upload page both ways, and one session token issued and verified.
#![allow(clippy::expect_used, clippy::unwrap_used)] // bench code: a failure is the bench failing

/// The allocator the gateway ships with, so that a page read here allocates as it does there.
#[global_allocator]
static ALLOCATOR: dragoman_alloc::MiMalloc = dragoman_alloc::MiMalloc;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dragoman_dialect_qumulo::client::parse_page;
use dragoman_dialect_qumulo::{QumuloConfig, list_uploads_json, token, verify};
use dragoman_model::{
    Cursor, Entry, Identity, ListUploads, Timestamp, Upload, UploadState, UploadsPage,
};

fn page(n: usize) -> UploadsPage {
    let entries = (0..n)
        .map(|i| {
            let t = Timestamp::from_nanos(1_767_323_045_000_000_000 + i as i64 * 1_000_003);
            Entry::Upload(Upload {
                key: format!("logs/2026/11/{i:06}/part data ü.bin"),
                upload_id: format!("18ea4d7be0bb8c54{i:016x}"),
                initiated: t,
                owner: None,
                initiator: Some(Identity::shared("500", "admin")),
                storage_class: None,
                checksum_algorithm: None,
                checksum_type: None,
                state: UploadState {
                    last_modified: Some(t),
                    total_blocks: Some(16387),
                    datablocks: Some(16384),
                    metablocks: Some(3),
                    completing: Some(false),
                    system_initiated: Some(false),
                },
            })
        })
        .collect();
    UploadsPage {
        entries,
        truncated: true,
        next: Some(Cursor::Key("logs/2026/11/000999/part data ü.bin".into())),
    }
}

fn bench(c: &mut Criterion) {
    let config = QumuloConfig {
        token_key: b"a bench key of thirty-two bytes!".to_vec(),
        ..QumuloConfig::default()
    };
    let q = ListUploads::bucket("bench");
    let p = page(1000);
    c.bench_function("qumulo/render_1000_uploads", |b| {
        b.iter(|| list_uploads_json(&config, black_box(&q), black_box(&p)))
    });
    let body = list_uploads_json(&config, &q, &p);
    c.bench_function("qumulo/parse_1000_uploads", |b| {
        b.iter(|| parse_page(black_box(&body)).unwrap())
    });

    let payload = br#"{"k":"DRAGOMANDEMOKEY00001","e":1767359045}"#;
    c.bench_function("qumulo/issue_session_token", |b| {
        b.iter(|| token::seal(&config.token_key, token::Kind::Session, black_box(payload)))
    });
    let tok = token::seal(&config.token_key, token::Kind::Session, payload);
    let (parts, ()) = http::Request::builder()
        .uri("/v1/s3/buckets/bench/uploads/")
        .header("authorization", format!("Bearer {tok}"))
        .body(())
        .unwrap()
        .into_parts();
    let now = Timestamp::from_secs(1_767_323_045);
    c.bench_function("qumulo/verify_session_token", |b| {
        b.iter(|| verify(&config, black_box(&parts), &|_| None, now).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
