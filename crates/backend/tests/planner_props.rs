//! The invariant of the product, for every backend capability profile: following the
//! continuation returns the canonical listing, with no duplicate, no gap, and an end; and when
//! uploads are aborted and created between pages, no upload present for the whole listing is
//! skipped.
//!
//! Profiles: the embedded store (a real SQLite file), a BOS service that ignores
//! `uploadIdMarker` (resume emulated with `prefix=<key>`), one that honours it, and a Qumulo
//! cluster (opaque tokens, its own order, short pages: sorted snapshot in the gateway). The
//! remote services are in-memory stand-ins behind the real planner code.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use dragoman_backend::{
    Backend, Call, Capabilities, Client, EmbeddedClient, NativePage, OutboundConfig, PageRequest,
    Reply, SnapshotConfig,
};
use dragoman_metrics::Metrics;
use dragoman_model::{
    Cursor, Entry, Error, ListUploads, Operation, Outcome, StorageClass, Timestamp, Upload,
    common_prefix, paginate,
};
use dragoman_store::{Store, new_upload_id};
use proptest::prelude::*;

type Shared = Arc<Mutex<Vec<Upload>>>;

fn sorted(v: &[Upload]) -> Vec<Upload> {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    v
}

/// A BOS service with S3's listing semantics, answering from shared memory, and capping
/// pages at 1000 as S3 and BOS services do.
struct MemoryBos {
    uploads: Shared,
    honours_upload_id_marker: bool,
}

#[async_trait]
impl Client for MemoryBos {
    fn kind(&self) -> &'static str {
        "bos"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::marker_paged(self.honours_upload_id_marker)
    }

    async fn call(&self, call: Call) -> Result<Reply, Error> {
        let Call::Page(r) = call else {
            return Err(Error::internal("not a listing"));
        };
        let all = sorted(&self.uploads.lock().unwrap());
        // Markers carry no time: the service knows only the key and the id.
        let after = match r.after {
            Some(Cursor::Upload { key, upload_id, .. }) if self.honours_upload_id_marker => {
                Some(Cursor::Upload {
                    key,
                    upload_id,
                    initiated: None,
                    next_upload: None,
                })
            }
            Some(c) => Some(Cursor::Key(c.key().to_owned())),
            None => None,
        };
        let q = ListUploads {
            prefix: r.prefix.clone(),
            delimiter: r.delimiter.clone(),
            after,
            max: r.max.min(1000),
            ..ListUploads::bucket("b")
        };
        let page = paginate(&all, &q)?;
        Ok(Reply::Page(NativePage {
            entries: page.entries,
            truncated: page.truncated,
            continuation: None,
        }))
    }
}

/// A Qumulo cluster: its own (reverse id) order, opaque tokens, pages of three.
struct MemoryQumulo {
    uploads: Shared,
}

#[async_trait]
impl Client for MemoryQumulo {
    fn kind(&self) -> &'static str {
        "qumulo"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::opaque(3)
    }

    async fn call(&self, call: Call) -> Result<Reply, Error> {
        let Call::Page(PageRequest { continuation, .. }) = call else {
            return Err(Error::internal("not a listing"));
        };
        let mut all = self.uploads.lock().unwrap().clone();
        all.sort_by(|a, b| b.upload_id.cmp(&a.upload_id));
        let from: usize = continuation
            .map(|a| a.trim_start_matches("opaque-").parse().unwrap())
            .unwrap_or(0);
        let to = (from + 3).min(all.len());
        let next = (to < all.len()).then(|| format!("opaque-{to}"));
        Ok(Reply::Page(NativePage {
            entries: all[from..to].iter().cloned().map(Entry::Upload).collect(),
            truncated: next.is_some(),
            continuation: next,
        }))
    }
}

#[derive(Clone, Copy, Debug)]
enum Profile {
    Embedded,
    BosEmulated,
    BosNative,
    Qumulo,
}

/// How a caller hands the continuation back.
#[derive(Clone, Copy, Debug)]
enum Caller {
    /// Qumulo callers: dragoman's own signed cursor, exact.
    Exact,
    /// S3 callers: key-marker and upload-id-marker (the upload named by id alone).
    S3,
    /// BOS SDK callers: keyMarker alone, pages ending at key boundaries.
    KeyOnly,
}

/// A listing target: the backend under test and the uploads it holds.
struct Target {
    backend: Arc<dyn Backend>,
    uploads: Shared,
    store: Option<Arc<Store>>,
    _dir: tempfile::TempDir,
}

impl Target {
    fn new(profile: Profile, initial: &[Upload]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let uploads: Shared = Arc::new(Mutex::new(initial.to_vec()));
        let (client, store): (Arc<dyn Client>, Option<Arc<Store>>) = match profile {
            Profile::Embedded => {
                let store = Arc::new(Store::open(dir.path()).unwrap());
                store.create_bucket("b").unwrap();
                store.import("b", initial.to_vec()).unwrap();
                (
                    Arc::new(EmbeddedClient::new(Arc::clone(&store))),
                    Some(store),
                )
            }
            Profile::BosEmulated | Profile::BosNative => {
                let honours = matches!(profile, Profile::BosNative);
                let t = MemoryBos {
                    uploads: Arc::clone(&uploads),
                    honours_upload_id_marker: honours,
                };
                (Arc::new(t), None)
            }
            Profile::Qumulo => {
                let t = MemoryQumulo {
                    uploads: Arc::clone(&uploads),
                };
                (Arc::new(t), None)
            }
        };
        let snapshot = SnapshotConfig {
            max_uploads: 10_000,
            ttl: Duration::from_secs(60),
            ..SnapshotConfig::default()
        };
        let (backend, _) = dragoman_backend::backend(
            "under-test",
            client,
            &OutboundConfig::default(),
            snapshot,
            &Metrics::new(),
        );
        Self {
            backend,
            uploads,
            store,
            _dir: dir,
        }
    }

    fn abort(&self, upload_id: &str) {
        self.uploads
            .lock()
            .unwrap()
            .retain(|u| u.upload_id != upload_id);
        if let Some(s) = &self.store {
            let _ = s.abort_upload("b", None, upload_id);
        }
    }

    fn create(&self, u: Upload) {
        self.uploads.lock().unwrap().push(u.clone());
        if let Some(s) = &self.store {
            s.import("b", [u]).unwrap();
        }
    }
}

fn upload(key: &str, t: i64) -> Upload {
    let initiated = Timestamp::from_nanos(t);
    Upload {
        key: key.into(),
        upload_id: new_upload_id(initiated),
        initiated,
        owner: None,
        initiator: None,
        storage_class: Some(StorageClass::Standard),
        checksum_algorithm: None,
        checksum_type: None,
        state: dragoman_store::embedded_state(initiated),
    }
}

fn arb_keys() -> impl Strategy<Value = Vec<String>> {
    let key = prop::collection::vec(prop::sample::select(vec!["a", "b", "/", "é", " "]), 1..5)
        .prop_map(|p| p.concat());
    prop::collection::vec(key, 0..30)
}

/// Lists from start to end; between pages, applies the next mutation.
fn run(
    target: &Target,
    caller: Caller,
    base: &ListUploads,
    mutations: &[(Option<usize>, Option<String>)],
    spare_marker: bool,
) -> Result<Vec<Entry>, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut got = Vec::new();
    let mut q = ListUploads {
        whole_keys: matches!(caller, Caller::KeyOnly),
        ..base.clone()
    };
    let mut t = 10_000;
    for step in 0..200 {
        let Outcome::Page(page) =
            rt.block_on(target.backend.execute(Operation::ListUploads(q.clone())))?
        else {
            panic!("not a page")
        };
        assert!(page.entries.len() <= usize::from(q.max));
        got.extend(page.entries.clone());
        if !page.truncated {
            return Ok(got);
        }
        let next = page
            .next
            .clone()
            .expect("a truncated page has a next position");
        if let Some((abort, create)) = mutations.get(step) {
            let present: Vec<String> = target
                .uploads
                .lock()
                .unwrap()
                .iter()
                .map(|u| u.upload_id.clone())
                .collect();
            if let Some(i) = abort.filter(|_| !present.is_empty()) {
                let victim = &present[i % present.len()];
                let is_marker =
                    matches!(&next, Cursor::Upload { upload_id, .. } if upload_id == victim);
                if !(spare_marker && is_marker) {
                    target.abort(victim);
                }
            }
            if let Some(k) = create {
                t += 1;
                target.create(upload(k, t));
            }
        }
        q.after = Some(match (caller, next) {
            (Caller::Exact, c) => c,
            (Caller::S3, Cursor::Upload { key, upload_id, .. }) => Cursor::Upload {
                key,
                upload_id,
                initiated: None,
                next_upload: None,
            },
            (Caller::KeyOnly, c) => Cursor::Key(c.key().to_owned()),
            (_, c) => c,
        });
    }
    panic!("the listing did not end");
}

fn canonical_position(e: &Entry) -> (Vec<u8>, Timestamp, String) {
    match e {
        Entry::Upload(u) => (u.key.as_bytes().to_vec(), u.initiated, u.upload_id.clone()),
        Entry::Prefix(p) => (
            p.as_bytes().to_vec(),
            Timestamp::from_nanos(i64::MIN),
            String::new(),
        ),
    }
}

const PROFILES: [Profile; 4] = [
    Profile::Embedded,
    Profile::BosEmulated,
    Profile::BosNative,
    Profile::Qumulo,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// With nothing changing, every profile and every way of resuming gives exactly the
    /// canonical listing (key-marker-only callers: when no key has more uploads than a page).
    #[test]
    fn listings_are_canonical(
        keys in arb_keys(),
        max in 1u16..6,
        prefix in prop::sample::select(vec!["", "a", "a/", "é"]),
        delimiter in prop::sample::select(vec![None, Some("/"), Some(" ")]),
    ) {
        let initial: Vec<Upload> = keys.iter().enumerate().map(|(i, k)| upload(k, i as i64 + 1)).collect();
        let base = ListUploads { prefix: prefix.into(), delimiter: delimiter.map(Into::into), max, ..ListUploads::bucket("b") };
        let want = paginate(&sorted(&initial), &ListUploads { max: 1000, ..base.clone() }).unwrap().entries;
        let biggest_key = keys.iter().map(|k| keys.iter().filter(|x| *x == k).count()).max().unwrap_or(0);
        for profile in PROFILES {
            for caller in [Caller::Exact, Caller::S3, Caller::KeyOnly] {
                if matches!(caller, Caller::KeyOnly) && biggest_key > usize::from(max) {
                    continue;
                }
                let target = Target::new(profile, &initial);
                let got = run(&target, caller, &base, &[], false).unwrap();
                prop_assert_eq!(&got, &want, "{:?} {:?}", profile, caller);
            }
        }
    }

    /// Uploads aborted and created between pages: entries stay in canonical order without
    /// duplicates, the listing ends, and every upload present for the whole listing is listed
    /// (or rolled into a listed common prefix).
    #[test]
    fn churn_never_skips_a_surviving_upload(
        keys in arb_keys(),
        max in 1u16..5,
        delimiter in prop::sample::select(vec![None, Some("/")]),
        mutations in prop::collection::vec(
            (prop::option::of(0usize..64), prop::option::of(prop::sample::select(vec!["a", "a/b", "b", "é", "zz"]).prop_map(String::from))),
            0..12,
        ),
    ) {
        let initial: Vec<Upload> = keys.iter().enumerate().map(|(i, k)| upload(k, i as i64 + 1)).collect();
        let base = ListUploads { delimiter: delimiter.map(Into::into), max, ..ListUploads::bucket("b") };
        for profile in PROFILES {
            for caller in [Caller::Exact, Caller::S3] {
                let target = Target::new(profile, &initial);
                // An S3 upload-id-marker names its upload by id alone: on a backend whose ids carry
                // no time, an aborted marker upload is AWS's own 400 InvalidArgument. Dragoman's
                // ids carry their time (the embedded store resumes after an aborted marker), so
                // only the other profiles spare the marker upload in S3-style runs.
                let spare = matches!(caller, Caller::S3) && !matches!(profile, Profile::Embedded);
                let got = run(&target, caller, &base, &mutations, spare).unwrap();
                let positions: Vec<_> = got.iter().map(canonical_position).collect();
                prop_assert!(positions.windows(2).all(|w| w[0] < w[1]), "{:?} {:?}: out of order or duplicated", profile, caller);
                let survivors: HashSet<String> = target.uploads.lock().unwrap().iter().map(|u| u.upload_id.clone()).collect();
                let listed_ids: HashSet<&str> = got.iter().filter_map(|e| match e { Entry::Upload(u) => Some(u.upload_id.as_str()), Entry::Prefix(_) => None }).collect();
                let listed_groups: HashSet<&str> = got.iter().filter_map(|e| match e { Entry::Prefix(p) => Some(p.as_str()), Entry::Upload(_) => None }).collect();
                for u in initial.iter().filter(|u| survivors.contains(&u.upload_id)) {
                    let seen = match common_prefix(&u.key, "", base.delimiter()) {
                        Some(group) => listed_groups.contains(group),
                        None => listed_ids.contains(u.upload_id.as_str()),
                    };
                    prop_assert!(seen, "{:?} {:?}: skipped {} ({})", profile, caller, u.key, u.upload_id);
                }
            }
        }
    }
}

/// A key split across the page boundary at the default (and largest) page, where the
/// lookahead entry does not fit in the one backend page services allow: a BOS caller, who
/// resumes with the key marker alone, still gets every upload, each key on one page.
#[test]
fn key_boundary_pages_at_the_largest_page_size() {
    let mut initial: Vec<Upload> = (0..999).map(|i| upload(&format!("k{i:04}"), i)).collect();
    initial.extend((0..3).map(|i| upload("k0999", 1000 + i)));
    initial.push(upload("k1000", 2000));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for profile in [
        Profile::Embedded,
        Profile::BosEmulated,
        Profile::BosNative,
        Profile::Qumulo,
    ] {
        let target = Target::new(profile, &initial);
        let mut pages: Vec<Vec<Upload>> = Vec::new();
        let mut after = None;
        loop {
            let q = ListUploads {
                after: after.clone(),
                max: 1000,
                whole_keys: true,
                ..ListUploads::bucket("b")
            };
            let Outcome::Page(page) = rt
                .block_on(target.backend.execute(Operation::ListUploads(q)))
                .unwrap()
            else {
                panic!("not a page")
            };
            pages.push(page.uploads().cloned().collect());
            if !page.truncated {
                break;
            }
            // The BOS SDK's rule: resume after the last key.
            after = page.entries.last().map(|e| Cursor::Key(e.key().to_owned()));
            assert!(pages.len() < 10, "{profile:?} does not end");
        }
        assert_eq!(pages.len(), 2, "{profile:?}");
        assert_eq!(
            pages[0].len(),
            999,
            "{profile:?}: k0999 must move whole to page 2"
        );
        let all: Vec<Upload> = pages.concat();
        assert_eq!(all, sorted(&initial), "{profile:?}");
    }
}
