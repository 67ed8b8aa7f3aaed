//! Reading an S3 backend's `ListMultipartUploadsResult` with a pull tokenizer
//! ([`crate::scan`]), straight into canonical entries. Text is borrowed from the body until it
//! becomes a field, and owners and initiators, which repeat on every upload of a page, are
//! allocated once per page.
//!
//! (serde's reader built a `String` per element and a struct per upload first: 2.1 ms per
//! 1000-upload page, three quarters of an S3-to-S3 listing in `scripts/perf-peers`.)

use std::borrow::Cow;
use std::sync::Arc;

use dragoman_model::{
    Entry, Error, Identity, PageIdentities, StorageClass, Timestamp, Upload, interleave,
    page_capacity,
};
use dragoman_wire::MarkerPage;

use crate::client::bad;
use crate::scan::{Content, Scanner, Token, unescape};

fn not_xml(e: &str) -> Error {
    bad(format!("S3 listing is not well-formed XML: {e}"))
}

/// The shortest `<Upload>` this reader accepts: an empty `Key` and `UploadId`, and an
/// `Initiated` of twenty characters.
const MIN_UPLOAD_BYTES: usize =
    "<Upload><Key></Key><UploadId></UploadId><Initiated>2026-01-02T03:04:05Z</Initiated></Upload>"
        .len();

const FOREIGN: &str = "S3 answered something other than a ListMultipartUploadsResult";

/// Skips the rest of an element whose start tag was just read, and everything inside it.
fn skip_element(scanner: &mut Scanner<'_>) -> Result<(), Error> {
    let mut depth = 1usize;
    while depth > 0 {
        match scanner.next_token().map_err(not_xml)? {
            Some(Token::Start(_)) => depth += 1,
            Some(Token::End(_)) => depth -= 1,
            Some(_) => {}
            None => return Err(not_xml("the document ends inside an element")),
        }
    }
    Ok(())
}

/// Reads a `ListMultipartUploadsResult` into canonical entries and markers. Each element the
/// page is made of has its own reader below, which consumes it through its end tag.
pub fn parse_list(body: &[u8]) -> Result<MarkerPage, Error> {
    let text = dragoman_wire::page_text(body).ok_or_else(|| bad("S3 listing is not UTF-8"))?;
    let mut scanner = Scanner::new(text);
    let mut identities = PageIdentities::default();
    let mut last_who = [None, None];
    let mut uploads: Vec<Entry> = Vec::with_capacity(page_capacity(body.len(), MIN_UPLOAD_BYTES));
    let mut prefixes: Vec<Entry> = Vec::new();
    let mut page = MarkerPage::default();
    match scanner.next_token().map_err(not_xml)? {
        Some(Token::Start("ListMultipartUploadsResult")) => {}
        Some(Token::Empty("ListMultipartUploadsResult")) => {
            scanner.next_token().map_err(not_xml)?;
            return Ok(page);
        }
        _ => return Err(bad(FOREIGN)),
    }
    loop {
        match scanner.next_token().map_err(not_xml)? {
            Some(Token::Start(name)) => match name {
                "Upload" => {
                    uploads.push(read_upload(&mut scanner, &mut identities, &mut last_who)?)
                }
                "CommonPrefixes" => read_prefixes(&mut scanner, &mut prefixes)?,
                "IsTruncated" => page.truncated = text_of(&mut scanner)?.trim() == "true",
                "NextKeyMarker" => page.next_key_marker = non_empty(text_of(&mut scanner)?),
                "NextUploadIdMarker" => {
                    page.next_upload_id_marker = non_empty(text_of(&mut scanner)?)
                }
                _ => skip_element(&mut scanner)?,
            },
            // The root's end; the scanner refuses anything but whitespace after it.
            Some(Token::End(_)) => break,
            // `<NextKeyMarker/>` and the like: an empty value, which is no marker.
            Some(_) => {}
            None => return Err(not_xml("the document ends inside an element")),
        }
    }
    if scanner.next_token().map_err(not_xml)?.is_some() {
        return Err(not_xml("a second root element"));
    }
    page.entries = interleave(uploads, prefixes);
    Ok(page)
}

fn non_empty(v: Cow<'_, str>) -> Option<String> {
    (!v.is_empty()).then(|| v.into_owned())
}

/// `<CommonPrefixes><Prefix>…</Prefix></CommonPrefixes>`.
fn read_prefixes(scanner: &mut Scanner<'_>, prefixes: &mut Vec<Entry>) -> Result<(), Error> {
    loop {
        match scanner.next_token().map_err(not_xml)? {
            Some(Token::Start("Prefix")) => {
                prefixes.push(Entry::Prefix(text_of(scanner)?.into_owned()));
            }
            Some(Token::Start(_)) => skip_element(scanner)?,
            Some(Token::End(_)) => return Ok(()),
            Some(_) => {}
            None => return Err(not_xml("the document ends inside an element")),
        }
    }
}

/// The last owner or initiator read on a page, as its content and what it was read into:
/// a page's uploads usually name the same owner, and the same initiator (often another
/// identity: an IAM user of the owner's account), and content that repeats the last byte for
/// byte is that identity again. One for each element, so that neither evicts the other.
type LastWho<'a> = Option<(Content<'a>, Option<Arc<Identity>>)>;

/// An `<Owner>` or `<Initiator>` whose start tag was just read, through its end tag.
fn read_who<'a>(
    scanner: &mut Scanner<'a>,
    identities: &mut PageIdentities,
    last: &mut LastWho<'a>,
) -> Result<Option<Arc<Identity>>, Error> {
    if let Some((content, who)) = last.as_ref()
        && scanner.repeat_of(content)
    {
        return Ok(who.clone());
    }
    let mark = scanner.mark();
    let (mut id, mut name) = (None, None);
    loop {
        match scanner.next_token().map_err(not_xml)? {
            Some(Token::Start("ID")) => id = Some(text_of(scanner)?),
            Some(Token::Start("DisplayName")) => name = Some(text_of(scanner)?),
            Some(Token::Start(_)) => skip_element(scanner)?,
            Some(Token::End(_)) => break,
            Some(_) => {}
            None => return Err(not_xml("the document ends inside an element")),
        }
    }
    let who = identities.share(id.as_deref(), name.as_deref());
    *last = scanner
        .content_since(mark)
        .map(|content| (content, who.clone()));
    Ok(who)
}

/// The element of an `<Upload>` that S3 writes next, in the order of the API reference's
/// `ListMultipartUploads` example: `Key`, `UploadId`, `Initiator`, `Owner`, `StorageClass`,
/// `Initiated`, then the checksum elements, which are rarer and read as they come.
#[derive(Clone, Copy)]
enum Next {
    Key,
    UploadId,
    Initiator,
    Owner,
    StorageClass,
    Initiated,
    Unknown,
}

/// A leaf's text from [`Scanner::leaf`], its references resolved.
fn leaf_text((text, escaped): (&str, bool)) -> Result<Cow<'_, str>, Error> {
    if escaped {
        unescape(text).map_err(not_xml)
    } else {
        Ok(Cow::Borrowed(text))
    }
}

/// One `<Upload>`, through its end tag.
fn read_upload<'a>(
    scanner: &mut Scanner<'a>,
    identities: &mut PageIdentities,
    [last_owner, last_initiator]: &mut [LastWho<'a>; 2],
) -> Result<Entry, Error> {
    let (mut key, mut upload_id, mut initiated) = (None, None, None);
    let (mut storage_class, mut checksum_algorithm, mut checksum_type) = (None, None, None);
    let (mut owner, mut initiator) = (None, None);
    let mut next = Next::Key;
    loop {
        // The element S3 writes next, tried first as constants (see `Scanner::leaf`). Each
        // arm repeats what the matching arm below does with its field: folding the two into
        // one match on (field, how it was found) read 2.5 % more instructions per page and
        // took 2-9 % longer in criterion, alternated three times.
        match next {
            Next::Key => {
                if let Some(leaf) = scanner.leaf("<Key>", "</Key>") {
                    key = Some(leaf_text(leaf)?.into_owned());
                    next = Next::UploadId;
                    continue;
                }
            }
            Next::UploadId => {
                if let Some(leaf) = scanner.leaf("<UploadId>", "</UploadId>") {
                    upload_id = Some(leaf_text(leaf)?.into_owned());
                    next = Next::Initiator;
                    continue;
                }
            }
            Next::Initiator => {
                if let Some((content, who)) = last_initiator.as_ref()
                    && scanner.element_repeats("<Initiator>", content, "</Initiator>")
                {
                    initiator = who.clone();
                    next = Next::Owner;
                    continue;
                }
            }
            Next::Owner => {
                if let Some((content, who)) = last_owner.as_ref()
                    && scanner.element_repeats("<Owner>", content, "</Owner>")
                {
                    owner = who.clone();
                    next = Next::StorageClass;
                    continue;
                }
            }
            Next::StorageClass => {
                if let Some(leaf) = scanner.leaf("<StorageClass>", "</StorageClass>") {
                    storage_class = Some(StorageClass::from_s3(leaf_text(leaf)?.trim()));
                    next = Next::Initiated;
                    continue;
                }
            }
            Next::Initiated => {
                if let Some(leaf) = scanner.leaf("<Initiated>", "</Initiated>") {
                    initiated = Some(leaf_text(leaf)?);
                    next = Next::Unknown;
                    continue;
                }
            }
            Next::Unknown => {}
        }
        match scanner.next_token().map_err(not_xml)? {
            Some(Token::Start(name)) => match name {
                "Key" => {
                    key = Some(text_of(scanner)?.into_owned());
                    next = Next::UploadId;
                }
                "UploadId" => {
                    upload_id = Some(text_of(scanner)?.into_owned());
                    next = Next::Initiator;
                }
                "Initiator" => {
                    initiator = read_who(scanner, identities, last_initiator)?;
                    next = Next::Owner;
                }
                "Owner" => {
                    owner = read_who(scanner, identities, last_owner)?;
                    next = Next::StorageClass;
                }
                "StorageClass" => {
                    storage_class = Some(StorageClass::from_s3(text_of(scanner)?.trim()));
                    next = Next::Initiated;
                }
                "Initiated" => {
                    initiated = Some(text_of(scanner)?);
                    next = Next::Unknown;
                }
                "ChecksumAlgorithm" => checksum_algorithm = Some(text_of(scanner)?.into_owned()),
                "ChecksumType" => checksum_type = Some(text_of(scanner)?.into_owned()),
                _ => skip_element(scanner)?,
            },
            Some(Token::End(_)) => break,
            Some(_) => {}
            None => return Err(not_xml("the document ends inside an element")),
        }
    }
    let upload_id = upload_id.ok_or_else(|| bad("S3 listing has an upload without an UploadId"))?;
    let key = key.ok_or_else(|| bad(format!("S3 upload {upload_id} has no Key")))?;
    let initiated_text = initiated.unwrap_or_default();
    let initiated = Timestamp::parse_rfc3339(initiated_text.trim()).ok_or_else(|| {
        bad(format!(
            "S3 upload {upload_id} has Initiated {initiated_text:?}"
        ))
    })?;
    Ok(Entry::Upload(Upload {
        key,
        upload_id,
        initiated,
        owner,
        initiator,
        storage_class,
        checksum_algorithm,
        checksum_type,
        state: Default::default(),
    }))
}

/// One page of a `ListPartsResult`: the parts' total size, and the next part-number marker
/// when the listing is truncated.
pub fn parse_parts(body: &[u8]) -> Result<(u64, Option<u64>), Error> {
    let text = dragoman_wire::page_text(body).ok_or_else(|| bad("S3 part listing is not UTF-8"))?;
    let mut scanner = Scanner::new(text);
    let not_xml = |e: &str| bad(format!("S3 part listing is not well-formed XML: {e}"));
    let mut path: Vec<&str> = Vec::with_capacity(4);
    let (mut total, mut truncated, mut next) = (0u64, false, None);
    let foreign = || bad("S3 answered something other than a ListPartsResult");
    while let Some(token) = scanner.next_token().map_err(not_xml)? {
        match token {
            Token::Start(name) => {
                if path.is_empty() && name != "ListPartsResult" {
                    return Err(foreign());
                }
                path.push(name);
            }
            Token::Empty(name) if path.is_empty() && name != "ListPartsResult" => {
                return Err(foreign());
            }
            Token::End(_) => {
                path.pop();
            }
            Token::Text(raw) | Token::EscapedText(raw) => {
                let v = unescape(raw).map_err(not_xml)?;
                let number = |what: &str| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| bad(format!("S3 part listing has {what} {v:?}")))
                };
                match path.as_slice() {
                    ["ListPartsResult", "Part", "Size"] => {
                        total = total.saturating_add(number("Size")?)
                    }
                    ["ListPartsResult", "IsTruncated"] => truncated = v.trim() == "true",
                    ["ListPartsResult", "NextPartNumberMarker"] => {
                        next = Some(number("NextPartNumberMarker")?)
                    }
                    _ => {}
                }
            }
            Token::CData(_) | Token::Empty(_) => {}
        }
    }
    Ok((total, next.filter(|_| truncated)))
}

/// The text of a leaf element whose start tag was just read, through its end tag: borrowed
/// when it is one piece without entities (nearly always), joined otherwise.
fn text_of<'a>(scanner: &mut Scanner<'a>) -> Result<Cow<'a, str>, Error> {
    match scanner.text_then_end() {
        Some((text, false)) => return Ok(Cow::Borrowed(text)),
        Some((text, true)) => return unescape(text).map_err(not_xml),
        None => {}
    }
    let mut value = Cow::Borrowed("");
    loop {
        let piece = match scanner.next_token().map_err(not_xml)? {
            Some(Token::Text(raw) | Token::CData(raw)) => Cow::Borrowed(raw),
            Some(Token::EscapedText(raw)) => unescape(raw).map_err(not_xml)?,
            Some(Token::End(_)) => return Ok(value),
            Some(Token::Start(_) | Token::Empty(_)) => {
                return Err(not_xml("markup inside a text element"));
            }
            None => return Err(not_xml("the document ends inside an element")),
        };
        if value.is_empty() {
            value = piece;
        } else {
            value.to_mut().push_str(&piece);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(e: &Entry) -> &Upload {
        match e {
            Entry::Upload(u) => u,
            Entry::Prefix(p) => panic!("a prefix {p}"),
        }
    }

    #[test]
    fn every_field_entities_and_char_references() {
        let xml = r#"<?xml version="1.0"?><!-- c --><ListMultipartUploadsResult xmlns="x">
<Bucket>b</Bucket><NextKeyMarker/><IsTruncated>false</IsTruncated>
<Upload><Key>a &amp; &#x3C;b&#62; <![CDATA[<c>]]></Key><UploadId>U1</UploadId>
<Initiator><ID>arn:i</ID><DisplayName>alice</DisplayName></Initiator><Owner><ID>o</ID></Owner>
<StorageClass>GLACIER</StorageClass><Initiated>2026-01-02T03:04:05.123Z</Initiated>
<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType><Unknown><Key>no</Key></Unknown></Upload>
</ListMultipartUploadsResult>"#;
        let p = parse_list(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!p.truncated && p.next_key_marker.is_none());
        let u = upload(&p.entries[0]);
        assert_eq!(u.key, "a & <b> <c>");
        assert_eq!(u.upload_id, "U1");
        assert_eq!(
            u.initiated,
            Timestamp::parse_rfc3339("2026-01-02T03:04:05.123Z").unwrap_or_default()
        );
        assert_eq!(
            u.initiator,
            Some(dragoman_model::Identity::shared("arn:i", "alice"))
        );
        assert_eq!(u.owner.as_ref().and_then(|o| o.id.as_deref()), Some("o"));
        assert_eq!(u.storage_class, Some(StorageClass::from_s3("GLACIER")));
        assert_eq!(u.checksum_algorithm.as_deref(), Some("CRC32"));
        assert_eq!(u.checksum_type.as_deref(), Some("COMPOSITE"));
    }

    #[test]
    fn elements_in_any_order_and_repeated_identities_read_the_same() {
        let a = "<ID>a</ID><DisplayName>A</DisplayName>";
        let b = "<ID>a</ID><DisplayName>AB</DisplayName>";
        let t = |s: u32| format!("<Initiated>2026-01-02T03:04:{s:02}Z</Initiated>");
        let uploads = [
            format!(
                "<Key>k1</Key><UploadId>u1</UploadId><Initiator>{a}</Initiator><Owner>{b}</Owner><StorageClass>STANDARD</StorageClass>{}",
                t(1)
            ),
            format!(
                "<Key>k2</Key><UploadId>u2</UploadId><Initiator>{a}</Initiator><Owner>{b}</Owner><StorageClass>STANDARD</StorageClass>{}",
                t(2)
            ),
            format!(
                "{}<Owner>{a}</Owner><Initiator>{b}</Initiator><UploadId>u3</UploadId><Key>k3</Key>",
                t(3)
            ),
            format!(
                "<Key>k4</Key><UploadId>u4</UploadId><Initiator>{b}</Initiator><Owner>{a}</Owner>{}",
                t(4)
            ),
            format!(
                "<Key>k5</Key><UploadId>u5</UploadId><Initiator>{a}</Initiator><Owner></Owner><StorageClass>GLACIER</StorageClass>{}",
                t(5)
            ),
        ];
        let xml = format!(
            "<ListMultipartUploadsResult>{}</ListMultipartUploadsResult>",
            uploads.map(|u| format!("<Upload>{u}</Upload>")).join("")
        );
        let p = parse_list(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (
            Some(dragoman_model::Identity::shared("a", "A")),
            Some(dragoman_model::Identity::shared("a", "AB")),
        );
        let read: Vec<_> = p
            .entries
            .iter()
            .map(upload)
            .map(|u| {
                (
                    u.key.as_str(),
                    u.upload_id.as_str(),
                    u.initiator.clone(),
                    u.owner.clone(),
                    u.storage_class.clone(),
                    u.initiated,
                )
            })
            .collect();
        let at = |s: i64| Timestamp::from_secs(1_767_323_040 + s);
        let standard = Some(StorageClass::Standard);
        assert_eq!(
            read,
            [
                ("k1", "u1", a.clone(), b.clone(), standard.clone(), at(1)),
                ("k2", "u2", a.clone(), b.clone(), standard, at(2)),
                ("k3", "u3", b.clone(), a.clone(), None, at(3)),
                ("k4", "u4", b, a.clone(), None, at(4)),
                (
                    "k5",
                    "u5",
                    a,
                    None,
                    Some(StorageClass::from_s3("GLACIER")),
                    at(5)
                ),
            ]
        );
    }

    #[test]
    fn malformed_or_foreign_documents_are_bad_answers() {
        for bad_doc in [
            "<html><body>hi</body></html>",
            "<ListMultipartUploadsResult><Upload><Key>k</Key>",
            "<ListMultipartUploadsResult><Upload><Key>k</Key><UploadId>u</UploadId></Upload></ListMultipartUploadsResult>",
            "<ListMultipartUploadsResult><Upload><UploadId>u</UploadId><Initiated>x</Initiated></Upload></ListMultipartUploadsResult>",
            "<ListMultipartUploadsResult><Upload><Key>&bogus;</Key></Upload></ListMultipartUploadsResult>",
            "<ListMultipartUploadsResult><Upload></Key></ListMultipartUploadsResult>",
            "",
            "<Error><Code>x</Code></Error>",
        ] {
            assert!(
                matches!(
                    parse_list(bad_doc.as_bytes()),
                    Err(Error::BadBackendAnswer { .. })
                ),
                "{bad_doc}"
            );
        }
        assert!(parse_list(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn part_listings_add_up() {
        let xml = "<ListPartsResult><Bucket>b</Bucket><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>\
<Part><PartNumber>1</PartNumber><Size>5242880</Size></Part><Part><PartNumber>2</PartNumber><Size>17</Size></Part></ListPartsResult>";
        assert_eq!(parse_parts(xml.as_bytes()).ok(), Some((5_242_897, Some(2))));
        let last = "<ListPartsResult><IsTruncated>false</IsTruncated><NextPartNumberMarker>9</NextPartNumberMarker></ListPartsResult>";
        assert_eq!(parse_parts(last.as_bytes()).ok(), Some((0, None)));
        assert!(parse_parts(b"<Error/>").is_err());
        assert!(
            parse_parts(b"<ListPartsResult><Part><Size>x</Size></Part></ListPartsResult>").is_err()
        );
    }

    #[test]
    fn the_shortest_upload_is_read_and_a_page_of_them_fits_its_reservation() {
        let shortest = "<Upload><Key></Key><UploadId></UploadId><Initiated>2026-01-02T03:04:05Z</Initiated></Upload>";
        assert_eq!(shortest.len(), MIN_UPLOAD_BYTES);
        let body = format!(
            "<ListMultipartUploadsResult>{}</ListMultipartUploadsResult>",
            shortest.repeat(7)
        );
        let p = parse_list(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.entries.len(), 7);
        assert!(p.entries.capacity() >= 7 && p.entries.capacity() < 10);
    }

    proptest::proptest! {
        /// Whatever dragoman's S3 encoder writes, this reader reads back: every key (entities,
        /// quotes, non-ASCII), id, time (to the millisecond S3 carries), owner, initiator,
        /// storage class and common prefix, in the same order.
        #[test]
        fn reads_back_what_the_encoder_writes(
            uploads in proptest::collection::btree_map(
                "[a-zA-Z0-9/&<>\"' é中😀._-]{1,30}",
                ("[A-Za-z0-9._~-]{1,40}", 0i64..4_102_444_800_000, (0usize..4, 0usize..4), proptest::bool::ANY),
                0..20,
            ),
            // Few identities, some a prefix of another, picked for each owner and initiator
            // (or none): uploads repeat the last one, change it, and name none.
            identities in proptest::collection::vec(
                (
                    proptest::prop_oneof!["[a<&]{0,2}", "[a-z0-9:/&<>-]{1,30}"],
                    proptest::prop_oneof!["[A&]{0,2}", "[A-Za-z &<>]{0,12}"],
                ),
                1..3,
            ),
            // Keys hold no `|`, so a prefix ending in one is never an upload's key.
            prefixes in proptest::collection::btree_set("[a-z&<>é]{1,8}\\|", 0..4),
        ) {
            let identities: Vec<_> = identities
                .iter()
                .map(|(id, name)| dragoman_model::Identity::shared(id.as_str(), name.as_str()))
                .collect();
            let upload = |(key, (upload_id, millis, (owner, initiator), glacier)): (String, (String, i64, (usize, usize), bool))| {
                let class = if glacier { StorageClass::from_s3("GLACIER") } else { StorageClass::Standard };
                Entry::Upload(Upload {
                    key,
                    upload_id,
                    initiated: Timestamp::from_nanos(millis * 1_000_000),
                    owner: identities.get(owner).cloned(),
                    initiator: identities.get(initiator).cloned(),
                    storage_class: Some(class),
                    checksum_algorithm: None,
                    checksum_type: None,
                    state: Default::default(),
                })
            };
            let entries = interleave(
                uploads.into_iter().map(upload).collect(),
                prefixes.into_iter().map(Entry::Prefix).collect(),
            );
            let op = dragoman_model::Operation::ListUploads(dragoman_model::ListUploads {
                delimiter: Some("|".into()),
                ..dragoman_model::ListUploads::bucket("b")
            });
            let page = dragoman_model::UploadsPage::from_entries(entries.clone(), false);
            let body = crate::encode(&op, &dragoman_model::Outcome::Page(page), &crate::request_meta(1))
                .into_body();
            let read = parse_list(&body).unwrap_or_else(|e| panic!("{e}"));
            proptest::prop_assert_eq!(&read.entries, &entries);
            // The same page with every end tag spelled `</name >`, which no shortcut takes.
            let text = String::from_utf8_lossy(&body);
            let respelled = text.replace("</", "\u{0}").split('\u{0}').enumerate().fold(
                String::new(),
                |mut doc, (i, piece)| {
                    if i > 0 {
                        doc.push_str("</");
                        doc.push_str(&piece.replacen('>', " >", 1));
                    } else {
                        doc.push_str(piece);
                    }
                    doc
                },
            );
            let read = parse_list(respelled.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            proptest::prop_assert_eq!(read.entries, entries);
        }
    }

    #[test]
    fn prefixes_interleave_by_key() {
        let xml = "<ListMultipartUploadsResult><Upload><Key>a</Key><UploadId>1</UploadId><Initiated>2026-01-02T03:04:05Z</Initiated></Upload>\
<Upload><Key>c</Key><UploadId>2</UploadId><Initiated>2026-01-02T03:04:05Z</Initiated></Upload>\
<CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes></ListMultipartUploadsResult>";
        let p = parse_list(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<&str> = p.entries.iter().map(Entry::key).collect();
        assert_eq!(keys, ["a", "b/", "c"]);
    }
}
