//! Reading a BOS backend's ListMultipartUploads answer with a pull reader
//! ([`dragoman_wire::json`]), straight into canonical entries: strings without escapes are
//! borrowed until they become a field, the owner, which repeats on every upload of a page, is
//! allocated once per page, and fields the page does not need are skipped unread.
//!
//! (serde_json's derive reader took 370 µs per 1000-upload page, most of it per-field dispatch:
//! `cargo bench -p dragoman-dialect-bos -- bos/parse_1000`.)

use std::borrow::Cow;
use std::sync::Arc;

use dragoman_model::{
    Entry, Error, Identity, PageIdentities, StorageClass, Timestamp, Upload, interleave,
    page_capacity,
};
use dragoman_wire::MarkerPage;
use dragoman_wire::json::{JsonError, JsonReader, LastValue};

use crate::client::bad;

/// The shortest upload this reader accepts: its three required fields, empty where they can be.
const MIN_UPLOAD_BYTES: usize =
    r#"{"key":"","uploadId":"","initiated":"2026-01-02T03:04:05Z"}"#.len();

fn not_json(e: JsonError) -> Error {
    bad(format!("BOS listing is not the documented JSON: {e}"))
}

/// Reads a listing body: `{"isTruncated", "nextKeyMarker", "nextUploadIdMarker" (or the
/// documentation example's "nextUploadMarker"), "commonPrefixes": [{"prefix"}],
/// "uploads": [{"key", "uploadId", "owner": {"id", "displayName"}, "initiated",
/// "storageClass"}]}`; any other field is skipped.
pub fn parse_list(body: &[u8]) -> Result<MarkerPage, Error> {
    let text_body =
        dragoman_wire::page_text(body).ok_or_else(|| bad("BOS listing is not UTF-8"))?;
    let mut r = JsonReader::new(text_body);
    let mut page = MarkerPage::default();
    let mut upload_marker = None;
    let mut alternative_marker = None;
    let mut uploads = Vec::new();
    let mut prefixes = Vec::new();
    let mut identities = PageIdentities::default();
    let mut last_owner = LastValue::default();
    r.begin_object().map_err(not_json)?;
    while let Some(field) = r.next_key().map_err(not_json)? {
        match field.as_ref() {
            "isTruncated" => {
                page.truncated = !r.null().map_err(not_json)? && r.bool().map_err(not_json)?
            }
            "nextKeyMarker" => {
                page.next_key_marker = r.string_or_null().map_err(not_json)?.map(Cow::into_owned)
            }
            "nextUploadIdMarker" => upload_marker = r.string_or_null().map_err(not_json)?,
            "nextUploadMarker" => alternative_marker = r.string_or_null().map_err(not_json)?,
            // A guard that reads `null` consumes it; the arm below then has nothing to do.
            "uploads" if !r.null().map_err(not_json)? => {
                uploads.reserve(page_capacity(body.len(), MIN_UPLOAD_BYTES));
                r.begin_array().map_err(not_json)?;
                while r.next_item().map_err(not_json)? {
                    uploads.push(read_upload(&mut r, &mut identities, &mut last_owner)?);
                }
            }
            "commonPrefixes" if !r.null().map_err(not_json)? => {
                r.begin_array().map_err(not_json)?;
                while r.next_item().map_err(not_json)? {
                    prefixes.push(read_prefix(&mut r)?);
                }
            }
            "uploads" | "commonPrefixes" => {}
            _ => r.skip().map_err(not_json)?,
        }
    }
    r.finish().map_err(not_json)?;
    page.entries = interleave(uploads, prefixes);
    page.next_key_marker = page.next_key_marker.filter(|m| !m.is_empty());
    page.next_upload_id_marker = upload_marker
        .or(alternative_marker)
        .filter(|m| !m.is_empty())
        .map(Cow::into_owned);
    Ok(page)
}

fn read_prefix(r: &mut JsonReader<'_>) -> Result<Entry, Error> {
    let mut prefix = None;
    r.begin_object().map_err(not_json)?;
    while let Some(field) = r.next_key().map_err(not_json)? {
        match field.as_ref() {
            "prefix" => prefix = Some(r.string().map_err(not_json)?.into_owned()),
            _ => r.skip().map_err(not_json)?,
        }
    }
    prefix
        .map(Entry::Prefix)
        .ok_or_else(|| bad("BOS listing has a common prefix without its prefix"))
}

/// An upload's fields, in the order BOS documents and writes them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Key,
    UploadId,
    Owner,
    Initiated,
    StorageClass,
    Other,
}

impl Field {
    fn named(name: &str) -> Self {
        match name {
            "key" => Self::Key,
            "uploadId" => Self::UploadId,
            "owner" => Self::Owner,
            "initiated" => Self::Initiated,
            "storageClass" => Self::StorageClass,
            _ => Self::Other,
        }
    }

    /// The upload's next field, `None` at its end; the key BOS writes after `after` is tried
    /// first, as a constant, and anything else is read as it comes.
    #[inline(always)]
    fn next(r: &mut JsonReader<'_>, after: Option<Self>) -> Result<Option<Self>, Error> {
        // One call per arm, so that each compares against a constant of known length.
        let guessed = match after {
            None => r.next_key_is(br#""key""#).then_some(Self::Key),
            Some(Self::Key) => r.next_key_is(br#""uploadId""#).then_some(Self::UploadId),
            Some(Self::UploadId) => r.next_key_is(br#""owner""#).then_some(Self::Owner),
            Some(Self::Owner) => r.next_key_is(br#""initiated""#).then_some(Self::Initiated),
            Some(Self::Initiated) => r
                .next_key_is(br#""storageClass""#)
                .then_some(Self::StorageClass),
            Some(Self::StorageClass | Self::Other) => None,
        };
        if guessed.is_some() {
            return Ok(guessed);
        }
        Ok(r.next_key().map_err(not_json)?.map(|k| Self::named(&k)))
    }
}

/// Every upload of a page usually names the same owner, and one whose text repeats the last
/// is that identity again.
type LastOwner<'a> = LastValue<'a, Option<Arc<Identity>>>;

fn read_upload<'a>(
    r: &mut JsonReader<'a>,
    identities: &mut PageIdentities,
    last_owner: &mut LastOwner<'a>,
) -> Result<Entry, Error> {
    let (mut key, mut upload_id, mut initiated, mut storage_class) = (None, None, None, None);
    let mut owner = None;
    r.begin_object().map_err(not_json)?;
    let mut field = None;
    while let Some(f) = Field::next(r, field)? {
        field = Some(f);
        match f {
            Field::Key => key = Some(r.string().map_err(not_json)?.into_owned()),
            Field::UploadId => upload_id = Some(r.string().map_err(not_json)?.into_owned()),
            Field::Initiated => initiated = Some(r.string().map_err(not_json)?),
            Field::StorageClass => storage_class = r.string_or_null().map_err(not_json)?,
            Field::Owner => owner = last_owner.read(r, |r| read_owner(r, identities))?,
            Field::Other => r.skip().map_err(not_json)?,
        }
    }
    let upload_id =
        upload_id.ok_or_else(|| bad("BOS listing has an upload without an uploadId"))?;
    let key = key.ok_or_else(|| bad(format!("BOS upload {upload_id} has no key")))?;
    let initiated = initiated.unwrap_or_default();
    let initiated = Timestamp::parse_rfc3339(&initiated).ok_or_else(|| {
        bad(format!(
            "BOS upload {upload_id} has initiated {initiated:?}"
        ))
    })?;
    Ok(Entry::Upload(Upload {
        key,
        upload_id,
        initiated,
        // BOS names an owner only; the initiator stays unknown rather than invented.
        initiator: None,
        owner,
        storage_class: storage_class.as_deref().map(StorageClass::from_bos),
        checksum_algorithm: None,
        checksum_type: None,
        state: Default::default(),
    }))
}

/// `{"id", "displayName"}` or `null`.
fn read_owner(
    r: &mut JsonReader<'_>,
    identities: &mut PageIdentities,
) -> Result<Option<Arc<Identity>>, Error> {
    if r.null().map_err(not_json)? {
        return Ok(None);
    }
    let (mut id, mut name) = (None, None);
    r.begin_object().map_err(not_json)?;
    while let Some(f) = r.next_key().map_err(not_json)? {
        match f.as_ref() {
            "id" => id = r.string_or_null().map_err(not_json)?,
            "displayName" => name = r.string_or_null().map_err(not_json)?,
            _ => r.skip().map_err(not_json)?,
        }
    }
    Ok(identities.share(id.as_deref(), name.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Whatever dragoman's BOS encoder writes, this reader reads back: keys with quotes,
        /// backslashes, control characters and non-ASCII, times to the second BOS carries,
        /// owners, storage classes and common prefixes, in the same order.
        #[test]
        fn reads_back_what_the_encoder_writes(
            keys in proptest::collection::btree_set("[a-zA-Z0-9/\"\\\\\t é中😀._-]{0,29}[a-z]", 0..20),
            // Few owners, some with names a prefix of another's, so that uploads repeat the
            // last owner, change it, and sometimes name none.
            owners in proptest::collection::vec(("[a-f0-9]{1,48}", proptest::prop_oneof!["[Ab\"]{0,2}", "[A-Za-z \"]{0,12}"]), 1..3),
            picks in proptest::collection::vec(0usize..4, 20),
            seconds in proptest::collection::vec(0i64..4_102_444_800, 20),
            // Keys end in a letter, so a prefix ending in `/` is never an upload's key.
            prefixes in proptest::collection::btree_set("[a-z\"é]{1,8}/", 0..4),
        ) {
            let owners: Vec<_> = owners
                .iter()
                .map(|(id, name)| dragoman_model::Identity::shared(id.as_str(), name.as_str()))
                .collect();
            let uploads = keys
                .into_iter()
                .zip(seconds)
                .zip(picks)
                .enumerate()
                .map(|(i, ((key, secs), pick))| {
                    Entry::Upload(Upload {
                        upload_id: format!("{i:08x}-{secs}"),
                        key,
                        initiated: Timestamp::from_secs(secs),
                        owner: owners.get(pick).cloned(),
                        initiator: None,
                        storage_class: Some(StorageClass::from_bos(
                            ["STANDARD", "COLD", "ARCHIVE"][i % 3],
                        )),
                        checksum_algorithm: None,
                        checksum_type: None,
                        state: Default::default(),
                    })
                })
                .collect();
            let entries = interleave(uploads, prefixes.into_iter().map(Entry::Prefix).collect());
            let q = dragoman_model::ListUploads {
                delimiter: Some("/".into()),
                ..dragoman_model::ListUploads::bucket("b")
            };
            let page = dragoman_model::UploadsPage::from_entries(entries.clone(), false);
            let body = crate::list_uploads_json(&q, &page);
            let read = parse_list(&body).unwrap_or_else(|e| panic!("{e}"));
            proptest::prop_assert_eq!(&read.entries, &entries);
            // The same page as another writer might spell it: keys sorted, not in the
            // documented order the reader guesses, and pretty-printed.
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let respelled = serde_json::to_vec_pretty(&value).unwrap_or_default();
            let read = parse_list(&respelled).unwrap_or_else(|e| panic!("{e}"));
            proptest::prop_assert_eq!(read.entries, entries);
        }
    }

    #[test]
    fn a_page_that_is_not_utf8_is_a_bad_answer() {
        let mut page =
            br#"{"uploads":[{"key":"k","uploadId":"u","initiated":"2026-01-02T03:04:05Z"}]}"#
                .to_vec();
        assert!(parse_list(&page).is_ok());
        page[20] = 0xff; // the key's one character
        let err = parse_list(&page)
            .err()
            .map(|e| format!("{e:?}"))
            .unwrap_or_default();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn the_shortest_upload_is_read_and_a_page_of_them_fits_its_reservation() {
        let shortest = r#"{"key":"","uploadId":"","initiated":"2026-01-02T03:04:05Z"}"#;
        assert_eq!(shortest.len(), MIN_UPLOAD_BYTES);
        let body = format!(r#"{{"uploads":[{}]}}"#, [shortest; 7].join(","));
        let p = parse_list(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.entries.len(), 7);
        assert!(p.entries.capacity() >= 7 && p.entries.capacity() < 10);
    }
}
