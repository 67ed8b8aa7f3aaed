//! dragoman's BOS client against dragoman serving BOS over its embedded store: the client must
//! list exactly what the store holds, with either way of resuming inside a key.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dragoman_backend::http::HttpOptions;
use dragoman_backend::{
    Backend, BosClient, BosClientConfig, OutboundConfig, Planner, SnapshotConfig,
};
use dragoman_dialect_bos::client::Endpoint;
use dragoman_gateway::{ServerConfig, User};
use dragoman_metrics::Metrics;
use dragoman_model::{
    Error, ListUploads, Operation, Outcome, StorageClass, Timestamp, Upload, paginate,
};
use dragoman_store::{Store, new_upload_id};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod common;

const AK: &str = "bos-test-ak";
const SK: &str = "bos-test-secret";

struct Server {
    addr: SocketAddr,
    uploads: Vec<Upload>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn fixture() -> Vec<Upload> {
    let keys = [
        "a/1",
        "a/2",
        "a/2",
        "a/b/c",
        "b",
        "b",
        "b",
        "b",
        "c/ü/x",
        "c/z",
        "d e",
        "日本/語",
        "日本/語",
        "z",
        "z/",
        "z//",
    ];
    let mut uploads: Vec<Upload> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            // Whole seconds, as BOS reports them, so times survive the round trip.
            let t = Timestamp::from_secs(1_767_323_045 + i as i64);
            Upload {
                key: (*k).into(),
                upload_id: new_upload_id(t),
                initiated: t,
                owner: None,
                initiator: None,
                storage_class: Some(StorageClass::Standard),
                checksum_algorithm: None,
                checksum_type: None,
                state: Default::default(),
            }
        })
        .collect();
    uploads.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    uploads
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    store.create_bucket("bkt").unwrap();
    let uploads = fixture();
    store.import("bkt", uploads.clone()).unwrap();
    let users = vec![User {
        name: "t".into(),
        access_key: AK.into(),
        secret_key: SK.into(),
        buckets: vec!["*".into()],
        password: None,
        access_tokens: vec![],
    }];
    let dialects = common::dialects(Default::default(), "bos");
    let (addr, stop) = common::serve_store(store, users, dialects, ServerConfig::default()).await;
    Server {
        addr,
        uploads,
        _dir: dir,
        _stop: stop,
    }
}

fn client(addr: SocketAddr, secret: &str, honours: bool, timeout: Duration) -> Arc<Planner> {
    let client = BosClient::new(BosClientConfig {
        name: "bos-test".into(),
        endpoint: Endpoint {
            scheme: "http".into(),
            authority: addr.to_string(),
            virtual_hosted: false,
        },
        access_key: AK.into(),
        secret_key: dragoman_model::Secret::new(secret),
        honours_upload_id_marker: honours,
        http: HttpOptions::default(),
    })
    .unwrap();
    let outbound = OutboundConfig {
        timeout,
        ..OutboundConfig::default()
    };
    let metrics = Metrics::new();
    dragoman_backend::backend(
        "bos-test",
        Arc::new(client),
        &outbound,
        SnapshotConfig::default(),
        &metrics,
    )
    .0
}

async fn list_all(b: &Planner, base: &ListUploads) -> Vec<dragoman_model::Entry> {
    let mut got = Vec::new();
    let mut q = base.clone();
    for _ in 0..100 {
        let Outcome::Page(page) = b.execute(Operation::ListUploads(q.clone())).await.unwrap()
        else {
            panic!("not a page")
        };
        assert!(page.entries.len() <= usize::from(q.max));
        got.extend(page.entries.clone());
        if !page.truncated {
            return got;
        }
        q.after = page.next.clone();
    }
    panic!("the listing did not end");
}

#[tokio::test]
async fn bos_client_lists_exactly_what_the_store_holds() {
    let server = start().await;
    for honours in [false, true] {
        let b = client(server.addr, SK, honours, Duration::from_secs(10));
        for max in [1, 2, 3, 7, 1000] {
            for (prefix, delimiter) in [
                ("", None),
                ("a", None),
                ("", Some("/")),
                ("a/", Some("/")),
                ("日本", Some("/")),
            ] {
                let base = ListUploads {
                    prefix: prefix.into(),
                    delimiter: delimiter.map(Into::into),
                    max,
                    ..ListUploads::bucket("bkt")
                };
                let want = paginate(
                    &server.uploads,
                    &ListUploads {
                        max: 1000,
                        ..base.clone()
                    },
                )
                .unwrap()
                .entries;
                let got = list_all(&b, &base).await;
                assert_eq!(
                    got, want,
                    "honours={honours} max={max} prefix={prefix:?} delimiter={delimiter:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn bos_errors_become_canonical_errors() {
    let server = start().await;
    let ok = client(server.addr, SK, false, Duration::from_secs(10));
    let missing = ok
        .execute(Operation::ListUploads(ListUploads::bucket("nope")))
        .await;
    assert_eq!(
        missing,
        Err(Error::NoSuchBucket {
            bucket: "nope".into()
        })
    );

    let wrong = client(
        server.addr,
        "not-the-secret",
        false,
        Duration::from_secs(10),
    );
    let refused = wrong
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await;
    assert!(
        matches!(refused, Err(Error::BackendUnavailable { .. })),
        "{refused:?}"
    );

    // Nobody listens on a port just released.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let down = client(closed, SK, false, Duration::from_secs(10));
    let unreachable = down
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await;
    assert!(
        matches!(unreachable, Err(Error::BackendUnavailable { .. })),
        "{unreachable:?}"
    );
}

/// A server that answers every request with `reply`, or never answers when `reply` is empty.
async fn fake(reply: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                if reply.is_empty() {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                } else {
                    let _ = s.write_all(reply).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn garbled_and_slow_backends_fail_cleanly() {
    let garbled = fake(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").await;
    let r = client(garbled, SK, false, Duration::from_secs(5))
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await;
    assert!(matches!(r, Err(Error::BadBackendAnswer { .. })), "{r:?}");

    let html = fake(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 6\r\n\r\n<html>").await;
    let r = client(html, SK, false, Duration::from_secs(5))
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await;
    // A backend's server error is the caller's 502, not dragoman's own 500.
    assert!(matches!(r, Err(Error::BadBackendAnswer { .. })), "{r:?}");

    let silent = fake(b"").await;
    let started = std::time::Instant::now();
    let r = client(silent, SK, false, Duration::from_millis(300))
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await;
    assert_eq!(r, Err(Error::BackendTimeout));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_oversized_backend_answer_is_refused_not_buffered() {
    let small = |addr: SocketAddr| {
        let client = BosClient::new(BosClientConfig {
            name: "bos-test".into(),
            endpoint: Endpoint {
                scheme: "http".into(),
                authority: addr.to_string(),
                virtual_hosted: false,
            },
            access_key: AK.into(),
            secret_key: dragoman_model::Secret::new(SK),
            honours_upload_id_marker: false,
            http: HttpOptions {
                max_response_bytes: 1024,
                ..HttpOptions::default()
            },
        })
        .unwrap();
        dragoman_backend::backend(
            "bos-test",
            Arc::new(client),
            &OutboundConfig::default(),
            SnapshotConfig::default(),
            &Metrics::new(),
        )
        .0
    };
    // Announced too large, and too large without announcing it (chunked).
    let announced = fake(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n{").await;
    let chunk = "800\r\n".to_owned() + &"x".repeat(0x800) + "\r\n";
    let body =
        format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}{chunk}0\r\n\r\n");
    let chunked = fake(Box::leak(body.into_bytes().into_boxed_slice())).await;
    for addr in [announced, chunked] {
        let r = small(addr)
            .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
            .await;
        match r {
            Err(Error::BadBackendAnswer { message }) => {
                assert!(message.contains("max_response_bytes"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
