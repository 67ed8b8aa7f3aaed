//! S3 XML responses.
//!
//! Written by hand into one pre-sized `String` rather than through a serializer: the element
//! order and presence rules are AWS's (see spec/s3.md §1.2), and a 1000-upload page is the hot
//! path of the product.

use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use dragoman_model::{
    Error, Identity, ListUploads, Operation, Outcome, RequestMeta, Upload, UploadsPage,
};
use http::{HeaderName, HeaderValue, Response, StatusCode, header};

use crate::encode_error;
use crate::encoding::url_encode_into;

pub(crate) const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
pub(crate) const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// `<name>value</name>`, the value escaped. Inlined, so that at each call the name is a
/// constant and its copies are not calls.
#[inline(always)]
pub(crate) fn text(out: &mut String, name: &str, value: &str) {
    out.reserve(2 * name.len() + 5 + value.len());
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, value);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Appends `value` as XML text: as it is when [`plain`] says so, as nearly every value is,
/// else with what XML 1.0 cannot carry percent-encoded and `<`, `>` and `&` escaped.
#[inline]
pub(crate) fn escape_into(out: &mut String, value: &str) {
    if plain(value.as_bytes()) {
        out.push_str(value);
    } else {
        escape_marked(out, value);
    }
}

/// Whether no byte of `b` needs a look: `<`, `>`, `&`, a control character (tab, newline
/// and carriage return too, which the careful path keeps), or 0xEF, which U+FFFE and U+FFFF
/// start with. Eight bytes at a time without a branch, the tail padded with a plain byte.
/// By hand: a pass to find characters XML cannot carry and a `memchr3` for the three
/// escapes were a fifth of a 1000-upload page's render, most of it the setup of both for
/// values of 10 to 40 bytes (`callgrind` on `cargo bench -p dragoman-dialect-s3 -- render`).
#[inline]
fn plain(b: &[u8]) -> bool {
    use dragoman_wire::swar::{below, equal, unmarked};
    unmarked(b, b'a', |x| {
        equal(x, b'<') | equal(x, b'>') | equal(x, b'&') | equal(x, 0xEF) | below(x, 0x20)
    })
}

/// [`escape_into`] for a value with a byte [`plain`] marked.
#[cold]
#[inline(never)]
fn escape_marked(out: &mut String, value: &str) {
    let value = xml_chars(value);
    let mut rest: &str = &value;
    while let Some(i) = memchr::memchr3(b'<', b'>', b'&', rest.as_bytes()) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&amp;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// The value with every character XML 1.0 cannot carry percent-encoded, as
/// `encoding-type=url` would write it, so that a key a backend returned can never make the
/// document ill-formed. dragoman refuses such keys when uploads are created; this is for keys
/// that came from elsewhere.
fn xml_chars(value: &str) -> std::borrow::Cow<'_, str> {
    // One branch-free pass over the bytes (it vectorizes): control characters, and the lead
    // byte 0xEF that U+FFFE and U+FFFF (EF BF BE, EF BF BF) start with. Searching for those two
    // characters with `str::contains` decoded every value char by char: 40 % of this
    // function in a profile of a 1000-upload page.
    let (control, ef) = value.bytes().fold((false, false), |(c, e), b| {
        (
            c | (b < b' ' && b != b'\t' && b != b'\n' && b != b'\r'),
            e | (b == 0xEF),
        )
    });
    let clean = !(control || (ef && value.contains(['\u{FFFE}', '\u{FFFF}'])));
    if clean {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if dragoman_wire::xml_char(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

// Names and constant values made once: a `&str` given to the builder is parsed and copied
// into a fresh allocation on every answer.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-amz-request-id");
const ID_2: HeaderName = HeaderName::from_static("x-amz-id-2");
const SERVER: HeaderValue = HeaderValue::from_static("dragoman");
const XML: HeaderValue = HeaderValue::from_static("application/xml");

/// Response headers every S3 answer carries.
pub(crate) fn builder(status: StatusCode, meta: &RequestMeta) -> http::response::Builder {
    Response::builder()
        .status(status)
        .header(REQUEST_ID, meta.request_id.as_str())
        .header(ID_2, meta.debug_id.as_str())
        .header(header::SERVER, SERVER)
}

pub(crate) fn xml_response(
    status: StatusCode,
    meta: &RequestMeta,
    body: String,
) -> Response<Bytes> {
    builder(status, meta)
        .header(header::CONTENT_TYPE, XML)
        .body(Bytes::from(body))
        .unwrap_or_else(|_| dragoman_dialect::unbuildable())
}

fn empty(status: StatusCode, meta: &RequestMeta) -> Response<Bytes> {
    builder(status, meta)
        .body(Bytes::new())
        .unwrap_or_else(|_| dragoman_dialect::unbuildable())
}

fn identity(out: &mut String, name: &str, who: Option<&Identity>) {
    let Some(who) = who else { return };
    out.push('<');
    out.push_str(name);
    out.push('>');
    if let Some(id) = &who.id {
        text(out, "ID", id);
    }
    if let Some(dn) = &who.display_name {
        text(out, "DisplayName", dn);
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// An identity written on this page, and where: the next upload naming the same one (the
/// same `Arc`, as the readers and the store share them) copies those bytes rather than
/// escaping its names again. Owners and initiators were a fifth of a page's render. Kept as
/// an address, which costs no reference count: the page outlives the render, so an address
/// names one identity throughout.
type Written = Option<(*const Identity, Range<usize>)>;

fn shared_identity(out: &mut String, name: &str, who: Option<&Arc<Identity>>, last: &mut Written) {
    let Some(who) = who else { return };
    if let Some((known, at)) = last
        && std::ptr::eq(*known, Arc::as_ptr(who))
    {
        out.extend_from_within(at.clone());
        return;
    }
    let start = out.len();
    identity(out, name, Some(who));
    *last = Some((Arc::as_ptr(who), start..out.len()));
}

/// A key, prefix or delimiter as text: URL-encoded when the caller asked for `EncodingType=url`
/// (which never needs XML escaping), escaped otherwise; written in place either way.
fn key_text(out: &mut String, name: &str, value: &str, encode: bool) {
    if encode {
        out.push('<');
        out.push_str(name);
        out.push('>');
        url_encode_into(out, value);
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    } else {
        text(out, name, value);
    }
}

fn upload(out: &mut String, u: &Upload, encode_key: bool, [owner, initiator]: &mut [Written; 2]) {
    out.push_str("<Upload>");
    key_text(out, "Key", &u.key, encode_key);
    text(out, "UploadId", &u.upload_id);
    shared_identity(out, "Initiator", u.initiator.as_ref(), initiator);
    shared_identity(out, "Owner", u.owner.as_ref(), owner);
    if let Some(sc) = &u.storage_class {
        text(out, "StorageClass", sc.to_s3());
    }
    out.push_str("<Initiated>");
    u.initiated.write_rfc3339(out, 3);
    out.push_str("</Initiated>");
    if let Some(a) = &u.checksum_algorithm {
        text(out, "ChecksumAlgorithm", a);
    }
    if let Some(t) = &u.checksum_type {
        text(out, "ChecksumType", t);
    }
    out.push_str("</Upload>");
}

/// The `NextKeyMarker`/`NextUploadIdMarker` pair. AWS names the last upload on the page (even
/// on the last page) and leaves both empty when the page ends in a common prefix, which stalls
/// paginators; dragoman names that prefix instead when the listing goes on.
/// The upload-id marker carries the upload's place, so that it resumes correctly even if the
/// upload is aborted before the next page (`dragoman_model::upload_id_marker`).
fn next_markers(page: &UploadsPage) -> (&str, std::borrow::Cow<'_, str>) {
    use dragoman_model::Entry;
    use std::borrow::Cow;
    match page.entries.last() {
        Some(Entry::Prefix(p)) if page.truncated => (p, Cow::Borrowed("")),
        _ => page.uploads().last().map_or(("", Cow::Borrowed("")), |u| {
            (
                &u.key,
                dragoman_model::upload_id_marker(
                    &u.upload_id,
                    Some(u.initiated),
                    page.next_upload(),
                ),
            )
        }),
    }
}

/// Renders a `ListMultipartUploadsResult`.
pub fn list_uploads_xml(q: &ListUploads, page: &UploadsPage) -> String {
    let mut out = String::with_capacity(512 + page.entries.len() * 512);
    out.push_str(DECL);
    out.push_str("<ListMultipartUploadsResult xmlns=\"");
    out.push_str(NS);
    out.push_str("\">");
    text(&mut out, "Bucket", &q.bucket);
    let (key_marker, upload_id_marker) = match &q.after {
        None => ("", std::borrow::Cow::Borrowed("")),
        Some(dragoman_model::Cursor::Upload {
            key,
            upload_id,
            initiated,
            next_upload,
        }) => (
            key.as_str(),
            dragoman_model::upload_id_marker(upload_id, *initiated, next_upload.as_deref()),
        ),
        Some(c) => (c.key(), std::borrow::Cow::Borrowed("")),
    };
    key_text(&mut out, "KeyMarker", key_marker, q.encode_keys);
    text(&mut out, "UploadIdMarker", &upload_id_marker);
    let (next_key, next_id) = next_markers(page);
    key_text(&mut out, "NextKeyMarker", next_key, q.encode_keys);
    if !q.prefix.is_empty() {
        key_text(&mut out, "Prefix", &q.prefix, q.encode_keys);
    }
    if let Some(d) = q.delimiter() {
        key_text(&mut out, "Delimiter", d, q.encode_keys);
    }
    text(&mut out, "NextUploadIdMarker", &next_id);
    out.push_str("<MaxUploads>");
    let _ = write!(out, "{}", q.max);
    out.push_str("</MaxUploads>");
    text(
        &mut out,
        "IsTruncated",
        if page.truncated { "true" } else { "false" },
    );
    let mut written = [None, None];
    for u in page.uploads() {
        upload(&mut out, u, q.encode_keys, &mut written);
    }
    for p in page.prefixes() {
        out.push_str("<CommonPrefixes>");
        key_text(&mut out, "Prefix", p, q.encode_keys);
        out.push_str("</CommonPrefixes>");
    }
    if q.encode_keys {
        text(&mut out, "EncodingType", "url");
    }
    out.push_str("</ListMultipartUploadsResult>");
    out
}

fn buckets_xml(buckets: &[dragoman_model::Bucket]) -> String {
    let mut out = String::with_capacity(256 + buckets.len() * 128);
    out.push_str(DECL);
    out.push_str("<ListAllMyBucketsResult xmlns=\"");
    out.push_str(NS);
    out.push_str("\"><Buckets>");
    for b in buckets {
        out.push_str("<Bucket>");
        text(&mut out, "Name", &b.name);
        text(&mut out, "CreationDate", &b.created.to_millis_z());
        out.push_str("</Bucket>");
    }
    out.push_str("</Buckets></ListAllMyBucketsResult>");
    out
}

fn initiate_xml(bucket: &str, u: &Upload) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(DECL);
    out.push_str("<InitiateMultipartUploadResult xmlns=\"");
    out.push_str(NS);
    out.push_str("\">");
    text(&mut out, "Bucket", bucket);
    text(&mut out, "Key", &u.key);
    text(&mut out, "UploadId", &u.upload_id);
    out.push_str("</InitiateMultipartUploadResult>");
    out
}

/// Writes an outcome as the S3 response to `op`.
pub fn encode(op: &Operation, outcome: &Outcome, meta: &RequestMeta) -> Response<Bytes> {
    if let Some((status, location)) = dragoman_wire::bodiless(outcome) {
        let mut r = empty(status, meta);
        if let Some(v) = location.and_then(|l| http::HeaderValue::from_str(&l).ok()) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        return r;
    }
    match (op, outcome) {
        (Operation::ListUploads(q), Outcome::Page(page)) => {
            xml_response(StatusCode::OK, meta, list_uploads_xml(q, page))
        }
        (_, Outcome::Created { bucket, upload }) => {
            xml_response(StatusCode::OK, meta, initiate_xml(bucket, upload))
        }
        (_, Outcome::Buckets(b)) => xml_response(StatusCode::OK, meta, buckets_xml(b)),
        (op, _) => encode_error(
            &Error::internal(format!("{} got an outcome of another operation", op.name())),
            meta,
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragoman_model::{Cursor, Entry, StorageClass, Timestamp};

    proptest::proptest! {
        #[test]
        fn plain_marks_exactly_the_bytes_that_need_a_look(
            b in proptest::collection::vec(proptest::prop_oneof![
                proptest::sample::select(b"<>&\xef\x00\x1f\x20\t\n\r\x7f\xff\xbf".to_vec()),
                proptest::num::u8::ANY,
                b'a'..=b'z',
            ], 0..40),
        ) {
            let expected = !b.iter().any(|&c| matches!(c, b'<' | b'>' | b'&' | 0xEF) || c < 0x20);
            proptest::prop_assert_eq!(plain(&b), expected);
        }

        /// A page whose uploads share identities (as readers and the store give them) is
        /// written as the same page with every identity a separate copy.
        #[test]
        fn shared_identities_are_written_as_copies_would_be(
            picks in proptest::collection::vec((0usize..4, 0usize..4), 0..12),
            names in proptest::collection::vec(("[a<&]{0,3}", "[A&]{0,3}"), 3),
        ) {
            let pool: Vec<_> = names
                .iter()
                .map(|(id, name)| Identity::shared(id.as_str(), name.as_str()))
                .collect();
            let page = |copies: bool| {
                let who = |i: usize| {
                    pool.get(i).map(|w| if copies { std::sync::Arc::new((**w).clone()) } else { w.clone() })
                };
                let entries = picks
                    .iter()
                    .enumerate()
                    .map(|(n, &(o, i))| Entry::Upload(Upload {
                        owner: who(o),
                        initiator: who(i),
                        ..up(&format!("k{n:02}"), "id")
                    }))
                    .collect();
                UploadsPage::from_entries(entries, false)
            };
            let q = ListUploads::bucket("b");
            let body = list_uploads_xml(&q, &page(false));
            proptest::prop_assert_eq!(&body, &list_uploads_xml(&q, &page(true)));
            let read = crate::client::parse_list(body.as_bytes()).map(|p| p.entries);
            proptest::prop_assert_eq!(read.ok(), Some(page(true).entries));
        }

        /// The shortcut writes what the careful path writes, for any value.
        #[test]
        fn escaping_a_value_is_the_careful_paths_escaping(
            value in proptest::prop_oneof![
                proptest::prelude::any::<String>(),
                "[a-z<>&\t\u{1}\u{fffe}\u{ffff}\u{fff0}é中]{0,24}",
            ],
        ) {
            let (mut fast, mut careful) = (String::new(), String::new());
            escape_into(&mut fast, &value);
            escape_marked(&mut careful, &value);
            proptest::prop_assert_eq!(fast, careful);
        }
    }

    fn up(key: &str, id: &str) -> Upload {
        Upload {
            key: key.into(),
            upload_id: id.into(),
            initiated: Timestamp::from_secs(1_767_323_045),
            owner: Some(Identity::shared("o-id", "owner")),
            initiator: Some(Identity::shared("i-id", "alice")),
            storage_class: Some(StorageClass::Standard),
            checksum_algorithm: None,
            checksum_type: None,
            state: Default::default(),
        }
    }

    #[test]
    fn element_order_and_content_follow_aws() {
        let q = ListUploads {
            max: 3,
            ..ListUploads::bucket("mpu-test")
        };
        let page = UploadsPage::from_entries(vec![Entry::Upload(up("a/1", "U1"))], true);
        let xml = list_uploads_xml(&q, &page);
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
<Bucket>mpu-test</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker>a/1</NextKeyMarker>\
<NextUploadIdMarker>U1~t1886caf21c963200</NextUploadIdMarker><MaxUploads>3</MaxUploads><IsTruncated>true</IsTruncated>\
<Upload><Key>a/1</Key><UploadId>U1</UploadId><Initiator><ID>i-id</ID><DisplayName>alice</DisplayName></Initiator>\
<Owner><ID>o-id</ID><DisplayName>owner</DisplayName></Owner><StorageClass>STANDARD</StorageClass>\
<Initiated>2026-01-02T03:04:05.000Z</Initiated></Upload></ListMultipartUploadsResult>"
        );
    }

    #[test]
    fn page_ending_in_a_prefix_names_it_as_next_key_marker() {
        let q = ListUploads {
            delimiter: Some("/".into()),
            max: 2,
            ..ListUploads::bucket("b")
        };
        let page = UploadsPage::from_entries(
            vec![Entry::Upload(up("a", "U1")), Entry::Prefix("b/".into())],
            true,
        );
        let xml = list_uploads_xml(&q, &page);
        assert!(xml.contains("<NextKeyMarker>b/</NextKeyMarker>"), "{xml}");
        assert!(
            xml.contains("<NextUploadIdMarker></NextUploadIdMarker>"),
            "{xml}"
        );
        assert!(xml.contains("<Delimiter>/</Delimiter>"));
        assert!(xml.contains("<CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>"));
        // On the last page AWS names the last upload even after a prefix.
        let last = UploadsPage {
            truncated: false,
            ..page
        };
        let xml = list_uploads_xml(&q, &last);
        assert!(xml.contains("<NextKeyMarker>a</NextKeyMarker>"), "{xml}");
        // U1 is not an id dragoman issued: the marker carries the upload's time, so that it
        // keeps its place if U1 is aborted before the next page.
        assert!(
            xml.contains("<NextUploadIdMarker>U1~t1886caf21c963200</NextUploadIdMarker>"),
            "{xml}"
        );
    }

    #[test]
    fn markers_echo_and_encoding_type() {
        let q = ListUploads {
            prefix: "sp ace/".into(),
            after: Some(Cursor::Upload {
                key: "sp ace/ü".into(),
                upload_id: "U0".into(),
                initiated: None,
                next_upload: None,
            }),
            encode_keys: true,
            ..ListUploads::bucket("b")
        };
        let page = UploadsPage::from_entries(vec![Entry::Upload(up("sp ace/ü<&>", "U1"))], false);
        let xml = list_uploads_xml(&q, &page);
        assert!(
            xml.contains("<KeyMarker>sp+ace/%C3%BC</KeyMarker><UploadIdMarker>U0</UploadIdMarker>"),
            "{xml}"
        );
        assert!(xml.contains("<Key>sp+ace/%C3%BC%3C%26%3E</Key>"), "{xml}");
        assert!(xml.contains("<Prefix>sp+ace/</Prefix>"));
        assert!(xml.ends_with("<EncodingType>url</EncodingType></ListMultipartUploadsResult>"));
        let raw = list_uploads_xml(
            &ListUploads {
                encode_keys: false,
                ..q
            },
            &page,
        );
        assert!(raw.contains("<Key>sp ace/ü&lt;&amp;&gt;</Key>"), "{raw}");
        assert!(!raw.contains("EncodingType"));
    }

    #[test]
    fn escaping_matches_quick_xml() {
        for v in ["", "plain", "a<b>c&d", "&&&", "<", "ü&<>ü", "tail&"] {
            let mut out = String::new();
            escape_into(&mut out, v);
            assert_eq!(out, quick_xml::escape::partial_escape(v), "{v}");
        }
    }

    #[test]
    fn empty_page_has_every_marker_element() {
        let xml = list_uploads_xml(&ListUploads::bucket("b"), &UploadsPage::default());
        for e in [
            "<KeyMarker></KeyMarker>",
            "<UploadIdMarker></UploadIdMarker>",
            "<NextKeyMarker></NextKeyMarker>",
            "<NextUploadIdMarker></NextUploadIdMarker>",
            "<MaxUploads>1000</MaxUploads>",
            "<IsTruncated>false</IsTruncated>",
        ] {
            assert!(xml.contains(e), "{e}");
        }
        assert!(!xml.contains("<Prefix>"));
    }

    #[test]
    fn characters_xml_cannot_carry_never_reach_the_document() {
        let mut out = String::new();
        escape_into(&mut out, "bad\u{1}key<\u{FFFF}>\ttab");
        assert_eq!(out, "bad%01key&lt;%EF%BF%BF&gt;\ttab");
        // Each alone: a noncharacter without any control character, and characters that
        // share its lead byte (full-width parentheses, EF BC 88) but are fine.
        for (value, written) in [
            ("a\u{FFFE}b", "a%EF%BF%BEb"),
            ("x\u{1f}", "x%1F"),
            ("（ok）\r\n", "（ok）\r\n"),
        ] {
            let mut out = String::new();
            escape_into(&mut out, value);
            assert_eq!(out, written);
        }
        assert!(
            quick_xml::Reader::from_str(&format!("<Key>{out}</Key>"))
                .read_event()
                .is_ok()
        );
    }
}
