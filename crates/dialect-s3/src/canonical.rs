//! SigV4's canonical request, signing key and signature (AWS, "Create a signed AWS API
//! request"), shared by the verifier (requests as callers sent them) and the signer of the
//! requests dragoman builds itself.
//!
//! Written for the hot path: the canonical request goes into one buffer, components that
//! are already in canonical form (nearly all of them) are copied rather than decoded and
//! encoded again, and the signing key, which changes once a day per secret and region, is
//! derived once per thread and day instead of on every request (four HMACs). `aws-sigv4`
//! remains the signer of forwarded requests, whose headers are the caller's, and the
//! reference `own_requests_are_signed_as_aws_sigv4_signs_them` compares this one with.

use std::borrow::Cow;
use std::cell::RefCell;

use dragoman_model::{Error, Timestamp};
use dragoman_wire::{canonical_component, decode_bytes, unreserved, uri_encode};
use hmac::{Hmac, Mac};
use http::request::Parts;
use sha2::{Digest, Sha256};

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The hex SHA-256 of no bytes: an empty body's payload hash, and a part of every chunk's
/// string to sign.
pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A query component as sent (`+` is a space), in canonical form.
fn canonical_query_part(raw: &str) -> Cow<'_, str> {
    if raw.bytes().all(unreserved) {
        Cow::Borrowed(raw)
    } else {
        let spaced = raw.replace('+', " ");
        Cow::Owned(uri_encode(&decode_bytes(&spaced), false))
    }
}

/// A header value trimmed, with runs of spaces folded into one.
fn canonical_value(v: &[u8]) -> Cow<'_, str> {
    let plain = v.first() != Some(&b' ')
        && v.last() != Some(&b' ')
        && v.iter().all(|&b| (0x21..0x7f).contains(&b) || b == b' ')
        && !v.windows(2).any(|w| w == b"  ");
    match std::str::from_utf8(v) {
        Ok(s) if plain => Cow::Borrowed(s),
        _ => Cow::Owned(
            String::from_utf8_lossy(v)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        ),
    }
}

/// The canonical request of `parts` with the headers `signed` (lower case, in order), their
/// `SignedHeaders` line as given, and the payload hash. `presigned`: the query's own
/// `X-Amz-Signature` is not part of it.
pub(crate) fn canonical_request(
    parts: &Parts,
    signed: &[&str],
    signed_line: &str,
    payload_hash: &str,
    presigned: bool,
) -> String {
    let query = parts.uri.query().unwrap_or_default();
    let mut out = String::with_capacity(256 + 2 * query.len());
    out.push_str(parts.method.as_str());
    out.push('\n');
    let path = parts.uri.path();
    out.push_str(&canonical_component(
        if path.is_empty() { "/" } else { path },
        true,
    ));
    out.push('\n');

    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(k, _)| !(presigned && *k == "X-Amz-Signature"))
        .map(|(k, v)| (canonical_query_part(k), canonical_query_part(v)))
        .collect();
    pairs.sort_unstable();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out.push('\n');

    for name in signed {
        out.push_str(name);
        out.push(':');
        if *name == "host" && !parts.headers.contains_key(http::header::HOST) {
            if let Some(a) = parts.uri.authority() {
                out.push_str(a.as_str());
            }
        } else {
            for (i, v) in parts.headers.get_all(*name).iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&canonical_value(v.as_bytes()));
            }
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(signed_line);
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex SHA-256 of the canonical request>`.
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical: &str) -> String {
    let digest = Sha256::digest(canonical.as_bytes());
    let mut out = String::with_capacity(ALGORITHM.len() + amz_date.len() + scope.len() + 67);
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(amz_date);
    out.push('\n');
    out.push_str(scope);
    out.push('\n');
    // Hex on the stack: the string is sized for it already.
    out.push_str(const_hex::Buffer::<32>::new().format(&digest.into()));
    out
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

struct CachedKey {
    secret: Box<str>,
    date: Box<str>,
    region: Box<str>,
    key: [u8; 32],
    /// HMAC keyed with `key`, its key schedule (two SHA-256 blocks) done: cloned per
    /// signature instead of redone.
    mac: Hmac<Sha256>,
}

thread_local! {
    /// Keys this thread derived: a gateway signs with a handful of secrets and regions.
    static KEYS: RefCell<Vec<CachedKey>> = const { RefCell::new(Vec::new()) };
}

/// How many keys a thread keeps; past that, the oldest goes.
const CACHED_KEYS: usize = 16;

/// `f` of the cached signing key of `secret` for `date` (`YYYYMMDD`), `region` and S3,
/// derived first if this thread has not yet.
fn with_key<R>(secret: &str, date: &str, region: &str, f: impl FnOnce(&CachedKey) -> R) -> R {
    KEYS.with_borrow_mut(|keys| {
        if let Some(k) = keys
            .iter()
            .find(|k| &*k.date == date && &*k.region == region && &*k.secret == secret)
        {
            return f(k);
        }
        let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
        let k_region = hmac(&k_date, region.as_bytes());
        let k_service = hmac(&k_region, b"s3");
        let key = hmac(&k_service, b"aws4_request");
        if keys.len() == CACHED_KEYS {
            keys.remove(0);
        }
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable!());
        let entry = CachedKey {
            secret: secret.into(),
            date: date.into(),
            region: region.into(),
            key,
            mac,
        };
        let out = f(&entry);
        keys.push(entry);
        out
    })
}

/// The SigV4 signing key of `secret` for `date` (`YYYYMMDD`), `region` and S3.
#[cfg(test)]
pub(crate) fn signing_key(secret: &str, date: &str, region: &str) -> [u8; 32] {
    with_key(secret, date, region, |k| k.key)
}

/// The signing key of `secret`, `date` and `region`, and the hex signature of
/// `string_to_sign` under it.
pub(crate) fn sign_string(
    secret: &str,
    date: &str,
    region: &str,
    string_to_sign: &str,
) -> ([u8; 32], [u8; 32]) {
    let (key, mut mac) = with_key(secret, date, region, |k| (k.key, k.mac.clone()));
    mac.update(string_to_sign.as_bytes());
    (key, mac.finalize().into_bytes().into())
}

/// Headers `aws-sigv4` leaves out of a signature by default, left out here too.
const UNSIGNED_HEADERS: [&str; 4] = [
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "transfer-encoding",
];

/// Signs a request dragoman built itself (a listing, a ListParts, an abort...), with every
/// header it carries, `host`, `x-amz-date` and `x-amz-content-sha256` (`payload_hash`).
pub(crate) fn sign_own(
    parts: &mut Parts,
    payload_hash: &str,
    region: &str,
    access_key: &str,
    secret_key: &str,
    now: Timestamp,
) -> Result<(), Error> {
    let failed = |e: http::header::InvalidHeaderValue| {
        Error::internal(format!("cannot sign an S3 request: {e}"))
    };
    // Header names are constants, the date and the signature's hex are on the stack, and the
    // authorization value is handed to its header as written: this runs for every request
    // dragoman sends an S3 backend, and was a dozen allocations.
    let amz_date = now.amz_date();
    let amz_date = amz_date.as_str();
    let date = amz_date.get(..8).unwrap_or_default();
    parts.headers.insert(
        X_AMZ_DATE,
        http::HeaderValue::from_str(amz_date).map_err(failed)?,
    );
    let payload_value = match payload_hash {
        EMPTY_SHA256 => http::HeaderValue::from_static(EMPTY_SHA256),
        other => http::HeaderValue::from_str(other).map_err(failed)?,
    };
    parts.headers.insert(X_AMZ_CONTENT_SHA256, payload_value);
    // Values that are not visible ASCII are left unsigned, as aws-sigv4 leaves them.
    let mut signed: Vec<&str> = parts
        .headers
        .iter()
        .filter(|(k, v)| !UNSIGNED_HEADERS.contains(&k.as_str()) && v.to_str().is_ok())
        .map(|(k, _)| k.as_str())
        .collect();
    signed.push("host");
    signed.sort_unstable();
    signed.dedup();
    let signed_line = signed.join(";");
    let canonical = canonical_request(parts, &signed, &signed_line, payload_hash, false);
    // `concat` rather than `format!`: one measured copy instead of the formatting machinery,
    // on every request dragoman signs.
    let scope = [date, "/", region, "/s3/aws4_request"].concat();
    let (_, signature) = sign_string(
        secret_key,
        date,
        region,
        &string_to_sign(amz_date, &scope, &canonical),
    );
    let mut hex = const_hex::Buffer::<32>::new();
    // `concat` sizes its buffer exactly, so the header takes it without a copy.
    let authorization = [
        ALGORITHM,
        " Credential=",
        access_key,
        "/",
        &scope,
        ", SignedHeaders=",
        &signed_line,
        ", Signature=",
        hex.format(&signature),
    ]
    .concat();
    parts.headers.insert(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_maybe_shared(bytes::Bytes::from(authorization)).map_err(failed)?,
    );
    Ok(())
}

const X_AMZ_DATE: http::HeaderName = http::HeaderName::from_static("x-amz-date");
const X_AMZ_CONTENT_SHA256: http::HeaderName =
    http::HeaderName::from_static("x-amz-content-sha256");

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests of the shapes dragoman builds, signed here and by `aws-sigv4` (through
    /// `client::sign_parts`, which forwarding uses): the same headers, to the byte.
    #[test]
    fn own_requests_are_signed_as_aws_sigv4_signs_them() {
        let now = Timestamp::from_secs(1_767_323_045);
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let requests = [
            (
                "GET",
                "http://127.0.0.1:4566/mpu-test?uploads&max-uploads=5&prefix=a%20b%2F&key-marker=k%20%C3%BC&delimiter=%2F",
                vec![],
            ),
            (
                "GET",
                "http://mpu-test.s3.local:9000/?uploads",
                vec![("host", "mpu-test.s3.local:9000")],
            ),
            (
                "DELETE",
                "http://127.0.0.1:4566/b/logs/a%20b.bin?uploadId=u~1",
                vec![],
            ),
            (
                "GET",
                "http://127.0.0.1:4566/b/k?uploadId=u1&part-number-marker=3&max-parts=1000",
                vec![("user-agent", "dragoman/0.1"), ("accept", "*/*")],
            ),
            (
                "POST",
                "http://127.0.0.1:4566/b/k?uploads",
                vec![
                    ("content-type", "application/octet-stream"),
                    ("x-amz-storage-class", "STANDARD_IA"),
                    ("x-amz-meta-n", "a  b "),
                ],
            ),
            ("HEAD", "https://s3.eu-west-1.amazonaws.com/b", vec![]),
        ];
        for (method, uri, headers) in requests {
            let mut builder = http::Request::builder().method(method).uri(uri);
            for (k, v) in &headers {
                builder = builder.header(*k, *v);
            }
            let (parts, ()) = builder
                .body(())
                .unwrap_or_else(|e| panic!("{e}"))
                .into_parts();
            let (mut ours, mut theirs) = (parts.clone(), parts);
            sign_own(&mut ours, sha, "eu-west-1", "AKID", "SECRET/KEY", now)
                .unwrap_or_else(|e| panic!("{e}"));
            crate::client::sign_parts(&mut theirs, sha, "eu-west-1", "AKID", "SECRET/KEY", now)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(ours.headers, theirs.headers, "{method} {uri}");
        }
    }

    #[test]
    fn signing_key_matches_aws_sigv4_and_is_cached_per_date_and_region() {
        use std::time::{Duration, UNIX_EPOCH};
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        // 2015-08-30, AWS's documented example date.
        let when = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let theirs = aws_sigv4::sign::v4::generate_signing_key(secret, when, "us-east-1", "s3");
        assert_eq!(
            &signing_key(secret, "20150830", "us-east-1")[..],
            theirs.as_ref()
        );
        // From the cache, and distinct per region, date and secret.
        assert_eq!(
            &signing_key(secret, "20150830", "us-east-1")[..],
            theirs.as_ref()
        );
        assert_ne!(
            signing_key(secret, "20150830", "eu-west-1"),
            signing_key(secret, "20150830", "us-east-1")
        );
        assert_ne!(
            signing_key(secret, "20150831", "us-east-1"),
            signing_key(secret, "20150830", "us-east-1")
        );
        assert_ne!(
            signing_key("other", "20150830", "us-east-1"),
            signing_key(secret, "20150830", "us-east-1")
        );
        for i in 0..40 {
            signing_key(secret, &format!("2015{:04}", 101 + i), "us-east-1");
        }
        assert_eq!(
            &signing_key(secret, "20150830", "us-east-1")[..],
            theirs.as_ref()
        );
    }

    #[test]
    fn signatures_from_the_cached_hmac_match_aws_sigv4() {
        use std::time::{Duration, UNIX_EPOCH};
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let when = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let key = aws_sigv4::sign::v4::generate_signing_key(secret, when, "us-east-1", "s3");
        // Twice each, interleaved: the second comes from a cached HMAC that earlier
        // signatures must have left unchanged.
        let texts = [
            "",
            "AWS4-HMAC-SHA256\n20150830T123600Z\nscope\nabc",
            &"x".repeat(200),
        ];
        for _ in 0..2 {
            for text in texts {
                let theirs =
                    aws_sigv4::sign::v4::calculate_signature(key.as_ref(), text.as_bytes());
                let (ours_key, ours) = sign_string(secret, "20150830", "us-east-1", text);
                assert_eq!(const_hex::encode(ours), theirs, "{text:?}");
                assert_eq!(&ours_key[..], key.as_ref());
            }
        }
    }

    #[test]
    fn values_and_components_in_canonical_form_are_borrowed() {
        assert!(matches!(
            canonical_component("/bucket/a-b_c.d~e", true),
            Cow::Borrowed(_)
        ));
        assert_eq!(canonical_component("/b/a%2fb c%7e", true), "/b/a/b%20c~");
        assert!(matches!(
            canonical_query_part("max-uploads"),
            Cow::Borrowed(_)
        ));
        assert_eq!(canonical_query_part("a+b%2f"), "a%20b%2F");
        assert!(matches!(canonical_value(b"a b"), Cow::Borrowed("a b")));
        assert_eq!(canonical_value(b"  a   b  "), "a b");
        assert_eq!(canonical_value(b"a\tb"), "a b");
    }
}
