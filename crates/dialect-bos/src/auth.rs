//! bce-auth-v1, signing and verification (spec/bos.md §4).
//!
//! Written by hand: no maintained crate implements bce-auth-v1. One canonicalization serves
//! both directions, so the spec's test vectors check the signer and the verifier at once.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;

use dragoman_model::{Error, SignatureMismatch, Timestamp};
use dragoman_wire::{canonical_component, decode_bytes, unreserved, uri_encode};
use hmac::{Hmac, Mac};
use http::request::Parts;
use sha2::Sha256;
use subtle::ConstantTimeEq;

const PREFIX: &str = "bce-auth-v1";
/// How far in the future a signing timestamp may lie (clock skew between client and server).
const MAX_FUTURE_SECS: i64 = 15 * 60;
/// The longest validity a signature may claim (`expirationPeriodInSeconds`): seven days, as
/// for S3 presigned URLs. BCE documents no bound; without one, a signature leaked once would
/// stay valid for ever.
pub const MAX_EXPIRATION_SECS: i64 = 7 * 24 * 3600;

/// A parsed `bce-auth-v1/{ak}/{timestamp}/{expiration}/{signedHeaders}/{signature}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthString {
    pub access_key: String,
    pub timestamp: String,
    pub expiration: i64,
    /// Empty: the default set (host, content-length, content-type, content-md5, `x-bce-*`).
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl AuthString {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let malformed = || Error::MalformedAuthorization {
            message: format!("The authorization string is malformed: {s}"),
            region: None,
            in_query: false,
        };
        let parts: Vec<&str> = s.split('/').collect();
        let [prefix, ak, ts, exp, signed, sig] =
            <[&str; 6]>::try_from(parts).map_err(|_| malformed())?;
        if prefix != PREFIX || ak.is_empty() || sig.len() != 64 {
            return Err(malformed());
        }
        Ok(Self {
            access_key: ak.to_owned(),
            timestamp: ts.to_owned(),
            expiration: exp.parse().map_err(|_| malformed())?,
            signed_headers: signed
                .split(';')
                .filter(|h| !h.is_empty())
                .map(str::to_ascii_lowercase)
                .collect(),
            signature: sig.to_owned(),
        })
    }

    fn prefix(&self) -> String {
        let mut out = String::with_capacity(PREFIX.len() + self.access_key.len() + 48);
        push_prefix(&mut out, &self.access_key, &self.timestamp, self.expiration);
        out
    }
}

/// Appends `bce-auth-v1/{accessKeyId}/{timestamp}/{expiration}`, by parts: `format!` of the
/// whole was 4 % of a BOS request.
fn push_prefix(out: &mut String, access_key: &str, timestamp: &str, expiration: i64) {
    out.push_str(PREFIX);
    out.push('/');
    out.push_str(access_key);
    out.push('/');
    out.push_str(timestamp);
    out.push('/');
    // Into the buffer, not through a `String` of its own.
    let _ = write!(out, "{expiration}");
}

fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    // HMAC takes keys of any length, so this never fails; an empty result would only ever
    // fail the signature comparison.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(msg);
    const_hex::encode(mac.finalize().into_bytes())
}

/// A signing key ready to sign with: HMAC keyed with the hex of
/// HMAC-SHA256(secret, auth string prefix), its key schedule done.
struct SigningMac {
    secret: Box<str>,
    prefix: String,
    mac: Hmac<Sha256>,
}

thread_local! {
    /// The signing keys this thread used last. The prefix holds the second a request was
    /// signed in, so a busy secret signs many requests with one key: the two HMACs of its
    /// derivation and key schedule are done once per second and secret, not per request.
    /// Keyed by secret and prefix, not by secret alone: a gateway may verify a caller's
    /// signature and sign its own with the same secret in different seconds, alternately.
    static SIGNING_MACS: std::cell::RefCell<Vec<SigningMac>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// How many keys a thread keeps; past that, the oldest goes.
const CACHED_KEYS: usize = 16;

/// The hex signature of `canonical` under the signing key of `secret` and `prefix`
/// (`bce-auth-v1/{accessKeyId}/{timestamp}/{expiration}`).
fn signature(secret: &str, prefix: &str, canonical: &str) -> const_hex::Buffer<32> {
    let mut mac = SIGNING_MACS.with_borrow_mut(|macs| {
        if let Some(m) = macs
            .iter()
            .rev()
            .find(|m| m.prefix == prefix && &*m.secret == secret)
        {
            return m.mac.clone();
        }
        let key = hmac_hex(secret.as_bytes(), prefix.as_bytes());
        let Ok(mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
            unreachable!("HMAC takes keys of any length")
        };
        if macs.len() == CACHED_KEYS {
            macs.remove(0);
        }
        macs.push(SigningMac {
            secret: secret.into(),
            prefix: prefix.to_owned(),
            mac: mac.clone(),
        });
        mac
    });
    mac.update(canonical.as_bytes());
    // Hex on the stack: a signature is compared or appended, never kept.
    let mut hex = const_hex::Buffer::<32>::new();
    hex.format(&mac.finalize().into_bytes().into());
    hex
}

fn is_default_signed(name: &str) -> bool {
    matches!(
        name,
        "host" | "content-length" | "content-type" | "content-md5"
    ) || name.starts_with("x-bce-")
}

/// Whether the header `name` is signed: those `signed` names; when it is empty, the default
/// set, or just `host` for the query (presigned) form.
fn is_signed(name: &str, signed: &[String], query_form: bool) -> bool {
    if !signed.is_empty() {
        signed.iter().any(|s| s == name)
    } else if query_form {
        name == "host"
    } else {
        is_default_signed(name)
    }
}

/// `UriEncode` of bytes taken as they are (header names and values: nothing to decode).
fn encoded(raw: &str) -> Cow<'_, str> {
    if raw.bytes().all(unreserved) {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(uri_encode(raw.as_bytes(), false))
    }
}

/// Whether a raw query key is `authorization` (any case, percent-decoded).
fn is_authorization(raw: &str) -> bool {
    if raw.contains('%') {
        String::from_utf8_lossy(&decode_bytes(raw)).eq_ignore_ascii_case("authorization")
    } else {
        raw.eq_ignore_ascii_case("authorization")
    }
}

/// bce-auth-v1 sorts its query and header lines as whole strings (`k=v`, `name:value`), which
/// is not the order of the (k, v) pairs: `=` and `:` sort after `-`, `.`, `%` and digits.
fn by_line(sep: u8) -> impl Fn(&Line<'_>, &Line<'_>) -> Ordering {
    move |(k1, v1), (k2, v2)| {
        let a = k1.bytes().chain([sep]).chain(v1.bytes());
        a.cmp(k2.bytes().chain([sep]).chain(v2.bytes()))
    }
}

/// A query pair or a header of the canonical request, before it is joined into a line.
type Line<'a> = (Cow<'a, str>, Cow<'a, str>);

/// The canonical request of bce-auth-v1, from a request as it travels on the wire.
///
/// `signed` names the headers to sign; empty means the default set, or just `host` for the
/// query (presigned) form, because a browser following a presigned URL sends nothing else.
///
/// Written into one buffer, borrowing every component already in canonical form: it is built
/// twice per request a BOS caller sends to a BOS backend (verified, then signed again).
pub fn canonical_request(parts: &Parts, signed: &[String], query_form: bool) -> String {
    let path = parts.uri.path();
    let uri = if path.is_empty() {
        Cow::Borrowed("/")
    } else {
        canonical_component(path, true)
    };

    let raw_query = parts.uri.query().unwrap_or_default();
    let mut query: Vec<Line<'_>> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(k, _)| !is_authorization(k))
        .map(|(k, v)| (canonical_component(k, false), canonical_component(v, false)))
        .collect();
    query.sort_unstable_by(by_line(b'='));

    let wanted = |name: &str| is_signed(name, signed, query_form);
    let mut headers: Vec<Line<'_>> = Vec::with_capacity(8);
    let mut has_host = false;
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if !wanted(name) {
            continue;
        }
        let value = match std::str::from_utf8(value.as_bytes()) {
            Ok(v) => encoded(v.trim()),
            Err(_) => Cow::Owned(uri_encode(
                String::from_utf8_lossy(value.as_bytes()).trim().as_bytes(),
                false,
            )),
        };
        if value.is_empty() {
            continue;
        }
        has_host |= name == "host";
        headers.push((encoded(name), value));
    }
    // An absolute-form request may carry its host in the target only.
    if !has_host
        && wanted("host")
        && let Some(authority) = parts.uri.authority()
    {
        headers.push((Cow::Borrowed("host"), encoded(authority.as_str())));
    }
    headers.sort_unstable_by(by_line(b':'));

    let mut out = String::with_capacity(64 + 2 * raw_query.len() + 64 * headers.len());
    out.push_str(parts.method.as_str());
    out.push('\n');
    out.push_str(&uri);
    out.push('\n');
    push_lines(&mut out, &query, '=', '&');
    out.push('\n');
    push_lines(&mut out, &headers, ':', '\n');
    out
}

/// `k{sep}v`, one per line, lines joined by `join`.
fn push_lines(out: &mut String, lines: &[Line<'_>], sep: char, join: char) {
    for (i, (k, v)) in lines.iter().enumerate() {
        if i > 0 {
            out.push(join);
        }
        out.push_str(k);
        out.push(sep);
        out.push_str(v);
    }
}

/// The `Authorization` value for a request signed at `timestamp` (`YYYY-MM-DDThh:mm:ssZ`).
pub fn sign(
    parts: &Parts,
    access_key: &str,
    secret_key: &str,
    timestamp: &str,
    expiration: i64,
    signed_headers: &[String],
) -> String {
    let canonical = canonical_request(parts, signed_headers, false);
    // The authorization value is the prefix, the signed headers and the signature: one
    // buffer, the prefix written first so that the signing key is found by it.
    let signed_len: usize = signed_headers.iter().map(|h| h.len() + 1).sum();
    let mut out = String::with_capacity(
        PREFIX.len() + access_key.len() + timestamp.len() + 24 + signed_len + 66,
    );
    push_prefix(&mut out, access_key, timestamp, expiration);
    let signature = signature(secret_key, &out, &canonical);
    out.push('/');
    for (i, h) in signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(h);
    }
    out.push('/');
    out.push_str(signature.as_str());
    out
}

fn query_authorization(parts: &Parts) -> Option<String> {
    parts.uri.query()?.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.eq_ignore_ascii_case("authorization")
            .then(|| String::from_utf8_lossy(&decode_bytes(v)).into_owned())
    })
}

/// Verifies a bce-auth-v1 signature in the `Authorization` header or the `authorization` query
/// parameter. `Ok(None)`: the request is anonymous. Returns the access key.
pub fn verify(
    parts: &Parts,
    secret_of: &dyn Fn(&str) -> Option<String>,
    now: Timestamp,
) -> Result<Option<String>, Error> {
    let header = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with(PREFIX));
    let (raw, query_form) = match (header, query_authorization(parts)) {
        (Some(h), _) => (h.to_owned(), false),
        (None, Some(q)) if q.starts_with(PREFIX) => (q, true),
        (None, _) if parts.headers.contains_key(http::header::AUTHORIZATION) => {
            return Err(Error::MalformedAuthorization {
                message: "The Authorization header is not a bce-auth-v1 authorization string"
                    .into(),
                region: None,
                in_query: false,
            });
        }
        _ => return Ok(None),
    };
    let auth = AuthString::parse(&raw)?;
    let signed_at =
        Timestamp::parse_rfc3339(&auth.timestamp).ok_or_else(|| Error::MalformedAuthorization {
            message: format!(
                "The authorization timestamp {} is not of the form 2015-04-27T08:23:49Z",
                auth.timestamp
            ),
            region: None,
            in_query: query_form,
        })?;
    if !(0..=MAX_EXPIRATION_SECS).contains(&auth.expiration) {
        return Err(Error::MalformedAuthorization {
            message: format!(
                "The expiration period must be between 0 and {MAX_EXPIRATION_SECS} seconds"
            ),
            region: None,
            in_query: query_form,
        });
    }
    // The host names the bucket (virtual-hosted) and the service: a signature that does not
    // cover it could be replayed against another bucket's host.
    if !auth.signed_headers.is_empty()
        && !auth
            .signed_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("host"))
    {
        return Err(Error::MalformedAuthorization {
            message: "The signed headers must include host".into(),
            region: None,
            in_query: query_form,
        });
    }
    let (t, n) = (signed_at.as_secs(), now.as_secs());
    if n > t.saturating_add(auth.expiration) || t > n + MAX_FUTURE_SECS {
        return Err(Error::RequestExpired {
            message: format!(
                "Request has expired. Timestamp date is {}, expiration period is {} seconds, server time is {}",
                auth.timestamp,
                auth.expiration,
                now.to_secs_z()
            ),
        });
    }
    let secret = secret_of(&auth.access_key).ok_or_else(|| Error::UnknownAccessKey {
        access_key: auth.access_key.clone(),
    })?;
    let canonical = canonical_request(parts, &auth.signed_headers, query_form);
    let expected = signature(&secret, &auth.prefix(), &canonical);
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(Some(auth.access_key))
    } else {
        Err(Error::SignatureDoesNotMatch(Box::new(SignatureMismatch {
            access_key: auth.access_key.clone(),
            string_to_sign: auth.prefix(),
            signature_provided: auth.signature,
            canonical_request: canonical,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The first, allocating implementation, kept as the reference the one above must match:
    /// each component decoded, encoded and formatted into a string of its own.
    fn canonical_request_reference(parts: &Parts, signed: &[String], query_form: bool) -> String {
        let path = parts.uri.path();
        let uri = if path.is_empty() {
            "/".to_owned()
        } else {
            uri_encode(&decode_bytes(path), true)
        };

        let mut query: Vec<String> = parts
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .filter(|(k, _)| {
                !String::from_utf8_lossy(&decode_bytes(k)).eq_ignore_ascii_case("authorization")
            })
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    uri_encode(&decode_bytes(k), false),
                    uri_encode(&decode_bytes(v), false)
                )
            })
            .collect();
        query.sort();

        let wanted = |name: &str| is_signed(name, signed, query_form);
        let mut headers: Vec<String> = Vec::new();
        let mut has_host = false;
        for (name, value) in &parts.headers {
            let name = name.as_str();
            let value = String::from_utf8_lossy(value.as_bytes());
            let value = value.trim();
            if value.is_empty() || !wanted(name) {
                continue;
            }
            has_host |= name == "host";
            headers.push(format!(
                "{}:{}",
                uri_encode(name.as_bytes(), false),
                uri_encode(value.as_bytes(), false)
            ));
        }
        // An absolute-form request may carry its host in the target only.
        if !has_host
            && wanted("host")
            && let Some(authority) = parts.uri.authority()
        {
            headers.push(format!(
                "host:{}",
                uri_encode(authority.as_str().as_bytes(), false)
            ));
        }
        headers.sort();
        format!(
            "{}\n{uri}\n{}\n{}",
            parts.method,
            query.join("&"),
            headers.join("\n")
        )
    }

    /// Query components and header values as callers write them: plain, escaped (right and
    /// wrong), with `+`, `/`, `=`, spaces, non-ASCII, and the `authorization` key.
    fn component() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                "[a-zA-Z0-9._~-]{1,6}",
                Just("%2F".to_owned()),
                Just("%2f".to_owned()),
                Just("%41".to_owned()),
                Just("%zz".to_owned()),
                Just("%".to_owned()),
                Just("%C3%A9".to_owned()),
                Just("%FF".to_owned()),
                Just("+".to_owned()),
                Just("/".to_owned()),
                Just("é".to_owned()),
                Just(" ".to_owned()),
                Just(":".to_owned()),
                Just("Authorization".to_owned()),
            ],
            0..4,
        )
        .prop_map(|parts| parts.concat())
    }

    fn header_name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("host".to_owned()),
            Just("content-type".to_owned()),
            Just("content-length".to_owned()),
            Just("content-md5".to_owned()),
            Just("x-bce-date".to_owned()),
            Just("x-bce-meta-a".to_owned()),
            Just("x-bce-meta-a-b".to_owned()),
            Just("x-other".to_owned()),
        ]
    }

    proptest! {
        #[test]
        fn canonical_request_matches_the_reference(
            method in prop_oneof![Just("GET"), Just("PUT"), Just("DELETE")],
            path in prop::collection::vec(component(), 0..4),
            query in prop::collection::vec((component(), prop::option::of(component())), 0..6),
            headers in prop::collection::vec((header_name(), component()), 0..6),
            signed in prop::collection::vec(header_name(), 0..3),
            absolute in any::<bool>(),
            query_form in any::<bool>(),
        ) {
            let path: String = path.iter().map(|p| format!("/{p}")).collect();
            let query: Vec<String> = query
                .iter()
                .map(|(k, v)| v.as_ref().map_or_else(|| k.clone(), |v| format!("{k}={v}")))
                .collect();
            let target = format!("{path}?{}", query.join("&"));
            let uri = if absolute { format!("http://b.bj.bcebos.com{target}") } else { target };
            // Only what `http` accepts as a request reaches the gateway.
            let Ok(uri) = uri.replace(' ', "%20").parse::<http::Uri>() else {
                return Ok(());
            };
            let mut b = http::Request::builder().method(method).uri(uri);
            for (k, v) in &headers {
                if let Ok(v) = http::HeaderValue::from_str(v) {
                    b = b.header(k.as_str(), v);
                }
            }
            let Ok(req) = b.body(()) else {
                return Ok(());
            };
            let parts = req.into_parts().0;
            prop_assert_eq!(
                canonical_request(&parts, &signed, query_form),
                canonical_request_reference(&parts, &signed, query_form)
            );
        }
    }

    const AK: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const SK: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const TS: &str = "2015-04-27T08:23:49Z";

    fn now() -> Timestamp {
        Timestamp::from_secs(1_430_123_029)
    }

    fn secret(ak: &str) -> Option<String> {
        (ak == AK).then(|| SK.to_owned())
    }

    fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap_or_default().into_parts().0
    }

    fn list_headers(host: &str) -> Vec<(&str, &str)> {
        vec![("host", host), ("content-length", "0"), ("x-bce-date", TS)]
    }

    const V1_URI: &str = "/?uploads&prefix=photos%2F2024%2F&delimiter=%2F&keyMarker=photos%2F2024%2Fa%20b.jpg&maxUploads=100";

    fn signed_with(mut parts: Parts, expiration: i64, headers: &[&str]) -> Parts {
        let headers: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
        let auth = sign(&parts, AK, SK, TS, expiration, &headers);
        parts.headers.insert(
            http::header::AUTHORIZATION,
            auth.parse().unwrap_or_else(|_| panic!("header")),
        );
        parts
    }

    #[test]
    fn a_signature_must_cover_the_host() {
        let p = || request("GET", "/?uploads", &list_headers("a.bj.bcebos.com"));
        assert!(matches!(
            verify(&signed_with(p(), 1800, &["x-bce-date"]), &secret, now()),
            Err(Error::MalformedAuthorization { .. })
        ));
        assert_eq!(
            verify(
                &signed_with(p(), 1800, &["host", "x-bce-date"]),
                &secret,
                now()
            ),
            Ok(Some(AK.to_owned()))
        );
        // The default signed-header set includes the host.
        assert_eq!(
            verify(&signed_with(p(), 1800, &[]), &secret, now()),
            Ok(Some(AK.to_owned()))
        );
    }

    #[test]
    fn a_signature_cannot_live_for_ever() {
        let p = || request("GET", "/?uploads", &list_headers("a.bj.bcebos.com"));
        assert!(matches!(
            verify(
                &signed_with(p(), MAX_EXPIRATION_SECS + 1, &[]),
                &secret,
                now()
            ),
            Err(Error::MalformedAuthorization { .. })
        ));
        assert!(verify(&signed_with(p(), MAX_EXPIRATION_SECS, &[]), &secret, now()).is_ok());
    }

    /// The six vectors of spec/bos.md §4.3, signed by the signer and accepted by the verifier.
    #[test]
    fn spec_vectors() {
        let v0 = request(
            "PUT",
            "/v1/test/myfolder/readme.txt?partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851",
            &[
                ("host", "bj.bcebos.com"),
                ("content-type", "text/plain"),
                ("content-length", "8"),
                ("content-md5", "NFzcPqhviddjRNnSOGo4rw=="),
                ("x-bce-date", TS),
            ],
        );
        let v1 = request("GET", V1_URI, &list_headers("mybucket.bj.bcebos.com"));
        let v2 = request(
            "GET",
            &V1_URI.replacen('/', "/mybucket", 1),
            &list_headers("127.0.0.1:8080"),
        );
        let v3 = request("GET", "/?uploads", &list_headers("mybucket.bj.bcebos.com"));
        let cases: [(&Parts, Vec<String>, &str); 5] = [
            (
                &v0,
                vec![],
                "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e",
            ),
            (
                &v1,
                vec![],
                "b6fa1a4a7739b2f6f2efa720812a832b9b61b38248825aeb28910547c9664a56",
            ),
            (
                &v2,
                vec![],
                "db86b69907c178badfb546da3d48531e618c4c1ca151135547a3c12fab41e426",
            ),
            (
                &v3,
                vec![],
                "9a3d8247693e23c5e884ec69304a99fedcd59bda6d941d1427a354d084611c35",
            ),
            (
                &v1,
                vec!["host".into(), "x-bce-date".into()],
                "1b6890fd3af5ff7e2027c7cc39826e122dd647db14a0c4369b211dec611759b1",
            ),
        ];
        for (parts, signed, sig) in cases {
            let auth = sign(parts, AK, SK, TS, 1800, &signed);
            assert_eq!(
                auth,
                format!("bce-auth-v1/{AK}/{TS}/1800/{}/{sig}", signed.join(";"))
            );
            let mut p = parts.clone();
            p.headers.insert(
                "authorization",
                http::HeaderValue::from_str(&auth).unwrap_or_else(|e| panic!("{e}")),
            );
            assert_eq!(verify(&p, &secret, now()), Ok(Some(AK.to_owned())));
        }
        assert_eq!(
            canonical_request(&v0, &[], false),
            "PUT\n/v1/test/myfolder/readme.txt\npartNumber=9&uploadId=a44cc9bab11cbd156984767aad637851\ncontent-length:8\ncontent-md5:NFzcPqhviddjRNnSOGo4rw%3D%3D\ncontent-type:text%2Fplain\nhost:bj.bcebos.com\nx-bce-date:2015-04-27T08%3A23%3A49Z"
        );
        // V5: a presigned GET, with only the host signed.
        let v5 = request(
            "GET",
            "/dir/a%20b.txt?authorization=bce-auth-v1%2Faaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%2F2015-04-27T08%3A23%3A49Z%2F3600%2F%2F7f9bad61d2c527ebd621e1aa2f7ff071abd9e5c02525f165cf8f48f1cd7162bc",
            &[
                ("host", "mybucket.bj.bcebos.com"),
                ("user-agent", "browser"),
                ("content-type", "ignored/for-presign"),
            ],
        );
        assert_eq!(
            canonical_request(&v5, &[], true),
            "GET\n/dir/a%20b.txt\n\nhost:mybucket.bj.bcebos.com"
        );
        assert_eq!(verify(&v5, &secret, now()), Ok(Some(AK.to_owned())));
    }

    #[test]
    fn cached_signing_keys_sign_as_a_fresh_derivation_does() {
        // Secrets and seconds interleaved, repeated, and more secrets than the cache keeps:
        // every signature is the one derived from scratch.
        let fresh = |secret: &str, prefix: &str, canonical: &str| {
            hmac_hex(
                hmac_hex(secret.as_bytes(), prefix.as_bytes()).as_bytes(),
                canonical.as_bytes(),
            )
        };
        for round in 0..3 {
            for n in 0..(CACHED_KEYS + 4) {
                for second in ["2015-04-27T08:23:49Z", "2015-04-27T08:23:50Z"] {
                    let secret = format!("secret-{}", n % (CACHED_KEYS / 2 + 2));
                    let prefix = format!("bce-auth-v1/{AK}/{second}/1800");
                    let canonical = format!("GET\n/b\n\nhost:h{round}{n}");
                    assert_eq!(
                        signature(&secret, &prefix, &canonical).as_str(),
                        fresh(&secret, &prefix, &canonical),
                        "{secret} {prefix}"
                    );
                }
            }
        }
    }

    fn signed(uri: &str, at: &str) -> Parts {
        let mut p = request("GET", uri, &list_headers("127.0.0.1:8080"));
        let auth = sign(&p, AK, SK, at, 1800, &[]);
        p.headers.insert(
            "authorization",
            http::HeaderValue::from_str(&auth).unwrap_or_else(|e| panic!("{e}")),
        );
        p
    }

    #[test]
    fn tampering_is_detected() {
        let mut p = signed("/mybucket?uploads=&prefix=a", TS);
        p.uri = "/mybucket?uploads=&prefix=b"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            verify(&p, &secret, now()),
            Err(Error::SignatureDoesNotMatch(_))
        ));
        let mut p = signed("/mybucket?uploads=", TS);
        p.headers
            .insert("x-bce-meta-sneaky", http::HeaderValue::from_static("1"));
        assert!(matches!(
            verify(&p, &secret, now()),
            Err(Error::SignatureDoesNotMatch(_))
        ));
        // A `+` is a literal plus in BOS, so it is not the same as a space.
        let mut p = signed("/mybucket?uploads=&prefix=a%20b", TS);
        p.uri = "/mybucket?uploads=&prefix=a+b"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            verify(&p, &secret, now()),
            Err(Error::SignatureDoesNotMatch(_))
        ));
    }

    #[test]
    fn expiry_skew_and_keys() {
        let p = signed("/mybucket?uploads=", TS);
        assert!(verify(&p, &secret, Timestamp::from_secs(now().as_secs() + 1800)).is_ok());
        assert!(matches!(
            verify(&p, &secret, Timestamp::from_secs(now().as_secs() + 1801)),
            Err(Error::RequestExpired { .. })
        ));
        assert!(matches!(
            verify(&p, &secret, Timestamp::from_secs(now().as_secs() - 901)),
            Err(Error::RequestExpired { .. })
        ));
        assert_eq!(
            verify(&p, &|_: &str| None, now()),
            Err(Error::UnknownAccessKey {
                access_key: AK.into()
            })
        );
    }

    #[test]
    fn malformed_and_anonymous() {
        for bad in [
            "bce-auth-v1/x",
            "bce-auth-v1/ak/ts/1800//sig",
            "Bearer token",
            "bce-auth-v1/ak/2015-04-27T08:23:49Z/abc//0000000000000000000000000000000000000000000000000000000000000000",
        ] {
            let mut p = request("GET", "/b?uploads=", &[("host", "h")]);
            p.headers.insert(
                "authorization",
                http::HeaderValue::from_str(bad).unwrap_or_else(|e| panic!("{e}")),
            );
            assert!(
                matches!(
                    verify(&p, &secret, now()),
                    Err(Error::MalformedAuthorization { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            verify(
                &request("GET", "/b?uploads=", &[("host", "h")]),
                &secret,
                now()
            ),
            Ok(None)
        );
    }
}
