//! Black-box tests of the embedded store on a real SQLite file.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use dragoman_model::{
    Cursor, Entry, Error, Identity, ListUploads, NewUpload, StorageClass, Timestamp, Upload,
    paginate,
};
use dragoman_store::{Store, embedded_state, new_upload_id};
use proptest::prelude::*;

fn new_upload(bucket: &str, key: &str) -> NewUpload {
    NewUpload {
        bucket: bucket.into(),
        key: key.into(),
        storage_class: None,
        checksum_algorithm: None,
        checksum_type: None,
        initiator: Some(Identity::named("demo", "demo")),
    }
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    (dir, store)
}

fn ids(page: &dragoman_model::UploadsPage) -> Vec<String> {
    page.entries
        .iter()
        .map(|e| match e {
            Entry::Upload(u) => u.upload_id.clone(),
            Entry::Prefix(p) => format!("prefix:{p}"),
        })
        .collect()
}

#[test]
fn uploads_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = {
        let s = Store::open(dir.path()).expect("open");
        s.create_bucket("b").expect("bucket");
        let u = s.create_upload(&new_upload("b", "k ü")).expect("upload");
        s.close().expect("close");
        u
    };
    let s = Store::open(dir.path()).expect("reopen");
    let page = s.list_uploads(&ListUploads::bucket("b")).expect("list");
    assert_eq!(page.entries, vec![Entry::Upload(created.clone())]);
    // A later upload still sorts after the ones made before the restart.
    let later = s.create_upload(&new_upload("b", "k ü")).expect("upload");
    assert!(later.initiated > created.initiated);
    assert!(later.upload_id > created.upload_id);
}

#[test]
fn same_key_uploads_keep_initiation_order() {
    let (_d, s) = store();
    s.create_bucket("b").expect("bucket");
    let made: Vec<Upload> = (0..20)
        .map(|_| s.create_upload(&new_upload("b", "same")).expect("upload"))
        .collect();
    let page = s.list_uploads(&ListUploads::bucket("b")).expect("list");
    let listed: Vec<_> = page.uploads().cloned().collect();
    assert_eq!(listed, made);
    assert!(made.windows(2).all(|w| w[0].upload_id < w[1].upload_id));
}

#[test]
fn abort_removes_and_then_reports_no_such_upload() {
    let (_d, s) = store();
    s.create_bucket("b").expect("bucket");
    let u = s.create_upload(&new_upload("b", "k")).expect("upload");
    assert_eq!(
        s.abort_upload("b", Some("other"), &u.upload_id),
        Err(Error::NoSuchUpload {
            upload_id: u.upload_id.clone()
        })
    );
    s.abort_upload("b", Some("k"), &u.upload_id).expect("abort");
    assert!(
        s.list_uploads(&ListUploads::bucket("b"))
            .expect("list")
            .entries
            .is_empty()
    );
    assert_eq!(
        s.abort_upload("b", None, &u.upload_id),
        Err(Error::NoSuchUpload {
            upload_id: u.upload_id
        })
    );
}

#[test]
fn buckets_are_created_once_and_deleted_only_when_empty() {
    let (_d, s) = store();
    s.create_bucket("b").expect("bucket");
    assert!(matches!(
        s.create_bucket("b"),
        Err(Error::BucketAlreadyExists { .. })
    ));
    let u = s.create_upload(&new_upload("b", "k")).expect("upload");
    assert!(matches!(
        s.delete_bucket("b"),
        Err(Error::BucketNotEmpty { .. })
    ));
    s.abort_upload("b", Some("k"), &u.upload_id).expect("abort");
    s.delete_bucket("b").expect("delete");
    assert!(matches!(
        s.head_bucket("b"),
        Err(Error::NoSuchBucket { .. })
    ));
    assert!(matches!(
        s.list_uploads(&ListUploads::bucket("b")),
        Err(Error::NoSuchBucket { .. })
    ));
    assert!(matches!(
        s.create_upload(&new_upload("b", "k")),
        Err(Error::NoSuchBucket { .. })
    ));
    assert!(s.list_buckets().expect("buckets").is_empty());
}

#[test]
fn markers_resolve_like_s3() {
    let (_d, s) = store();
    s.create_bucket("b").expect("bucket");
    let a1 = s.create_upload(&new_upload("b", "a")).expect("upload");
    let a2 = s.create_upload(&new_upload("b", "a")).expect("upload");
    let b1 = s.create_upload(&new_upload("b", "b")).expect("upload");
    let mut q = ListUploads::bucket("b");
    let by_id = |key: &str, id: &str| {
        Some(Cursor::Upload {
            key: key.into(),
            upload_id: id.into(),
            initiated: None,
            next_upload: None,
        })
    };

    q.after = by_id("a", &a1.upload_id);
    assert_eq!(
        ids(&s.list_uploads(&q).expect("list")),
        [a2.upload_id.clone(), b1.upload_id.clone()]
    );

    // An id of another key, or one this store never wrote, is S3's InvalidArgument.
    q.after = by_id("a", &b1.upload_id);
    assert_eq!(
        s.list_uploads(&q),
        Err(Error::invalid_upload_id_marker(b1.upload_id.clone()))
    );
    q.after = by_id("a", "not-an-id");
    assert_eq!(
        s.list_uploads(&q),
        Err(Error::invalid_upload_id_marker("not-an-id"))
    );

    // An id that was aborted since still resumes at its place in the order.
    s.abort_upload("b", Some("a"), &a1.upload_id)
        .expect("abort");
    q.after = by_id("a", &a1.upload_id);
    assert_eq!(
        ids(&s.list_uploads(&q).expect("list")),
        [a2.upload_id.clone(), b1.upload_id]
    );
}

#[test]
fn concurrent_writers_and_readers_lose_nothing() {
    let (_d, s) = store();
    s.create_bucket("b").expect("bucket");
    std::thread::scope(|scope| {
        for t in 0..4 {
            let s = &s;
            scope.spawn(move || {
                for i in 0..50 {
                    s.create_upload(&new_upload("b", &format!("t{t}/{i}")))
                        .expect("upload");
                    s.list_uploads(&ListUploads {
                        max: 10,
                        ..ListUploads::bucket("b")
                    })
                    .expect("list");
                }
            });
        }
    });
    let page = s.list_uploads(&ListUploads::bucket("b")).expect("list");
    assert_eq!(page.uploads().count(), 200);
}

fn arb_uploads() -> impl Strategy<Value = Vec<Upload>> {
    let key = prop::collection::vec(
        prop::sample::select(vec!["a", "b", "/", "é", " ", "-"]),
        1..5,
    )
    .prop_map(|p| p.concat());
    // A few identities, some alike in one name, some with a name missing, and none: rows
    // repeat the last owner or initiator, change it, and name none.
    let who = || {
        prop::sample::select(vec![
            None,
            Some(("a", Some("A"))),
            Some(("a", Some("AB"))),
            Some(("a", None)),
            Some(("", Some("A"))),
        ])
    };
    prop::collection::vec((key, 1i64..5, who(), who()), 0..40).prop_map(|v| {
        let identity = |w: Option<(&str, Option<&str>)>| {
            w.map(|(id, name)| {
                std::sync::Arc::new(Identity {
                    id: Some(id.into()),
                    display_name: name.map(Into::into),
                })
            })
        };
        let mut out: Vec<Upload> = v
            .into_iter()
            .map(|(key, t, owner, initiator)| Upload {
                key,
                upload_id: new_upload_id(Timestamp::from_nanos(t)),
                initiated: Timestamp::from_nanos(t),
                owner: identity(owner),
                initiator: identity(initiator),
                storage_class: Some(StorageClass::Standard),
                checksum_algorithm: None,
                checksum_type: None,
                state: embedded_state(Timestamp::from_nanos(t)),
            })
            .collect();
        out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The SQL listing is the reference listing, page by page, for any content, page size,
    /// prefix and delimiter.
    #[test]
    fn store_pages_equal_reference_pages(
        uploads in arb_uploads(),
        max in 1u16..7,
        prefix in prop::sample::select(vec!["", "a", "a/", "é", "b/"]),
        delimiter in prop::sample::select(vec![None, Some("/"), Some(" "), Some("é")]),
    ) {
        let (_d, s) = store();
        s.create_bucket("b").expect("bucket");
        s.import("b", uploads.clone()).expect("import");
        let mut q = ListUploads { prefix: prefix.into(), delimiter: delimiter.map(Into::into), max, ..ListUploads::bucket("b") };
        for _ in 0..=uploads.len() + 1 {
            let got = s.list_uploads(&q).expect("list");
            let want = paginate(&uploads, &q).expect("reference");
            prop_assert_eq!(&got, &want);
            if !got.truncated { break; }
            q.after = got.next;
        }
    }
}

#[test]
fn a_burst_of_reads_opens_a_bounded_number_of_connections() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = std::sync::Arc::new(
        dragoman_store::Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}")),
    );
    store
        .create_bucket("burst")
        .unwrap_or_else(|e| panic!("{e}"));
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let q = dragoman_model::ListUploads::bucket("burst");
                    store.list_uploads(&q).unwrap_or_else(|e| panic!("{e}"));
                    assert!(store.open_readers() <= dragoman_store::MAX_READERS);
                }
            })
        })
        .collect();
    for t in threads {
        t.join()
            .unwrap_or_else(|_| panic!("a reader thread panicked"));
    }
    assert!(store.open_readers() <= dragoman_store::MAX_READERS);
    assert!(store.open_readers() >= 1);
}

/// A listing reads in a transaction of its own and ends it, whether it answers a page or an
/// error: a reader connection left inside one would go back to the pool holding an old
/// snapshot (or refuse the next `BEGIN`), and later listings would miss new uploads.
#[test]
fn each_listing_sees_the_uploads_made_before_it() {
    let (_d, s) = store();
    s.create_bucket("b").expect("bucket");
    for n in 1..=5 {
        let missing = s.list_uploads(&ListUploads::bucket("nope"));
        assert!(
            matches!(missing, Err(Error::NoSuchBucket { .. })),
            "{missing:?}"
        );
        s.create_upload(&new_upload("b", &format!("k{n}")))
            .expect("upload");
        let page = s.list_uploads(&ListUploads::bucket("b")).expect("list");
        assert_eq!(page.entries.len(), n, "listing {n}");
    }
    // Every listing above ran on the one pooled reader.
    assert_eq!(s.open_readers(), 1);
}
