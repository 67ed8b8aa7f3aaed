//! Reading a Qumulo cluster's upload listing with a pull reader ([`dragoman_wire::json`]),
//! straight into canonical uploads: times are parsed from the body without a copy, the
//! initiator is allocated once per page, and fields the page does not need are skipped unread.
//!
//! (serde_json's derive reader took 600 µs per 1000-upload page, most of it per-field
//! dispatch: `cargo bench -p dragoman-dialect-qumulo -- qumulo/parse_1000`.)

use std::sync::Arc;

use dragoman_model::{
    Error, Identity, PageIdentities, Timestamp, Upload, UploadState, page_capacity,
};
use dragoman_wire::json::{JsonError, JsonReader, Kind, LastValue};

use crate::client::{QumuloPage, after_of, bad};

/// The shortest upload this reader accepts: its three required fields, empty where they can be.
const MIN_UPLOAD_BYTES: usize = r#"{"id":"","key":"","initiated":"2026-01-02T03:04:05Z"}"#.len();

fn not_json(e: JsonError) -> Error {
    bad(format!("Qumulo listing is not the documented JSON: {e}"))
}

/// A block count: the docs type it as a decimal string; a number, or `null`, is accepted too.
fn count(r: &mut JsonReader<'_>, what: &str) -> Result<Option<u64>, Error> {
    if let Some(n) = r.digit_string() {
        return Ok(Some(n));
    }
    // The digits are parsed where they are read, in each arm: moving the borrowed string out
    // through `?` first had the compiler write it to the stack in halves and read it back
    // whole, a stalled load that was a tenth of a page's time (`perf annotate`).
    let parsed = match r.kind().map_err(not_json)? {
        Kind::Null => {
            r.null().map_err(not_json)?;
            return Ok(None);
        }
        Kind::String => match r.string() {
            Ok(digits) => digits.parse().map_err(|_| digits.into_owned()),
            Err(e) => return Err(not_json(e)),
        },
        Kind::Number => match r.number() {
            Ok(digits) => digits.parse().map_err(|_| digits.to_owned()),
            Err(e) => return Err(not_json(e)),
        },
        _ => {
            return Err(bad(format!(
                "Qumulo listing has a {what} that is not a count"
            )));
        }
    };
    parsed.map(Some).map_err(|digits| {
        bad(format!(
            "Qumulo listing has {what} {digits:?}, not a block count"
        ))
    })
}

/// Reads one page: `{"uploads": [...], "paging": {"next": uri-or-null}}`. Both are required, as
/// the API documents them; any other field is skipped.
pub fn parse_page(body: &[u8]) -> Result<QumuloPage, Error> {
    let text_body =
        dragoman_wire::page_text(body).ok_or_else(|| bad("Qumulo listing is not UTF-8"))?;
    let mut r = JsonReader::new(text_body);
    let mut uploads = None;
    let mut next = None;
    let mut identities = PageIdentities::default();
    let mut last_initiator = LastValue::default();
    r.begin_object().map_err(not_json)?;
    while let Some(field) = r.next_key().map_err(not_json)? {
        match field.as_ref() {
            "uploads" => {
                let mut list = Vec::with_capacity(page_capacity(body.len(), MIN_UPLOAD_BYTES));
                r.begin_array().map_err(not_json)?;
                while r.next_item().map_err(not_json)? {
                    list.push(read_upload(&mut r, &mut identities, &mut last_initiator)?);
                }
                uploads = Some(list);
            }
            "paging" => {
                let mut link = None;
                r.begin_object().map_err(not_json)?;
                while let Some(f) = r.next_key().map_err(not_json)? {
                    match f.as_ref() {
                        "next" => link = r.string_or_null().map_err(not_json)?,
                        _ => r.skip().map_err(not_json)?,
                    }
                }
                next = Some(link);
            }
            _ => r.skip().map_err(not_json)?,
        }
    }
    r.finish().map_err(not_json)?;
    let uploads = uploads.ok_or_else(|| bad("Qumulo listing has no uploads"))?;
    let next = next.ok_or_else(|| bad("Qumulo listing has no paging"))?;
    // `null` ends the listing; so does `""`, which the SDK's generic iterator also accepts.
    let next_after = next.as_deref().filter(|n| !n.is_empty()).and_then(after_of);
    Ok(QumuloPage {
        uploads,
        next_after,
    })
}

/// An upload's fields, in the order the API documents them (`api_upload_description_list_model`)
/// and a cluster writes them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Key,
    Bucket,
    Initiator,
    Initiated,
    LastModified,
    TotalBlocks,
    Datablocks,
    Metablocks,
    Completing,
    SystemInitiated,
    Other,
}

impl Field {
    fn named(name: &str) -> Self {
        match name {
            "id" => Self::Id,
            "key" => Self::Key,
            "bucket" => Self::Bucket,
            "initiator" => Self::Initiator,
            "initiated" => Self::Initiated,
            "last_modified" => Self::LastModified,
            "total_blocks" => Self::TotalBlocks,
            "datablocks" => Self::Datablocks,
            "metablocks" => Self::Metablocks,
            "completing" => Self::Completing,
            "system_initiated" => Self::SystemInitiated,
            _ => Self::Other,
        }
    }

    /// The upload's next field, `None` at its end. The key a cluster writes after `after` is
    /// tried first, as a constant: most of a page's keys are taken that way, and any other
    /// order, spacing or spelling is read as it comes.
    #[inline(always)]
    fn next(r: &mut JsonReader<'_>, after: Option<Self>) -> Result<Option<Self>, Error> {
        // One call per arm, so that each compares against a constant of known length.
        let guessed = match after {
            None => r.next_key_is(br#""id""#).then_some(Self::Id),
            Some(Self::Id) => r.next_key_is(br#""key""#).then_some(Self::Key),
            Some(Self::Key) => r.next_key_is(br#""bucket""#).then_some(Self::Bucket),
            Some(Self::Bucket) => r.next_key_is(br#""initiator""#).then_some(Self::Initiator),
            Some(Self::Initiator) => r.next_key_is(br#""initiated""#).then_some(Self::Initiated),
            Some(Self::Initiated) => r
                .next_key_is(br#""last_modified""#)
                .then_some(Self::LastModified),
            Some(Self::LastModified) => r
                .next_key_is(br#""total_blocks""#)
                .then_some(Self::TotalBlocks),
            Some(Self::TotalBlocks) => r
                .next_key_is(br#""datablocks""#)
                .then_some(Self::Datablocks),
            Some(Self::Datablocks) => r
                .next_key_is(br#""metablocks""#)
                .then_some(Self::Metablocks),
            Some(Self::Metablocks) => r
                .next_key_is(br#""completing""#)
                .then_some(Self::Completing),
            Some(Self::Completing) => r
                .next_key_is(br#""system_initiated""#)
                .then_some(Self::SystemInitiated),
            Some(Self::SystemInitiated | Self::Other) => None,
        };
        if guessed.is_some() {
            return Ok(guessed);
        }
        Ok(r.next_key().map_err(not_json)?.map(|k| Self::named(&k)))
    }
}

/// A page's uploads mostly share one initiator, and one whose text repeats the last is that
/// identity again.
type LastInitiator<'a> = LastValue<'a, Option<Arc<Identity>>>;

fn read_upload<'a>(
    r: &mut JsonReader<'a>,
    identities: &mut PageIdentities,
    last_initiator: &mut LastInitiator<'a>,
) -> Result<Upload, Error> {
    let (mut id, mut key, mut initiated, mut last_modified) = (None, None, None, None);
    let mut initiator = None;
    let mut state = UploadState::default();
    r.begin_object().map_err(not_json)?;
    let mut field = None;
    while let Some(f) = Field::next(r, field)? {
        field = Some(f);
        match f {
            Field::Id => id = Some(r.string().map_err(not_json)?.into_owned()),
            Field::Key => key = Some(r.string().map_err(not_json)?.into_owned()),
            Field::Initiated => initiated = Some(r.string().map_err(not_json)?),
            Field::LastModified => last_modified = r.string_or_null().map_err(not_json)?,
            Field::TotalBlocks => state.total_blocks = count(r, "total_blocks")?,
            Field::Datablocks => state.datablocks = count(r, "datablocks")?,
            Field::Metablocks => state.metablocks = count(r, "metablocks")?,
            Field::Completing => state.completing = r.bool_or_null().map_err(not_json)?,
            Field::SystemInitiated => {
                state.system_initiated = r.bool_or_null().map_err(not_json)?
            }
            Field::Initiator => {
                initiator = last_initiator.read(r, |r| read_initiator(r, identities))?
            }
            Field::Bucket | Field::Other => r.skip().map_err(not_json)?,
        }
    }
    let id = id.ok_or_else(|| bad("Qumulo listing has an upload without an id"))?;
    let key = key.ok_or_else(|| bad(format!("Qumulo upload {id} has no key")))?;
    let time = |s: &str, what: &str| {
        Timestamp::parse_rfc3339(s)
            .ok_or_else(|| bad(format!("Qumulo upload {id} has {what} {s:?}")))
    };
    let initiated = time(initiated.as_deref().unwrap_or_default(), "initiated")?;
    state.last_modified = last_modified
        .as_deref()
        .map(|s| time(s, "last_modified"))
        .transpose()?;
    Ok(Upload {
        key,
        upload_id: id,
        initiated,
        initiator,
        owner: None,
        storage_class: None,
        checksum_algorithm: None,
        checksum_type: None,
        state,
    })
}

/// An `api_identity` or `null`. Qumulo's "unknown" identity (every key null) is an unknown
/// initiator, not an empty one: `share` gives `None` for it.
fn read_initiator(
    r: &mut JsonReader<'_>,
    identities: &mut PageIdentities,
) -> Result<Option<Arc<Identity>>, Error> {
    if r.null().map_err(not_json)? {
        return Ok(None);
    }
    let (mut auth_id, mut name) = (None, None);
    r.begin_object().map_err(not_json)?;
    while let Some(f) = r.next_key().map_err(not_json)? {
        match f.as_ref() {
            "auth_id" => auth_id = r.string_or_null().map_err(not_json)?,
            "name" => name = r.string_or_null().map_err(not_json)?,
            _ => r.skip().map_err(not_json)?,
        }
    }
    Ok(identities.share(auth_id.as_deref(), name.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Whatever dragoman's Qumulo encoder writes, this reader reads back: keys with
        /// quotes, backslashes, control characters and non-ASCII, nanosecond times, counts,
        /// flags, and an initiator with or without Qumulo's numeric id.
        #[test]
        fn reads_back_what_the_encoder_writes(
            uploads in proptest::collection::vec(
                (
                    "[a-zA-Z0-9/\"\\\\\t é中😀._-]{1,30}",
                    "[0-9a-f]{16}",
                    0i64..4_102_444_800_000_000_000,
                    proptest::option::of(0i64..4_102_444_800_000_000_000),
                    proptest::option::of((0u64..u64::MAX, 0u64..1 << 40, 0u64..100)),
                    // Few identities, so that a page repeats one and then changes it.
                    proptest::option::of((
                        proptest::option::of(proptest::prop_oneof![0u64..3, 0u64..u64::MAX]),
                        proptest::prop_oneof!["[Ab\"]{0,2}", "[A-Za-z \"]{0,12}"],
                    )),
                    (proptest::option::of(proptest::bool::ANY), proptest::option::of(proptest::bool::ANY)),
                ),
                0..20,
            ),
        ) {
            let uploads: Vec<Upload> = uploads
                .into_iter()
                .map(|(key, id, initiated, modified, blocks, who, (completing, system))| Upload {
                    key,
                    upload_id: id,
                    initiated: Timestamp::from_nanos(initiated),
                    initiator: who.map(|(auth_id, name)| {
                        std::sync::Arc::new(dragoman_model::Identity {
                            id: auth_id.map(|i| i.to_string().into()),
                            display_name: Some(name.into()),
                        })
                    }),
                    owner: None,
                    storage_class: None,
                    checksum_algorithm: None,
                    checksum_type: None,
                    state: UploadState {
                        last_modified: modified.map(Timestamp::from_nanos),
                        total_blocks: blocks.map(|b| b.0),
                        datablocks: blocks.map(|b| b.1),
                        metablocks: blocks.map(|b| b.2),
                        completing,
                        system_initiated: system,
                    },
                })
                .collect();
            let page = dragoman_model::UploadsPage::from_entries(
                uploads.iter().cloned().map(dragoman_model::Entry::Upload).collect(),
                false,
            );
            let config = crate::QumuloConfig::default();
            let body = crate::list_uploads_json(&config, &dragoman_model::ListUploads::bucket("b"), &page);
            let read = parse_page(&body).unwrap_or_else(|e| panic!("{e}"));
            proptest::prop_assert_eq!(&read.uploads, &uploads);
            // The same page as another writer might spell it: keys sorted, not in the
            // documented order the reader guesses, and pretty-printed.
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let respelled = serde_json::to_vec_pretty(&value).unwrap_or_default();
            let read = parse_page(&respelled).unwrap_or_else(|e| panic!("{e}"));
            proptest::prop_assert_eq!(read.uploads, uploads);
        }
    }

    #[test]
    fn a_page_that_is_not_utf8_is_a_bad_answer() {
        let mut page = br#"{"uploads":[{"id":"u","key":"k","initiated":"2026-01-02T03:04:05Z"}],"paging":{"next":null}}"#
            .to_vec();
        assert!(parse_page(&page).is_ok());
        page[19] = 0xff; // the id's one character
        let err = parse_page(&page)
            .err()
            .map(|e| format!("{e:?}"))
            .unwrap_or_default();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn the_shortest_upload_is_read_and_a_page_of_them_fits_its_reservation() {
        let shortest = r#"{"id":"","key":"","initiated":"2026-01-02T03:04:05Z"}"#;
        assert_eq!(shortest.len(), MIN_UPLOAD_BYTES);
        let body = format!(
            r#"{{"uploads":[{}],"paging":{{"next":null}}}}"#,
            [shortest; 7].join(",")
        );
        let p = parse_page(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.uploads.len(), 7);
        assert!(p.uploads.capacity() >= 7 && p.uploads.capacity() < 10);
    }
}
