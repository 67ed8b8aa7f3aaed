//! HTTP wire helpers every dialect shares. Pure functions over strings and `http` types.

pub mod json;
mod marker;
mod route;
pub mod swar;

pub use marker::{
    MarkerNames, MarkerPage, MarkerRequest, bucket_address, bucket_request, object_request,
};
pub use route::{
    BucketDialect, MAX_KEY_BYTES, bodiless, copy_source, forward_names, operation, validate_key,
    validate_s3_bucket_name, xml_char,
};

use std::borrow::Cow;

use dragoman_model::Error;
use http::request::Parts;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};

/// `A-Z a-z 0-9 - _ . ~` stay; every other byte is `%XX`. SigV4's and bce-auth-v1's rule.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
const UNRESERVED_PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// `UriEncode` of SigV4 and bce-auth-v1: `/` kept in a path, `%2F` elsewhere.
pub fn uri_encode(s: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    uri_encode_into(&mut out, s, keep_slash);
    out
}

/// [`uri_encode`] appended to `out`: its runs are pushed as they come, without the formatting
/// machinery `to_string` would go through.
pub fn uri_encode_into(out: &mut String, s: &[u8], keep_slash: bool) {
    uri_encoded(s, keep_slash).for_each(|run| out.push_str(run));
}

/// [`uri_encode`]'s runs, unwritten: for comparing encoded texts without building them.
fn uri_encoded(s: &[u8], keep_slash: bool) -> percent_encoding::PercentEncode<'_> {
    let set = if keep_slash {
        UNRESERVED_PATH
    } else {
        UNRESERVED
    };
    percent_encode(s, set)
}

/// `A-Z a-z 0-9 - _ . ~`: the bytes `UriEncode` leaves alone, as a test per byte (the set
/// `UNRESERVED` is the same for `percent_encode`, which takes no single byte).
#[inline]
pub fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// `UriEncode` of a component's percent-decoded bytes. A component already in that form
/// (nearly every one on the hot path: no `%`, nothing to escape) is borrowed, since decoding
/// and encoding it again gives it back unchanged.
pub fn canonical_component(raw: &str, keep_slash: bool) -> Cow<'_, str> {
    if raw
        .bytes()
        .all(|b| unreserved(b) || (keep_slash && b == b'/'))
    {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(uri_encode(&decode_bytes(raw), keep_slash))
    }
}

/// A backend's page as text, or `None` if it is not UTF-8. Every page reader validates its
/// whole body once before reading it; std's `from_utf8` walks it a word at a time (about one
/// instruction a byte under callgrind, 2.6K of a page-10 request and a fifth of a BOS
/// 1000-upload page), `simdutf8` 32 bytes at a time where the CPU has AVX2, with the same
/// answer. Not inlined: `scripts/parse-instructions` counts pages by its calls.
#[inline(never)]
pub fn page_text(body: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(body).ok()
}

/// Percent-decodes to bytes, leaving malformed escapes as they are.
pub fn decode_bytes(s: &str) -> Vec<u8> {
    percent_decode(s.as_bytes()).collect()
}

/// How a dialect reads `+` in a query string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plus {
    /// Form encoding: `+` is a space (S3).
    Space,
    /// Only `%XX` is decoded: `+` is a plus (BOS).
    Literal,
}

/// Decoded query parameters in wire order. A flag without `=` has an empty value. A part
/// without escapes (most are: `uploads`, `max-uploads=10`) is borrowed from the request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryParams<'q>(pub Vec<(Cow<'q, str>, Cow<'q, str>)>);

impl<'q> QueryParams<'q> {
    /// Parses a raw query string (without `?`). Invalid UTF-8 is an `InvalidUri` error.
    pub fn parse(raw: Option<&'q str>, plus: Plus) -> Result<Self, Error> {
        let Some(raw) = raw else {
            return Ok(Self::default());
        };
        let decode = |s: &'q str| -> Result<Cow<'q, str>, Error> {
            let bytes = if plus == Plus::Space && s.contains('+') {
                decode_bytes(&s.replace('+', " "))
            } else {
                match Cow::from(percent_decode(s.as_bytes())) {
                    Cow::Borrowed(_) => return Ok(Cow::Borrowed(s)),
                    Cow::Owned(bytes) => bytes,
                }
            };
            String::from_utf8(bytes)
                .map(Cow::Owned)
                .map_err(|_| Error::InvalidUri {
                    message: "the query string is not valid UTF-8 once percent-decoded".into(),
                })
        };
        let mut out = Vec::with_capacity(raw.bytes().filter(|&b| b == b'&').count() + 1);
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.push((decode(k)?, decode(v)?));
        }
        Ok(Self(out))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// A parameter that is present and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The request's host, lower-case, without port or trailing dot. From `Host`, or from an
/// absolute-form request target. Borrowed when the header is already in that form, as
/// clients send it: it is read on every request to tell a virtual-hosted bucket.
pub fn host(parts: &Parts) -> Option<Cow<'_, str>> {
    let raw = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.host())?;
    // An IPv6 literal keeps its brackets; otherwise strip a numeric port.
    let host = if raw.starts_with('[') {
        raw.find(']').and_then(|i| raw.get(..=i)).unwrap_or(raw)
    } else {
        raw.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(raw, |(h, _)| h)
    };
    let host = host.trim_end_matches('.');
    Some(if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    })
}

/// What is left of `host` (lower-case, as [`host`] gives it) in front of `.<domain>` for the
/// first matching domain, the domains compared without regard to case.
pub fn strip_domain<'h>(host: &'h str, domains: &[String]) -> Option<&'h str> {
    domains.iter().find_map(|d| {
        let d = d.trim_start_matches('.');
        let at = host.len().checked_sub(d.len())?;
        host.as_bytes()[at..]
            .eq_ignore_ascii_case(d.as_bytes())
            .then(|| host.get(..at))
            .flatten()
            .and_then(|rest| rest.strip_suffix('.'))
            .filter(|b| !b.is_empty())
    })
}

/// The percent-decoded request path without its leading `/`. Invalid UTF-8 is `InvalidUri`.
/// Borrowed from the request when there is nothing to decode.
pub fn decoded_path(parts: &Parts) -> Result<Cow<'_, str>, Error> {
    let raw = parts.uri.path();
    let raw = raw.strip_prefix('/').unwrap_or(raw);
    if !raw.contains('%') {
        return Ok(Cow::Borrowed(raw));
    }
    String::from_utf8(decode_bytes(raw))
        .map(Cow::Owned)
        .map_err(|_| Error::InvalidUri {
            message: "the path is not valid UTF-8 once percent-decoded".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_is_what_uri_encode_leaves_alone() {
        for b in 0..=u8::MAX {
            assert_eq!(
                unreserved(b),
                uri_encode(&[b], false) == char::from(b).to_string()
            );
        }
        assert!(matches!(
            canonical_component("a/b-c", true),
            Cow::Borrowed("a/b-c")
        ));
        assert_eq!(canonical_component("a/b-c", false), "a%2Fb-c");
        assert_eq!(canonical_component("a%2fb%zz", false), "a%2Fb%25zz");
    }

    fn parts(uri: &str, host: &str) -> Parts {
        let (p, ()) = http::Request::builder()
            .uri(uri)
            .header("host", host)
            .body(())
            .unwrap_or_default()
            .into_parts();
        p
    }

    proptest::proptest! {
        /// Any bytes, mostly near-valid text: the same verdict and text as std's check.
        #[test]
        fn page_text_agrees_with_std(
            text in "\\PC{0,200}",
            at in 0usize..1000,
            byte in proptest::prelude::any::<u8>(),
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let mut bytes = text.into_bytes();
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = byte;
            }
            for b in [bytes, raw] {
                proptest::prop_assert_eq!(page_text(&b), std::str::from_utf8(&b).ok());
            }
        }
    }

    #[test]
    fn plus_is_read_per_dialect() {
        let raw = Some("uploads&prefix=a%20b%2F&keyMarker=x+y&max=");
        let s3 = QueryParams::parse(raw, Plus::Space).unwrap_or_default();
        let bos = QueryParams::parse(raw, Plus::Literal).unwrap_or_default();
        assert!(s3.has("uploads") && bos.has("uploads"));
        assert_eq!(s3.get("prefix"), Some("a b/"));
        assert_eq!(s3.get("keyMarker"), Some("x y"));
        assert_eq!(bos.get("keyMarker"), Some("x+y"));
        assert_eq!(bos.non_empty("max"), None);
        assert!(matches!(
            QueryParams::parse(Some("p=%FF"), Plus::Literal),
            Err(Error::InvalidUri { .. })
        ));
    }

    #[test]
    fn an_escaped_plus_stays_a_plus_and_malformed_escapes_stay_as_they_are() {
        let raw = Some("k=a%2Bb+c&bad=%zz+%4&%41+=1");
        let s3 = QueryParams::parse(raw, Plus::Space).unwrap_or_default();
        assert_eq!(s3.get("k"), Some("a+b c"));
        assert_eq!(s3.get("bad"), Some("%zz %4"));
        assert_eq!(s3.get("A "), Some("1"));
        let bos = QueryParams::parse(raw, Plus::Literal).unwrap_or_default();
        assert_eq!(bos.get("k"), Some("a+b+c"));
        assert_eq!(bos.get("bad"), Some("%zz+%4"));
        assert!(matches!(
            QueryParams::parse(Some("p=a+%FF"), Plus::Space),
            Err(Error::InvalidUri { .. })
        ));
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(uri_encode(b"a b/c+d~", true), "a%20b/c%2Bd~");
        assert_eq!(uri_encode("ü*/".as_bytes(), false), "%C3%BC%2A%2F");
    }

    #[test]
    fn hosts_and_domains() {
        assert_eq!(
            host(&parts("/", "B.Example.com:9000")).as_deref(),
            Some("b.example.com")
        );
        assert_eq!(host(&parts("/", "[::1]:9000")).as_deref(), Some("[::1]"));
        assert_eq!(host(&parts("/", "127.0.0.1")).as_deref(), Some("127.0.0.1"));
        assert!(matches!(
            host(&parts("/", "b.example.com:9000")),
            Some(Cow::Borrowed("b.example.com"))
        ));
        assert_eq!(
            host(&parts("/", "B.example.com.")).as_deref(),
            Some("b.example.com")
        );
        let d = vec!["s3.example.com".to_owned(), ".S3.Other.test".to_owned()];
        assert_eq!(strip_domain("b1.s3.example.com", &d), Some("b1"));
        assert_eq!(strip_domain("b2.s3.other.test", &d), Some("b2"));
        assert_eq!(strip_domain("a.b.s3.example.com", &d), Some("a.b"));
        assert_eq!(strip_domain("s3.example.com", &d), None);
        assert_eq!(strip_domain(".s3.example.com", &d), None);
        assert_eq!(strip_domain("xs3.example.com", &d), None);
        assert_eq!(strip_domain("ü.com", &d), None);
    }

    #[test]
    fn query_parts_without_escapes_are_borrowed() {
        let raw = Some("uploads&max-uploads=10&prefix=a%20b&q=a+b");
        let q = QueryParams::parse(raw, Plus::Space).unwrap_or_default();
        assert!(matches!(
            &q.0[0],
            (Cow::Borrowed("uploads"), Cow::Borrowed(""))
        ));
        assert!(matches!(&q.0[1].1, Cow::Borrowed("10")));
        assert_eq!((q.get("prefix"), q.get("q")), (Some("a b"), Some("a b")));
        let bos = QueryParams::parse(raw, Plus::Literal).unwrap_or_default();
        assert!(matches!(&bos.0[3].1, Cow::Borrowed("a+b")));
    }

    #[test]
    fn paths_are_decoded_only_when_escaped() {
        let p = parts("/b1/a%20b/%C3%BC", "h");
        assert_eq!(decoded_path(&p).ok().as_deref(), Some("b1/a b/ü"));
        assert!(matches!(
            decoded_path(&parts("/b1/k", "h")),
            Ok(Cow::Borrowed("b1/k"))
        ));
        assert!(decoded_path(&parts("/b1/%FF", "h")).is_err());
    }
}
