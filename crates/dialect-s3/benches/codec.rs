//! The S3 codec's hot paths: rendering a full page, reading one (as a client of an S3
//! backend), and decoding a listing request.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

/// The allocator the gateway ships with, so that a page read here allocates as it does there.
#[global_allocator]
static ALLOCATOR: dragoman_alloc::MiMalloc = dragoman_alloc::MiMalloc;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dragoman_dialect_s3::{S3Config, decode, encode};
use dragoman_model::{
    Entry, Identity, ListUploads, Operation, Outcome, RequestMeta, StorageClass, Timestamp, Upload,
    UploadsPage,
};

/// A page as the readers and the store give one: each identity allocated once and shared by
/// every upload that names it.
fn page(n: usize) -> UploadsPage {
    let owner = Identity::shared("owner-canonical-id", "owner");
    let initiator = Identity::shared("arn:aws:iam::111122223333:user/alice", "alice");
    let entries = (0..n)
        .map(|i| {
            Entry::Upload(Upload {
                key: format!("logs/2026/11/{i:06}/part & data ü.bin"),
                upload_id: format!("18ea4d7be0bb8c54{i:016x}"),
                initiated: Timestamp::from_nanos(1_767_323_045_000_000_000 + i as i64 * 1_000_000),
                owner: Some(owner.clone()),
                initiator: Some(initiator.clone()),
                storage_class: Some(StorageClass::Standard),
                checksum_algorithm: None,
                checksum_type: None,
                state: Default::default(),
            })
        })
        .collect();
    UploadsPage::from_entries(entries, true)
}

fn bench(c: &mut Criterion) {
    let meta = RequestMeta {
        request_id: "4442587FB7D0A2F9".into(),
        debug_id: "x".into(),
    };
    let op = Operation::ListUploads(ListUploads::bucket("bench"));
    let outcome = Outcome::Page(page(1000));
    c.bench_function("s3/render_1000_uploads", |b| {
        b.iter(|| encode(black_box(&op), black_box(&outcome), &meta))
    });

    let op_url = Operation::ListUploads(ListUploads {
        encode_keys: true,
        ..ListUploads::bucket("bench")
    });
    c.bench_function("s3/render_1000_uploads_url_encoded", |b| {
        b.iter(|| encode(black_box(&op_url), black_box(&outcome), &meta))
    });

    // The client side: an S3 backend's 1000-upload page read into canonical entries.
    let body = encode(&op, &outcome, &meta).into_body();
    c.bench_function("s3/parse_1000_uploads", |b| {
        b.iter(|| dragoman_dialect_s3::client::parse_list(black_box(&body)))
    });

    let config = S3Config::default();
    let (parts, ()) = http::Request::builder()
        .uri("/bench?uploads&prefix=logs%2F2026%2F&delimiter=%2F&key-marker=logs%2F2026%2F11%2F000999%2Fpart%20%26%20data%20%C3%BC.bin&upload-id-marker=18ea4d7be0bb8c5400000000000003e7&max-uploads=1000&encoding-type=url")
        .header("host", "127.0.0.1:9000")
        .body(())
        .unwrap_or_default()
        .into_parts();
    c.bench_function("s3/parse_list_request", |b| {
        b.iter(|| decode(&config, black_box(&parts)))
    });
}

/// Verifying a boto3-style signed listing request (header form), the per-request cost every
/// S3 caller pays.
fn verify(c: &mut Criterion) {
    let config = S3Config::default();
    let url = "/bench?uploads&prefix=logs%2F2026%2F&max-uploads=1000&encoding-type=url";
    let now = Timestamp::parse_rfc3339("2026-01-02T03:04:05Z").unwrap_or_default();
    let (unsigned, ()) = http::Request::builder()
        .uri(url)
        .header("host", "127.0.0.1:9000")
        .header(
            "user-agent",
            "Boto3/1.44.5 md/Botocore#1.44.5 ua/2.1 os/linux lang/python#3.11.7",
        )
        .body(())
        .unwrap_or_default()
        .into_parts();
    let req = http::Request::from_parts(unsigned, bytes::Bytes::new());
    let signed = dragoman_dialect_s3::client::sign_request(
        req,
        "us-east-1",
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        now,
    )
    .unwrap();
    let (parts, body) = signed.into_parts();
    let secret = |k: &str| {
        (k == "AKIDEXAMPLE").then(|| "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned())
    };
    assert_eq!(
        dragoman_dialect_s3::verify(&config, &parts, &body, &secret, now),
        Ok(Some("AKIDEXAMPLE".to_owned()))
    );
    c.bench_function("s3/verify_request", |b| {
        b.iter(|| dragoman_dialect_s3::verify(&config, black_box(&parts), &body, &secret, now))
    });

    // Signing the listing request dragoman sends an S3 backend: its own signer (cached key,
    // one buffer), and aws-sigv4's, which forwarding uses.
    let list = dragoman_dialect_s3::client::list_request(
        &dragoman_dialect_s3::client::Endpoint {
            scheme: "http".into(),
            authority: "127.0.0.1:4566".into(),
            virtual_hosted: false,
            region: "us-east-1".into(),
        },
        &dragoman_wire::MarkerRequest {
            bucket: "bench".into(),
            prefix: "logs/2026/".into(),
            max: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    c.bench_function("s3/sign_request", |b| {
        b.iter(|| {
            dragoman_dialect_s3::client::sign_request(
                black_box(list.clone()),
                "us-east-1",
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                now,
            )
        })
    });
    let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    c.bench_function("s3/sign_request_aws_sigv4", |b| {
        b.iter(|| {
            let (mut parts, _) = black_box(list.clone()).into_parts();
            dragoman_dialect_s3::client::sign_parts(
                &mut parts,
                empty,
                "us-east-1",
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                now,
            )
        })
    });
}

criterion_group!(benches, bench, verify);
criterion_main!(benches);
