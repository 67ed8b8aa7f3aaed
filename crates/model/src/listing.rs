//! The canonical listing query, cursor and page, and the reference paginator.
//!
//! `paginate` is the definition of a correct listing: the embedded store, the planner's
//! emulations and every test compare themselves to it.

use crate::{Error, Timestamp, Upload};

/// The largest page any dialect may ask for.
pub const MAX_PAGE: u16 = 1000;

/// Uploads and common prefixes, which S3 and BOS list apart, interleaved in key order. Each
/// list comes in key order and an upload never has a prefix's key, so a stable sort (which
/// finds the two runs and merges them) restores the listing's order.
pub fn interleave(mut uploads: Vec<Entry>, mut prefixes: Vec<Entry>) -> Vec<Entry> {
    if !prefixes.is_empty() {
        uploads.append(&mut prefixes);
        uploads.sort_by(|a, b| a.key().as_bytes().cmp(b.key().as_bytes()));
    }
    uploads
}

/// Room to reserve for the uploads of a backend's page of `body_len` bytes, in which an
/// upload takes at least `min_upload_bytes`: enough for the whole page at once, so a page of
/// 1000 is never copied into a vector grown by doubling, and no more than the body can hold,
/// so a page of 10 does not reserve room for 1000 (about 200 KB per request, which 1000
/// concurrent small listings kept resident). A body padded with whitespace or unknown fields
/// only over-reserves up to the page limit.
pub fn page_capacity(body_len: usize, min_upload_bytes: usize) -> usize {
    (body_len / min_upload_bytes.max(1)).min(usize::from(MAX_PAGE) + 1)
}

/// One canonical listing query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListUploads {
    pub bucket: String,
    /// Only keys that start with it; empty lists every key.
    pub prefix: String,
    /// Groups keys into common prefixes; `None` or empty means no grouping.
    pub delimiter: Option<String>,
    /// Resume after this position in the canonical order.
    pub after: Option<Cursor>,
    /// How many entries (uploads and common prefixes) at most; `0..=MAX_PAGE`.
    pub max: u16,
    /// The caller asked for URL-encoded keys (S3 `encoding-type=url`).
    pub encode_keys: bool,
    /// End pages at a key boundary (all uploads of a key on one page) unless one key alone
    /// fills the page: for callers that resume with a key marker alone (the BOS SDKs).
    pub whole_keys: bool,
}

impl ListUploads {
    /// A query for a whole bucket with the default page size.
    pub fn bucket(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            prefix: String::new(),
            delimiter: None,
            after: None,
            max: MAX_PAGE,
            encode_keys: false,
            whole_keys: false,
        }
    }

    /// The delimiter, with the empty string meaning none.
    pub fn delimiter(&self) -> Option<&str> {
        self.delimiter.as_deref().filter(|d| !d.is_empty())
    }
}

/// A position in the canonical order (key bytes, then initiation time, then upload id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// After every upload of this key. A common prefix that is not greater than the key is
    /// passed too, which is how S3 and BOS key markers behave.
    Key(String),
    /// After every key that starts with this prefix.
    Prefix(String),
    /// After one upload. `initiated` is `None` when the caller named the upload by id alone;
    /// the backend resolves it, or refuses an id it cannot place.
    Upload {
        key: String,
        upload_id: String,
        initiated: Option<Timestamp>,
        /// The upload of the same key that came right after this one in the backend's own
        /// order when the cursor was handed out (empty: none did): where to resume if this
        /// one is aborted before the next page and its time alone cannot place it (a backend
        /// that reports times to the second orders uploads within one second by a finer
        /// clock of its own).
        next_upload: Option<String>,
    },
}

impl Cursor {
    /// The key part of the position: common prefixes not greater than it are passed.
    pub fn key(&self) -> &str {
        match self {
            Self::Key(k) | Self::Prefix(k) => k,
            Self::Upload { key, .. } => key,
        }
    }

    /// The cursor that stands right after an entry.
    pub fn after_entry(entry: &Entry) -> Self {
        match entry {
            Entry::Upload(u) => Self::Upload {
                key: u.key.clone(),
                upload_id: u.upload_id.clone(),
                initiated: Some(u.initiated),
                next_upload: None,
            },
            Entry::Prefix(p) => Self::Prefix(p.clone()),
        }
    }

    /// Whether an upload lies strictly after this cursor. Needs a resolved `Upload` cursor.
    pub fn precedes(&self, upload: &Upload) -> bool {
        let key = upload.key.as_bytes();
        match self {
            Self::Key(k) => key > k.as_bytes(),
            Self::Prefix(p) => key > p.as_bytes() && !key.starts_with(p.as_bytes()),
            Self::Upload {
                key: k,
                upload_id,
                initiated,
                ..
            } => {
                let at = initiated.unwrap_or_default();
                (key, upload.initiated, upload.upload_id.as_str())
                    > (k.as_bytes(), at, upload_id.as_str())
            }
        }
    }
}

/// One entry of a page: uploads and common prefixes interleave in key order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "pages are almost all uploads: boxing would add an allocation per entry and save nothing"
)]
pub enum Entry {
    Upload(Upload),
    Prefix(String),
}

impl Entry {
    pub fn key(&self) -> &str {
        match self {
            Self::Upload(u) => &u.key,
            Self::Prefix(p) => p,
        }
    }
}

/// One page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadsPage {
    pub entries: Vec<Entry>,
    /// More entries follow `next`.
    pub truncated: bool,
    /// The position after the last entry; `None` on an empty page.
    pub next: Option<Cursor>,
}

impl UploadsPage {
    pub fn uploads(&self) -> impl Iterator<Item = &Upload> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Upload(u) => Some(u),
            Entry::Prefix(_) => None,
        })
    }

    pub fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Prefix(p) => Some(p.as_str()),
            Entry::Upload(_) => None,
        })
    }

    /// The upload that followed the page's last upload in the backend's order, if the planner
    /// recorded it on the page's cursor.
    pub fn next_upload(&self) -> Option<&str> {
        match &self.next {
            Some(Cursor::Upload { next_upload, .. }) => next_upload.as_deref(),
            _ => None,
        }
    }

    /// Builds a page from entries, setting `next` after the last one.
    pub fn from_entries(entries: Vec<Entry>, truncated: bool) -> Self {
        Self {
            entries,
            truncated,
            next: None,
        }
        .with_cursor()
    }

    /// The page with its cursor after its last entry, if it has none yet.
    pub fn with_cursor(mut self) -> Self {
        if self.next.is_none() {
            self.next = self.entries.last().map(Cursor::after_entry);
        }
        self
    }
}

/// Trims a page fetched with one entry of lookahead (`max + 1` asked for) to at most `max`
/// entries that end at a key boundary: if the entry after the page is another upload of the
/// page's last key, every upload of that key leaves the page for the next one, unless that
/// would empty the page (one key alone has more uploads than fit).
pub fn end_at_key_boundary(fetched: UploadsPage, max: u16) -> UploadsPage {
    let max = usize::from(max);
    if fetched.entries.len() <= max {
        return fetched;
    }
    let mut entries = fetched.entries;
    let lookahead = entries.swap_remove(max);
    entries.truncate(max);
    if let (Entry::Upload(next), Some(Entry::Upload(last))) = (&lookahead, entries.last())
        && next.key == last.key
    {
        let key = last.key.clone();
        let keep = entries
            .iter()
            .rposition(|e| !matches!(e, Entry::Upload(u) if u.key == key))
            .map_or(0, |i| i + 1);
        if keep > 0 {
            entries.truncate(keep);
        }
    }
    UploadsPage::from_entries(entries, true)
}

/// The common prefix a key rolls up into under `prefix` and `delimiter`, if any.
pub fn common_prefix<'k>(key: &'k str, prefix: &str, delimiter: Option<&str>) -> Option<&'k str> {
    let delimiter = delimiter.filter(|d| !d.is_empty())?;
    let rest = key.strip_prefix(prefix)?;
    let at = rest.find(delimiter)?;
    key.get(..prefix.len() + at + delimiter.len())
}

/// Lists one page from uploads held in canonical order. The reference every backend must match.
///
/// An `Upload` cursor without `initiated` is resolved against `sorted`; an id that is not an
/// upload of the cursor's key is refused as S3 refuses it.
pub fn paginate(sorted: &[Upload], query: &ListUploads) -> Result<UploadsPage, Error> {
    let after = match &query.after {
        Some(Cursor::Upload {
            key,
            upload_id,
            initiated: None,
            ..
        }) => {
            let found = sorted
                .iter()
                .find(|u| &u.key == key && &u.upload_id == upload_id);
            let Some(found) = found else {
                return Err(Error::invalid_upload_id_marker(upload_id.clone()));
            };
            Some(Cursor::after_entry(&Entry::Upload(found.clone())))
        }
        other => other.clone(),
    };
    if query.max == 0 {
        // AWS answers max-uploads=0 with an empty, untruncated page.
        return Ok(UploadsPage::default());
    }
    let prefix = query.prefix.as_bytes();
    let mut i = sorted.partition_point(|u| {
        u.key.as_bytes() < prefix || after.as_ref().is_some_and(|c| !c.precedes(u))
    });
    let marker_key = after.as_ref().map(Cursor::key);
    let mut entries = Vec::new();
    while let Some(upload) = sorted.get(i) {
        if !upload.key.as_bytes().starts_with(prefix) {
            break;
        }
        let entry = match common_prefix(&upload.key, &query.prefix, query.delimiter()) {
            Some(group) => {
                i += sorted[i..].partition_point(|u| u.key.starts_with(group));
                if marker_key.is_some_and(|m| group.as_bytes() <= m.as_bytes()) {
                    continue;
                }
                Entry::Prefix(group.to_owned())
            }
            None => {
                i += 1;
                Entry::Upload(upload.clone())
            }
        };
        if entries.len() == usize::from(query.max) {
            return Ok(UploadsPage::from_entries(entries, true));
        }
        entries.push(entry);
    }
    Ok(UploadsPage::from_entries(entries, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn page_capacity_is_what_the_body_can_hold_up_to_a_full_page() {
        assert_eq!(page_capacity(0, 92), 0);
        assert_eq!(page_capacity(4_000, 92), 43);
        assert_eq!(page_capacity(400_000, 92), 1001);
        assert_eq!(page_capacity(10, 0), 10);
    }

    fn upload(key: &str, t: i64, id: &str) -> Upload {
        Upload {
            key: key.into(),
            upload_id: id.into(),
            initiated: Timestamp::from_nanos(t),
            owner: None,
            initiator: None,
            storage_class: None,
            checksum_algorithm: None,
            checksum_type: None,
            state: Default::default(),
        }
    }

    fn sorted(mut v: Vec<Upload>) -> Vec<Upload> {
        v.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        v
    }

    fn keys(page: &UploadsPage) -> Vec<String> {
        page.entries
            .iter()
            .map(|e| match e {
                Entry::Upload(u) => format!("{}#{}", u.key, u.upload_id),
                Entry::Prefix(p) => format!("{p}/"),
            })
            .collect()
    }

    fn fixture() -> Vec<Upload> {
        sorted(vec![
            upload("a/1", 1, "u1"),
            upload("a/2", 2, "u2"),
            upload("b", 3, "u3"),
            upload("b", 4, "u4"),
            upload("b", 4, "u0"),
            upload("c/d/e", 5, "u5"),
            upload("c/x", 6, "u6"),
            upload("ü", 7, "u7"),
        ])
    }

    #[test]
    fn canonical_order_is_key_then_time_then_id() {
        let all = paginate(&fixture(), &ListUploads::bucket("b")).unwrap_or_default();
        assert_eq!(
            keys(&all),
            [
                "a/1#u1", "a/2#u2", "b#u3", "b#u0", "b#u4", "c/d/e#u5", "c/x#u6", "ü#u7"
            ]
        );
        assert!(!all.truncated);
    }

    #[test]
    fn delimiter_rolls_up_and_counts_prefixes() {
        let q = ListUploads {
            delimiter: Some("/".into()),
            max: 3,
            ..ListUploads::bucket("b")
        };
        let p = paginate(&fixture(), &q).unwrap_or_default();
        assert_eq!(keys(&p), ["a//", "b#u3", "b#u0"]);
        assert!(p.truncated);
        let q2 = ListUploads {
            after: p.next.clone(),
            ..q
        };
        let p2 = paginate(&fixture(), &q2).unwrap_or_default();
        assert_eq!(keys(&p2), ["b#u4", "c//", "ü#u7"]);
        assert!(!p2.truncated);
    }

    #[test]
    fn key_marker_skips_the_group_it_falls_in() {
        let q = ListUploads {
            delimiter: Some("/".into()),
            after: Some(Cursor::Key("a/1".into())),
            ..ListUploads::bucket("b")
        };
        let p = paginate(&fixture(), &q).unwrap_or_default();
        assert_eq!(keys(&p)[0], "b#u3");
        let q = ListUploads {
            after: Some(Cursor::Key("a/".into())),
            ..q
        };
        assert_eq!(
            keys(&paginate(&fixture(), &q).unwrap_or_default())[0],
            "b#u3"
        );
    }

    #[test]
    fn unresolved_upload_cursor_resolves_or_refuses() {
        let mut q = ListUploads::bucket("b");
        q.after = Some(Cursor::Upload {
            key: "b".into(),
            upload_id: "u0".into(),
            initiated: None,
            next_upload: None,
        });
        assert_eq!(
            keys(&paginate(&fixture(), &q).unwrap_or_default())[0],
            "b#u4"
        );
        q.after = Some(Cursor::Upload {
            key: "a/1".into(),
            upload_id: "u0".into(),
            initiated: None,
            next_upload: None,
        });
        assert_eq!(
            paginate(&fixture(), &q),
            Err(Error::invalid_upload_id_marker("u0"))
        );
    }

    #[test]
    fn zero_max_is_empty_and_not_truncated() {
        let q = ListUploads {
            max: 0,
            ..ListUploads::bucket("b")
        };
        assert_eq!(paginate(&fixture(), &q), Ok(UploadsPage::default()));
    }

    #[test]
    fn prefix_limits_and_delimiter_applies_after_it() {
        let q = ListUploads {
            prefix: "c/".into(),
            delimiter: Some("/".into()),
            ..ListUploads::bucket("b")
        };
        assert_eq!(
            keys(&paginate(&fixture(), &q).unwrap_or_default()),
            ["c/d//", "c/x#u6"]
        );
    }

    #[test]
    fn common_prefix_rules() {
        assert_eq!(common_prefix("a/b/c", "", Some("/")), Some("a/"));
        assert_eq!(common_prefix("a/b/c", "a/", Some("/")), Some("a/b/"));
        assert_eq!(common_prefix("a/b", "a/", Some("/")), None);
        assert_eq!(common_prefix("a--b", "", Some("--")), Some("a--"));
        assert_eq!(common_prefix("a/b", "", None), None);
        assert_eq!(common_prefix("a/b", "", Some("")), None);
        assert_eq!(common_prefix("x/b", "a", Some("/")), None);
    }

    #[test]
    fn key_boundary_moves_a_split_key_to_the_next_page() {
        let q = ListUploads {
            max: 3,
            ..ListUploads::bucket("b")
        };
        // a/1 a/2 b b | b ...: the page stops after a/2.
        let fetched = paginate(
            &fixture(),
            &ListUploads {
                max: 4,
                ..q.clone()
            },
        )
        .unwrap_or_default();
        let page = end_at_key_boundary(fetched, 3);
        assert_eq!(keys(&page), ["a/1#u1", "a/2#u2"]);
        assert!(page.truncated);
        assert_eq!(
            page.next,
            Some(Cursor::Upload {
                key: "a/2".into(),
                upload_id: "u2".into(),
                initiated: Some(Timestamp::from_nanos(2)),
                next_upload: None
            })
        );
        // One key with more uploads than the page holds stays split.
        let only_b = sorted(vec![
            upload("b", 1, "x"),
            upload("b", 2, "y"),
            upload("b", 3, "z"),
        ]);
        let fetched = paginate(
            &only_b,
            &ListUploads {
                max: 3,
                ..q.clone()
            },
        )
        .unwrap_or_default();
        assert_eq!(keys(&end_at_key_boundary(fetched, 2)), ["b#x", "b#y"]);
        // A short page is left alone.
        let short = paginate(&only_b, &ListUploads { max: 9, ..q }).unwrap_or_default();
        assert_eq!(end_at_key_boundary(short.clone(), 8), short);
    }

    fn arb_uploads() -> impl Strategy<Value = Vec<Upload>> {
        let key = prop::collection::vec(prop::sample::select(vec!["a", "b", "/", "é", "-"]), 0..5)
            .prop_map(|parts| parts.concat());
        prop::collection::vec((key, 0i64..4), 0..40).prop_map(|v| {
            sorted(
                v.into_iter()
                    .enumerate()
                    .map(|(i, (k, t))| upload(&k, t, &format!("id{i:03}")))
                    .collect(),
            )
        })
    }

    proptest! {
        /// Following `next` page after page gives the one-page listing: same entries, same
        /// order, no duplicate, no gap, and it ends.
        #[test]
        fn pages_concatenate_to_the_full_listing(
            uploads in arb_uploads(),
            max in 1u16..6,
            prefix in prop::sample::select(vec!["", "a", "a/", "b/", "é"]),
            delimiter in prop::sample::select(vec![None, Some("/"), Some("-"), Some("b")]),
        ) {
            let base = ListUploads {
                prefix: prefix.into(),
                delimiter: delimiter.map(Into::into),
                ..ListUploads::bucket("b")
            };
            let full = paginate(&uploads, &base).unwrap_or_default();
            prop_assert!(!full.truncated);
            let mut got = Vec::new();
            let mut after = None;
            for _ in 0..=uploads.len() + 1 {
                let page = paginate(&uploads, &ListUploads { after: after.clone(), max, ..base.clone() })
                    .unwrap_or_default();
                prop_assert!(page.entries.len() <= usize::from(max));
                got.extend(page.entries.clone());
                if !page.truncated { break; }
                prop_assert!(page.next.is_some());
                after = page.next;
            }
                        prop_assert_eq!(got, full.entries);
        }

        /// The BOS SDKs resume with the last key alone. With pages that end at key
        /// boundaries, that loses nothing as long as no key has more uploads than a page.
        #[test]
        fn key_marker_only_iteration_is_complete_with_whole_keys(
            uploads in arb_uploads(),
            max in 4u16..8,
            delimiter in prop::sample::select(vec![None, Some("/")]),
        ) {
            let mut per_key = std::collections::HashMap::new();
            for u in &uploads { *per_key.entry(u.key.clone()).or_insert(0u16) += 1; }
            prop_assume!(per_key.values().all(|&n| n <= max));
            let base = ListUploads { delimiter: delimiter.map(Into::into), ..ListUploads::bucket("b") };
            let full = paginate(&uploads, &base).unwrap_or_default();
            let mut got = Vec::new();
            let mut marker: Option<String> = None;
            for _ in 0..=uploads.len() + 1 {
                let q = ListUploads { after: marker.clone().map(Cursor::Key), max: max + 1, ..base.clone() };
                let page = end_at_key_boundary(paginate(&uploads, &q).unwrap_or_default(), max);
                got.extend(page.entries.clone());
                if !page.truncated { break; }
                marker = page.entries.last().map(|e| e.key().to_owned());
            }
            prop_assert_eq!(got, full.entries);
        }
    }
}
