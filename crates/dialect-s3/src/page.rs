//! Reading an S3 backend's `ListMultipartUploadsResult` with a pull tokenizer
//! ([`crate::scan`]), straight into canonical entries. Text is borrowed from the body until it
//! becomes a field, and owners and initiators, which repeat on every upload of a page, are
//! allocated once per page.
//!
//! (serde's reader built a `String` per element and a struct per upload first: 2.1 ms per
//! 1000-upload page, three quarters of an S3-to-S3 listing in `scripts/perf-peers`.)

use std::borrow::Cow;

use dragoman_model::{Entry, Error, PageIdentities, StorageClass, Timestamp, Upload};
use dragoman_wire::MarkerPage;

use crate::scan::{Scanner, Token, unescape};

fn bad(message: impl Into<String>) -> Error {
    Error::BadBackendAnswer {
        message: message.into(),
    }
}

/// Where in the document the reader is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scope {
    Root,
    Upload,
    Owner,
    Initiator,
    Prefixes,
    /// An element whose content does not matter (and everything inside it).
    Skipped,
}

/// The leaf element whose text is being read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Leaf {
    IsTruncated,
    NextKeyMarker,
    NextUploadIdMarker,
    Key,
    UploadId,
    Initiated,
    StorageClass,
    ChecksumAlgorithm,
    ChecksumType,
    Id,
    DisplayName,
    Prefix,
}

fn leaf(scope: Scope, name: &[u8]) -> Option<Leaf> {
    Some(match (scope, name) {
        (Scope::Root, b"IsTruncated") => Leaf::IsTruncated,
        (Scope::Root, b"NextKeyMarker") => Leaf::NextKeyMarker,
        (Scope::Root, b"NextUploadIdMarker") => Leaf::NextUploadIdMarker,
        (Scope::Upload, b"Key") => Leaf::Key,
        (Scope::Upload, b"UploadId") => Leaf::UploadId,
        (Scope::Upload, b"Initiated") => Leaf::Initiated,
        (Scope::Upload, b"StorageClass") => Leaf::StorageClass,
        (Scope::Upload, b"ChecksumAlgorithm") => Leaf::ChecksumAlgorithm,
        (Scope::Upload, b"ChecksumType") => Leaf::ChecksumType,
        (Scope::Owner | Scope::Initiator, b"ID") => Leaf::Id,
        (Scope::Owner | Scope::Initiator, b"DisplayName") => Leaf::DisplayName,
        (Scope::Prefixes, b"Prefix") => Leaf::Prefix,
        _ => return None,
    })
}

/// An owner or initiator as read, borrowed from the body.
#[derive(Default)]
struct Who<'a> {
    id: Option<Cow<'a, str>>,
    display_name: Option<Cow<'a, str>>,
}

/// The upload being read.
#[derive(Default)]
struct UploadFields<'a> {
    key: Option<String>,
    upload_id: Option<String>,
    initiated: Option<Timestamp>,
    initiated_raw: Option<String>,
    storage_class: Option<StorageClass>,
    checksum_algorithm: Option<String>,
    checksum_type: Option<String>,
    owner: Who<'a>,
    initiator: Who<'a>,
}

/// Reads a `ListMultipartUploadsResult` into canonical entries and markers.
pub fn parse_list(body: &[u8]) -> Result<MarkerPage, Error> {
    let text = std::str::from_utf8(body).map_err(|_| bad("S3 listing is not UTF-8"))?;
    let mut scanner = Scanner::new(text);
    let not_xml = |e: &str| bad(format!("S3 listing is not well-formed XML: {e}"));
    let mut scopes: Vec<Scope> = Vec::with_capacity(8);
    let mut upload = UploadFields::default();
    let mut identities = PageIdentities::default();
    let mut uploads: Vec<Entry> = Vec::with_capacity(1001);
    let mut prefixes: Vec<Entry> = Vec::new();
    let mut page = MarkerPage::default();
    while let Some(token) = scanner.next_token().map_err(not_xml)? {
        match token {
            Token::Start(name) => {
                let Some(&scope) = scopes.last() else {
                    if name != "ListMultipartUploadsResult" {
                        return Err(bad(
                            "S3 answered something other than a ListMultipartUploadsResult",
                        ));
                    }
                    scopes.push(Scope::Root);
                    continue;
                };
                let next = match (scope, name) {
                    (Scope::Skipped, _) => Scope::Skipped,
                    (Scope::Root, "Upload") => {
                        upload = UploadFields::default();
                        Scope::Upload
                    }
                    (Scope::Root, "CommonPrefixes") => Scope::Prefixes,
                    (Scope::Upload, "Owner") => Scope::Owner,
                    (Scope::Upload, "Initiator") => Scope::Initiator,
                    _ => match leaf(scope, name.as_bytes()) {
                        Some(l) => {
                            let v = text_of(&mut scanner).map_err(not_xml)?;
                            store(l, scope, v, &mut upload, &mut page, &mut prefixes);
                            continue;
                        }
                        None => Scope::Skipped,
                    },
                };
                scopes.push(next);
            }
            Token::Text(_) | Token::EscapedText(_) | Token::CData(_) => {}
            Token::End(_) => {
                if scopes.pop() == Some(Scope::Upload) {
                    uploads.push(finish(std::mem::take(&mut upload), &mut identities)?);
                }
            }
            Token::Empty(name) => {
                // `<NextKeyMarker/>` and the like: an empty value, which is no marker.
                if scopes.is_empty() && name != "ListMultipartUploadsResult" {
                    return Err(bad(
                        "S3 answered something other than a ListMultipartUploadsResult",
                    ));
                }
            }
        }
    }
    let mut entries = uploads;
    if !prefixes.is_empty() {
        entries.append(&mut prefixes);
        // S3 lists uploads and prefixes apart; a stable merge by key restores the interleaving.
        entries.sort_by(|a, b| a.key().as_bytes().cmp(b.key().as_bytes()));
    }
    page.entries = entries;
    Ok(page)
}

/// One page of a `ListPartsResult`: the parts' total size, and the next part-number marker
/// when the listing is truncated.
pub fn parse_parts(body: &[u8]) -> Result<(u64, Option<u64>), Error> {
    let text = std::str::from_utf8(body).map_err(|_| bad("S3 part listing is not UTF-8"))?;
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
fn text_of<'a>(scanner: &mut Scanner<'a>) -> Result<Cow<'a, str>, &'static str> {
    let mut value = Cow::Borrowed("");
    loop {
        let piece = match scanner.next_token()? {
            Some(Token::Text(raw) | Token::CData(raw)) => Cow::Borrowed(raw),
            Some(Token::EscapedText(raw)) => unescape(raw)?,
            Some(Token::End(_)) => return Ok(value),
            Some(Token::Start(_) | Token::Empty(_)) => return Err("markup inside a text element"),
            None => return Err("the document ends inside an element"),
        };
        if value.is_empty() {
            value = piece;
        } else {
            value.to_mut().push_str(&piece);
        }
    }
}

fn store<'a>(
    l: Leaf,
    scope: Scope,
    v: Cow<'a, str>,
    upload: &mut UploadFields<'a>,
    page: &mut MarkerPage,
    prefixes: &mut Vec<Entry>,
) {
    let who = match scope {
        Scope::Owner => Some(&mut upload.owner),
        Scope::Initiator => Some(&mut upload.initiator),
        _ => None,
    };
    match l {
        Leaf::IsTruncated => page.truncated = v.trim() == "true",
        Leaf::NextKeyMarker => page.next_key_marker = (!v.is_empty()).then(|| v.into_owned()),
        Leaf::NextUploadIdMarker => {
            page.next_upload_id_marker = (!v.is_empty()).then(|| v.into_owned());
        }
        Leaf::Key => upload.key = Some(v.into_owned()),
        Leaf::UploadId => upload.upload_id = Some(v.into_owned()),
        Leaf::Initiated => match Timestamp::parse_rfc3339(v.trim()) {
            Some(t) => upload.initiated = Some(t),
            None => upload.initiated_raw = Some(v.into_owned()),
        },
        Leaf::StorageClass => upload.storage_class = Some(StorageClass::from_s3(v.trim())),
        Leaf::ChecksumAlgorithm => upload.checksum_algorithm = Some(v.into_owned()),
        Leaf::ChecksumType => upload.checksum_type = Some(v.into_owned()),
        Leaf::Id => {
            if let Some(w) = who {
                w.id = Some(v);
            }
        }
        Leaf::DisplayName => {
            if let Some(w) = who {
                w.display_name = Some(v);
            }
        }
        Leaf::Prefix => prefixes.push(Entry::Prefix(v.into_owned())),
    }
}

fn finish(u: UploadFields<'_>, identities: &mut PageIdentities) -> Result<Entry, Error> {
    let upload_id = u
        .upload_id
        .ok_or_else(|| bad("S3 listing has an upload without an UploadId"))?;
    let key = u
        .key
        .ok_or_else(|| bad(format!("S3 upload {upload_id} has no Key")))?;
    let initiated = u.initiated.ok_or_else(|| {
        bad(format!(
            "S3 upload {upload_id} has Initiated {:?}",
            u.initiated_raw.unwrap_or_default()
        ))
    })?;
    Ok(Entry::Upload(Upload {
        key,
        upload_id,
        initiated,
        owner: identities.share(u.owner.id.as_deref(), u.owner.display_name.as_deref()),
        initiator: identities.share(
            u.initiator.id.as_deref(),
            u.initiator.display_name.as_deref(),
        ),
        storage_class: u.storage_class,
        checksum_algorithm: u.checksum_algorithm,
        checksum_type: u.checksum_type,
        state: Default::default(),
    }))
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
    fn prefixes_interleave_by_key() {
        let xml = "<ListMultipartUploadsResult><Upload><Key>a</Key><UploadId>1</UploadId><Initiated>2026-01-02T03:04:05Z</Initiated></Upload>\
<Upload><Key>c</Key><UploadId>2</UploadId><Initiated>2026-01-02T03:04:05Z</Initiated></Upload>\
<CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes></ListMultipartUploadsResult>";
        let p = parse_list(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<&str> = p.entries.iter().map(Entry::key).collect();
        assert_eq!(keys, ["a", "b/", "c"]);
    }
}
