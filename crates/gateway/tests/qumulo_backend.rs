//! dragoman's Qumulo client against dragoman serving the Qumulo dialect over TLS and its
//! embedded store: logins and their refresh, static tokens, certificate verification, paging.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dragoman_backend::http::HttpOptions;
use dragoman_backend::{
    Backend, OutboundConfig, Planner, QumuloAuth, QumuloClient, QumuloClientConfig, SnapshotConfig,
};
use dragoman_dialect_qumulo::QumuloConfig;
use dragoman_gateway::{ServerConfig, User, tls};
use dragoman_metrics::Metrics;
use dragoman_model::{Error, ListUploads, Operation, Outcome, Timestamp, Upload, paginate};
use dragoman_store::{Store, embedded_state, new_upload_id};

mod common;

const TOKEN: &str = "access-v1:qumulo-backend-test-token";

struct Server {
    addr: SocketAddr,
    uploads: Vec<Upload>,
    ca: std::path::PathBuf,
    dir: tempfile::TempDir,
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
        "c/ü/x",
        "c/z",
        "d e",
        "日本/語",
        "z",
        "z/",
        "z//",
    ];
    let mut v: Vec<Upload> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let t = Timestamp::from_nanos(1_767_323_045_123_456_789 + i as i64 * 1_000_003);
            Upload {
                key: (*k).into(),
                upload_id: new_upload_id(t),
                initiated: t,
                owner: None,
                initiator: None,
                storage_class: None,
                checksum_algorithm: None,
                checksum_type: None,
                state: embedded_state(t),
            }
        })
        .collect();
    v.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    v
}

async fn start(session_ttl: Duration) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    store.create_bucket("bkt").unwrap();
    let uploads = fixture();
    store.import("bkt", uploads.clone()).unwrap();
    let tls = tls::self_signed(&["localhost".into(), "127.0.0.1".into()]).unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &tls.cert_pem).unwrap();
    let users = vec![User {
        name: "admin".into(),
        access_key: "qumulo-ak".into(),
        secret_key: "qumulo-secret".into(),
        buckets: vec!["*".into()],
        password: Some("admin-password".into()),
        access_tokens: vec![TOKEN.into()],
    }];
    let qumulo = QumuloConfig {
        token_key: b"qumulo backend test key".to_vec(),
        session_ttl,
        page_size: 3,
    };
    let server = ServerConfig {
        tls: Some(tls.config),
        ..ServerConfig::default()
    };
    let (addr, stop) =
        common::serve_store(store, users, common::dialects(qumulo, "s3"), server).await;
    Server {
        addr,
        uploads,
        ca,
        dir,
        _stop: stop,
    }
}

fn planner(s: &Server, auth: QumuloAuth, http: HttpOptions, max_uploads: usize) -> Arc<Planner> {
    let client = QumuloClient::new(QumuloClientConfig {
        name: "qumulo-test".into(),
        base_url: format!("https://{}", s.addr),
        auth,
        http,
        page_limit: None,
    })
    .unwrap();
    let snapshot = SnapshotConfig {
        max_uploads,
        ttl: Duration::from_secs(5),
        ..SnapshotConfig::default()
    };
    let metrics = Metrics::new();
    let outbound = OutboundConfig::default();
    dragoman_backend::backend(
        "qumulo-test",
        Arc::new(client),
        &outbound,
        snapshot,
        &metrics,
    )
    .0
}

fn backend(s: &Server, auth: QumuloAuth, http: HttpOptions) -> Arc<Planner> {
    planner(s, auth, http, 10_000)
}

fn login(password: &str) -> QumuloAuth {
    QumuloAuth::Login {
        username: "admin".into(),
        password: password.into(),
    }
}

fn trusted(s: &Server) -> HttpOptions {
    HttpOptions {
        ca_file: Some(s.ca.clone()),
        ..HttpOptions::default()
    }
}

async fn list_all(b: &Planner, base: &ListUploads) -> Vec<dragoman_model::Entry> {
    let mut got = Vec::new();
    let mut q = base.clone();
    for _ in 0..100 {
        let Outcome::Page(page) = b.execute(Operation::ListUploads(q.clone())).await.unwrap()
        else {
            panic!("not a page")
        };
        got.extend(page.entries.clone());
        if !page.truncated {
            return got;
        }
        q.after = page.next.clone();
    }
    panic!("the listing did not end");
}

#[tokio::test]
async fn qumulo_client_lists_exactly_what_the_store_holds() {
    let s = start(Duration::from_secs(3600)).await;
    for auth in [login("admin-password"), QumuloAuth::Token(TOKEN.into())] {
        let b = backend(&s, auth, trusted(&s));
        for max in [1, 2, 5, 1000] {
            for (prefix, delimiter) in [("", None), ("a", None), ("", Some("/")), ("a/", Some("/"))]
            {
                let base = ListUploads {
                    prefix: prefix.into(),
                    delimiter: delimiter.map(Into::into),
                    max,
                    ..ListUploads::bucket("bkt")
                };
                let want = paginate(
                    &s.uploads,
                    &ListUploads {
                        max: 1000,
                        ..base.clone()
                    },
                )
                .unwrap()
                .entries;
                assert_eq!(
                    list_all(&b, &base).await,
                    want,
                    "max={max} prefix={prefix:?} delimiter={delimiter:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn an_expired_session_is_renewed_by_logging_in_again() {
    let s = start(Duration::from_secs(1)).await;
    let b = backend(&s, login("admin-password"), trusted(&s));
    let first = b
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await;
    assert!(first.is_ok(), "{first:?}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let again = b
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await;
    assert!(again.is_ok(), "{again:?}");
}

#[tokio::test]
async fn tls_is_verified_unless_explicitly_skipped() {
    let s = start(Duration::from_secs(3600)).await;
    let untrusted = backend(&s, login("admin-password"), HttpOptions::default());
    let r = untrusted
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await;
    // A certificate the gateway does not trust is a configuration error: 502, not a 503 that
    // SDKs would retry, and the reason is in the message (for the log).
    match r {
        Err(Error::BadBackendAnswer { message }) => {
            assert!(message.contains("not trusted"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let skip = backend(
        &s,
        login("admin-password"),
        HttpOptions {
            insecure_skip_verify: true,
            ..HttpOptions::default()
        },
    );
    assert!(
        skip.execute(Operation::ListUploads(ListUploads::bucket("bkt")))
            .await
            .is_ok()
    );
    let _ = &s.dir;
}

#[tokio::test]
async fn a_bucket_past_the_read_bound_is_a_clear_error() {
    let s = start(Duration::from_secs(3600)).await;
    let small = planner(&s, login("admin-password"), trusted(&s), 5);
    match small
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await
    {
        Err(Error::BackendUnavailable { message }) => assert!(
            message.contains("more than 5 uploads") && message.contains("max_uploads"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn errors_and_abort() {
    let s = start(Duration::from_secs(3600)).await;
    let b = backend(&s, login("admin-password"), trusted(&s));
    assert_eq!(
        b.execute(Operation::ListUploads(ListUploads::bucket("nope")))
            .await,
        Err(Error::NoSuchBucket {
            bucket: "nope".into()
        })
    );
    let wrong = backend(&s, login("wrong-password"), trusted(&s));
    let r = wrong
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await;
    assert!(matches!(r, Err(Error::BackendUnavailable { .. })), "{r:?}");

    let victim = s.uploads[0].clone();
    let other_key = Operation::AbortUpload {
        bucket: "bkt".into(),
        key: Some("not-its-key".into()),
        upload_id: victim.upload_id.clone(),
    };
    assert_eq!(
        b.execute(other_key).await,
        Err(Error::NoSuchUpload {
            upload_id: victim.upload_id.clone()
        })
    );
    let abort = Operation::AbortUpload {
        bucket: "bkt".into(),
        key: None,
        upload_id: victim.upload_id.clone(),
    };
    assert_eq!(b.execute(abort.clone()).await, Ok(Outcome::Aborted));
    assert_eq!(
        b.execute(abort).await,
        Err(Error::NoSuchUpload {
            upload_id: victim.upload_id.clone()
        })
    );
    let Ok(Outcome::Page(page)) = b
        .execute(Operation::ListUploads(ListUploads::bucket("bkt")))
        .await
    else {
        panic!("list")
    };
    assert!(page.uploads().all(|u| u.upload_id != victim.upload_id));
    assert_eq!(page.uploads().count(), s.uploads.len() - 1);
    let Ok(Outcome::Buckets(buckets)) = b.execute(Operation::ListBuckets).await else {
        panic!("buckets")
    };
    assert_eq!(
        buckets.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        ["bkt"]
    );
}
