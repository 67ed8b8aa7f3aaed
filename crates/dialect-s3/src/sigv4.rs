//! SigV4 verification, header and presigned forms (spec/s3.md §1.6).
//!
//! The canonical request is rebuilt by hand ([`crate::canonical`]): a verifier must
//! canonicalize exactly what the client sent, with the client's own `SignedHeaders` list, and
//! `aws-sigv4` is a signer that derives both from a request it builds itself.

use dragoman_model::{Error, SignatureMismatch, Timestamp};
use dragoman_wire::decode_bytes;
use http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::S3Config;
use crate::canonical::{ALGORITHM, EMPTY_SHA256, canonical_request, sign_string, string_to_sign};
const MAX_SKEW_SECS: i64 = 15 * 60;
const MAX_PRESIGN_SECS: i64 = 604_800;
const UNSIGNED: &str = "UNSIGNED-PAYLOAD";

/// An access key and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"****")
            .finish()
    }
}

/// The parts of a SigV4 authorization, wherever it travelled.
struct Claim<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
    amz_date: &'a str,
    in_query: bool,
}

fn malformed(message: impl Into<String>, in_query: bool) -> Error {
    Error::MalformedAuthorization {
        message: message.into(),
        region: None,
        in_query,
    }
}

fn header_str<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Splits `AK/YYYYMMDD/region/service/aws4_request`.
fn split_credential(cred: &str, in_query: bool) -> Result<[&str; 5], Error> {
    let mut parts = cred.split('/');
    let five = [(); 5].map(|()| parts.next());
    match (five, parts.next()) {
        ([Some(a), Some(b), Some(c), Some(d), Some(e)], None) => Ok([a, b, c, d, e]),
        _ => Err(malformed(
            "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
            in_query,
        )),
    }
}

fn header_claim<'a>(parts: &'a Parts, auth: &'a str) -> Result<Claim<'a>, Error> {
    let rest = auth.strip_prefix(ALGORITHM).unwrap_or_default();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for item in rest.split(',') {
        match item.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let missing = |what: &str| {
        malformed(
            format!(
                "The authorization header is malformed; the authorization component \"{what}\" is missing."
            ),
            false,
        )
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let [access_key, date, region, service, terminator] = split_credential(credential, false)?;
    let amz_date = header_str(parts, "x-amz-date").ok_or_else(|| Error::AccessDenied {
        message: "AWS authentication requires a valid Date or x-amz-date header".into(),
    })?;
    Ok(Claim {
        access_key,
        date,
        region,
        service,
        terminator,
        signed_headers: signed.ok_or_else(|| missing("SignedHeaders"))?,
        signature: signature.ok_or_else(|| missing("Signature"))?,
        amz_date,
        in_query: false,
    })
}

fn query_param(raw: &str, name: &str) -> Option<String> {
    raw.split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| String::from_utf8_lossy(&decode_bytes(v)).into_owned())
}

/// A signature that held, with what a chunked body's signatures chain from. Borrowed: the
/// caller keeps what it needs (a listing only the access key, a streamed upload the rest),
/// instead of five copies made on every request.
pub(crate) struct Verified<'v> {
    pub access_key: &'v str,
    /// The payload hash the signature covers (a hex digest or one of the literal forms).
    pub payload: &'v str,
    pub signing_key: &'v [u8; 32],
    pub amz_date: &'v str,
    /// `<date>/<region>/s3/aws4_request`.
    pub scope: &'v str,
    pub signature: &'v str,
}

/// Checks the scope, the clock and the key, then the signature; `keep` takes what it needs
/// of a signature that held.
fn check<T>(
    config: &S3Config,
    parts: &Parts,
    claim: &Claim<'_>,
    payload_hash: &str,
    secret_of: &dyn Fn(&str) -> Option<String>,
    now: Timestamp,
    keep: impl FnOnce(&Verified<'_>) -> T,
) -> Result<T, Error> {
    let q = claim.in_query;
    let t = Timestamp::parse_amz_date(claim.amz_date).ok_or_else(|| {
        if q {
            malformed(
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
                true,
            )
        } else {
            Error::AccessDenied {
                message: "AWS authentication requires a valid Date or x-amz-date header".into(),
            }
        }
    })?;
    if claim.date != claim.amz_date.get(..8).unwrap_or_default() {
        return Err(malformed(
            format!(
                "Invalid credential date \"{}\". This date is not the same as X-Amz-Date: \"{}\".",
                claim.date, claim.amz_date
            ),
            q,
        ));
    }
    if claim.region != config.region {
        return Err(Error::MalformedAuthorization {
            message: format!(
                "The authorization header is malformed; the region '{}' is wrong; expecting '{}'",
                claim.region, config.region
            ),
            region: Some(config.region.clone()),
            in_query: q,
        });
    }
    if claim.service != "s3" || claim.terminator != "aws4_request" {
        return Err(malformed(
            format!(
                "The authorization header is malformed; incorrect service \"{}\" or terminal \"{}\". This endpoint belongs to \"s3\".",
                claim.service, claim.terminator
            ),
            q,
        ));
    }
    let skew = now.as_secs() - t.as_secs();
    if skew.abs() > MAX_SKEW_SECS && !(q && skew > 0) {
        return Err(Error::RequestTimeTooSkewed {
            request_time: claim.amz_date.to_owned(),
            server_time: now,
        });
    }
    let secret = secret_of(claim.access_key).ok_or_else(|| Error::UnknownAccessKey {
        access_key: claim.access_key.to_owned(),
    })?;

    let signed: Vec<&str> = claim
        .signed_headers
        .split(';')
        .filter(|h| !h.is_empty())
        .collect();
    if !signed.contains(&"host") {
        return Err(Error::AccessDenied {
            message: "The host header must be signed".into(),
        });
    }
    if let Some(unsigned) = parts
        .headers
        .keys()
        .map(http::HeaderName::as_str)
        .find(|k| k.starts_with("x-amz-") && !signed.contains(k))
    {
        return Err(Error::AccessDenied {
            message: format!(
                "There were headers present in the request which were not signed: {unsigned}"
            ),
        });
    }

    let canonical = canonical_request(parts, &signed, claim.signed_headers, payload_hash, q);
    let scope = [claim.date, "/", claim.region, "/s3/aws4_request"].concat();
    let string_to_sign = string_to_sign(claim.amz_date, &scope, &canonical);
    let (key, expected) = sign_string(&secret, claim.date, &config.region, &string_to_sign);
    let mut hex = const_hex::Buffer::<32>::new();
    if bool::from(
        hex.format(&expected)
            .as_bytes()
            .ct_eq(claim.signature.as_bytes()),
    ) {
        if q {
            check_presign_window(parts, t, now)?;
        }
        Ok(keep(&Verified {
            access_key: claim.access_key,
            payload: payload_hash,
            signing_key: &key,
            amz_date: claim.amz_date,
            scope: &scope,
            signature: claim.signature,
        }))
    } else {
        Err(Error::SignatureDoesNotMatch(Box::new(SignatureMismatch {
            access_key: claim.access_key.to_owned(),
            string_to_sign,
            signature_provided: claim.signature.to_owned(),
            canonical_request: canonical,
        })))
    }
}

fn check_presign_window(parts: &Parts, t: Timestamp, now: Timestamp) -> Result<(), Error> {
    let raw = parts.uri.query().unwrap_or_default();
    let expires: i64 = query_param(raw, "X-Amz-Expires")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| malformed("X-Amz-Expires should be a number", true))?;
    if expires < 0 {
        return Err(malformed("X-Amz-Expires must be non-negative", true));
    }
    if expires > MAX_PRESIGN_SECS {
        return Err(malformed(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
            true,
        ));
    }
    if now.as_secs() > t.as_secs() + expires {
        return Err(Error::RequestExpired {
            message: "Request has expired".into(),
        });
    }
    Ok(())
}

/// Verifies the request's SigV4 signature. `Ok(None)`: the request is anonymous.
pub fn verify(
    config: &S3Config,
    parts: &Parts,
    body: &[u8],
    secret_of: &dyn Fn(&str) -> Option<String>,
    now: Timestamp,
) -> Result<Option<String>, Error> {
    let body_matches = |claimed: &str| {
        if !is_hex_digest(claimed) {
            return Ok(());
        }
        // Most verified requests are GETs: the digest of no body is a constant. Hex on the
        // stack; a String only for the mismatch error.
        let mut hex = const_hex::Buffer::<32>::new();
        let computed: &str = if body.is_empty() {
            EMPTY_SHA256
        } else {
            hex.format(&Sha256::digest(body).into())
        };
        if computed.eq_ignore_ascii_case(claimed) {
            Ok(())
        } else {
            Err(Error::ContentHashMismatch {
                claimed: claimed.to_owned(),
                computed: computed.to_owned(),
            })
        }
    };
    verify_head(config, parts, secret_of, now, &body_matches, |v| {
        v.access_key.to_owned()
    })
}

/// Whether a payload hash is a SHA-256 digest in hex (not one of the literal forms).
pub(crate) fn is_hex_digest(claimed: &str) -> bool {
    claimed.len() == 64 && claimed.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Verifies the signature over the request's head. `payload` judges the payload hash the
/// request claims before the signature is checked (a buffered body is compared with it; a
/// streamed one must claim a form that can be checked as it passes).
pub(crate) fn verify_head<T>(
    config: &S3Config,
    parts: &Parts,
    secret_of: &dyn Fn(&str) -> Option<String>,
    now: Timestamp,
    payload: &dyn Fn(&str) -> Result<(), Error>,
    keep: impl FnOnce(&Verified<'_>) -> T,
) -> Result<Option<T>, Error> {
    if let Some(auth) = parts.headers.get(http::header::AUTHORIZATION) {
        let auth = auth
            .to_str()
            .map_err(|_| malformed("The authorization header is malformed.", false))?;
        if auth.starts_with("AWS ") {
            return Err(Error::InvalidRequest {
                message: "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.".into(),
            });
        }
        if !auth.starts_with(ALGORITHM) {
            return Err(malformed(
                "The authorization header is malformed; the authorization type is not AWS4-HMAC-SHA256.",
                false,
            ));
        }
        let claim = header_claim(parts, auth)?;
        let payload_hash =
            header_str(parts, "x-amz-content-sha256").ok_or_else(|| Error::InvalidRequest {
                message: "Missing required header for this request: x-amz-content-sha256".into(),
            })?;
        payload(payload_hash)?;
        return check(config, parts, &claim, payload_hash, secret_of, now, keep).map(Some);
    }
    let raw = parts.uri.query().unwrap_or_default();
    let has = |name: &str| raw.split('&').any(|p| p.split('=').next() == Some(name));
    if has("AWSAccessKeyId") && has("Signature") {
        return Err(Error::InvalidRequest {
            message: "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.".into(),
        });
    }
    if !has("X-Amz-Signature") && !has("X-Amz-Algorithm") {
        return Ok(None);
    }
    let missing = || {
        malformed(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            true,
        )
    };
    let p = |name| query_param(raw, name);
    let (algorithm, credential, amz_date, signed, signature) = (
        p("X-Amz-Algorithm").ok_or_else(missing)?,
        p("X-Amz-Credential").ok_or_else(missing)?,
        p("X-Amz-Date").ok_or_else(missing)?,
        p("X-Amz-SignedHeaders").ok_or_else(missing)?,
        p("X-Amz-Signature").ok_or_else(missing)?,
    );
    p("X-Amz-Expires").ok_or_else(missing)?;
    if algorithm != ALGORITHM {
        return Err(malformed(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
            true,
        ));
    }
    let [access_key, date, region, service, terminator] = split_credential(&credential, true)?;
    let claim = Claim {
        access_key,
        date,
        region,
        service,
        terminator,
        signed_headers: &signed,
        signature: &signature,
        amz_date: &amz_date,
        in_query: true,
    };
    let payload_hash = header_str(parts, "x-amz-content-sha256").unwrap_or(UNSIGNED);
    payload(payload_hash)?;
    check(config, parts, &claim, payload_hash, secret_of, now, keep).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "AKIAIOSFODNN7EXAMPLE";
    const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn now() -> Timestamp {
        Timestamp::parse_amz_date("20260102T030405Z").unwrap_or_default()
    }

    fn secret(ak: &str) -> Option<String> {
        (ak == AK).then(|| SK.to_owned())
    }

    fn config() -> S3Config {
        S3Config {
            region: "us-east-1".into(),
            domains: vec![],
        }
    }

    fn vector1(uri: &str, sig: &str) -> Parts {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={AK}/20260102/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={sig}"
        );
        let (p, ()) = http::Request::builder()
            .uri(uri)
            .header("host", "127.0.0.1:9000")
            .header("x-amz-content-sha256", EMPTY_SHA)
            .header("x-amz-date", "20260102T030405Z")
            .header("authorization", auth)
            .body(())
            .unwrap_or_default()
            .into_parts();
        p
    }

    const V1_URI: &str = "/mpu-test?uploads&prefix=a%20b%2F&max-uploads=5";
    const V1_SIG: &str = "8421169b76065ff42a25e26d8836346736ecc1f1805c55e9ee9bda73491593ed";
    const V2_URI: &str = "/mpu-test?uploads&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260102%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=acda434a283b7ddb69b16e2e0c30991982e33cb295660ef5e16ed76acb9fffe2";

    fn presigned(uri: &str) -> Parts {
        let (p, ()) = http::Request::builder()
            .uri(uri)
            .header("host", "127.0.0.1:9000")
            .body(())
            .unwrap_or_default()
            .into_parts();
        p
    }

    #[test]
    fn spec_vector_1_header_auth() {
        let p = vector1(V1_URI, V1_SIG);
        let canonical = canonical_request(
            &p,
            &["host", "x-amz-content-sha256", "x-amz-date"],
            "host;x-amz-content-sha256;x-amz-date",
            EMPTY_SHA,
            false,
        );
        assert_eq!(
            const_hex::encode(Sha256::digest(canonical.as_bytes())),
            "454f6bf13bc5b639a1524a20e1d49c1dacf8244de48dc7839c3ed63f4de283dc"
        );
        assert_eq!(
            verify(&config(), &p, b"", &secret, now()),
            Ok(Some(AK.to_owned()))
        );
    }

    #[test]
    fn spec_vector_2_presigned() {
        assert_eq!(
            verify(&config(), &presigned(V2_URI), b"", &secret, now()),
            Ok(Some(AK.to_owned()))
        );
        let later = Timestamp::from_secs(now().as_secs() + 299);
        assert_eq!(
            verify(&config(), &presigned(V2_URI), b"", &secret, later),
            Ok(Some(AK.to_owned()))
        );
    }

    #[test]
    fn tampered_requests_fail() {
        let tampered = vector1("/mpu-test?uploads&prefix=a%20c%2F&max-uploads=5", V1_SIG);
        assert!(matches!(
            verify(&config(), &tampered, b"", &secret, now()),
            Err(Error::SignatureDoesNotMatch(_))
        ));
        let wrong_path = vector1("/other?uploads&prefix=a%20b%2F&max-uploads=5", V1_SIG);
        assert!(matches!(
            verify(&config(), &wrong_path, b"", &secret, now()),
            Err(Error::SignatureDoesNotMatch(_))
        ));
        let bad_sig = vector1(V1_URI, &V1_SIG.replace('8', "9"));
        match verify(&config(), &bad_sig, b"", &secret, now()) {
            Err(Error::SignatureDoesNotMatch(m)) => {
                assert!(
                    m.canonical_request
                        .starts_with("GET\n/mpu-test\nmax-uploads=5&prefix=a%20b%2F&uploads=\n")
                );
                assert_eq!(m.access_key, AK);
            }
            other => panic!("{other:?}"),
        }
        let presigned_tampered =
            presigned(&V2_URI.replace("X-Amz-Expires=300", "X-Amz-Expires=3000"));
        assert!(matches!(
            verify(&config(), &presigned_tampered, b"", &secret, now()),
            Err(Error::SignatureDoesNotMatch(_))
        ));
    }

    #[test]
    fn unknown_key_skew_and_expiry() {
        let other_key = |_: &str| None;
        assert_eq!(
            verify(&config(), &vector1(V1_URI, V1_SIG), b"", &other_key, now()),
            Err(Error::UnknownAccessKey {
                access_key: AK.into()
            })
        );
        let late = Timestamp::from_secs(now().as_secs() + 15 * 60 + 1);
        assert!(matches!(
            verify(&config(), &vector1(V1_URI, V1_SIG), b"", &secret, late),
            Err(Error::RequestTimeTooSkewed { .. })
        ));
        let early = Timestamp::from_secs(now().as_secs() - 15 * 60 - 1);
        assert!(matches!(
            verify(&config(), &vector1(V1_URI, V1_SIG), b"", &secret, early),
            Err(Error::RequestTimeTooSkewed { .. })
        ));
        let ok_skew = Timestamp::from_secs(now().as_secs() + 15 * 60);
        assert!(verify(&config(), &vector1(V1_URI, V1_SIG), b"", &secret, ok_skew).is_ok());
        let expired = Timestamp::from_secs(now().as_secs() + 301);
        assert!(matches!(
            verify(&config(), &presigned(V2_URI), b"", &secret, expired),
            Err(Error::RequestExpired { .. })
        ));
    }

    #[test]
    fn wrong_region_and_malformed_headers() {
        let other = S3Config {
            region: "eu-west-1".into(),
            domains: vec![],
        };
        match verify(&other, &vector1(V1_URI, V1_SIG), b"", &secret, now()) {
            Err(Error::MalformedAuthorization {
                region,
                in_query: false,
                ..
            }) => assert_eq!(region.as_deref(), Some("eu-west-1")),
            r => panic!("{r:?}"),
        }
        for garbage in [
            "Bearer x",
            "AWS4-HMAC-SHA256 garbage",
            "AWS4-HMAC-SHA256 Credential=a/b, Signature=x, SignedHeaders=host",
            "AWS4-HMAC-SHA256 \u{fe}\u{ff}",
        ] {
            let mut p = vector1(V1_URI, V1_SIG);
            let v =
                http::HeaderValue::from_bytes(garbage.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            p.headers.insert("authorization", v);
            assert!(
                matches!(
                    verify(&config(), &p, b"", &secret, now()),
                    Err(Error::MalformedAuthorization { .. })
                ),
                "{garbage}"
            );
        }
        let mut v2 = vector1(V1_URI, V1_SIG);
        v2.headers.insert(
            "authorization",
            http::HeaderValue::from_static("AWS AKIA:sig"),
        );
        assert!(matches!(
            verify(&config(), &v2, b"", &secret, now()),
            Err(Error::InvalidRequest { .. })
        ));
    }

    #[test]
    fn body_hash_and_unsigned_headers_are_checked() {
        assert!(matches!(
            verify(&config(), &vector1(V1_URI, V1_SIG), b"body", &secret, now()),
            Err(Error::ContentHashMismatch { .. })
        ));
        let mut p = vector1(V1_URI, V1_SIG);
        p.headers
            .insert("x-amz-meta-sneaky", http::HeaderValue::from_static("1"));
        assert!(matches!(
            verify(&config(), &p, b"", &secret, now()),
            Err(Error::AccessDenied { .. })
        ));
        let mut p = vector1(V1_URI, V1_SIG);
        p.headers.remove("x-amz-content-sha256");
        assert!(matches!(
            verify(&config(), &p, b"", &secret, now()),
            Err(Error::InvalidRequest { .. })
        ));
        // An empty body (its digest is not computed) against a claim of some other body.
        let mut p = vector1(V1_URI, V1_SIG);
        let other = const_hex::encode(Sha256::digest(b"body"));
        p.headers.insert(
            "x-amz-content-sha256",
            http::HeaderValue::from_str(&other).unwrap_or_else(|e| panic!("{e}")),
        );
        match verify(&config(), &p, b"", &secret, now()) {
            Err(Error::ContentHashMismatch { claimed, computed }) => {
                assert_eq!((claimed, computed.as_str()), (other, EMPTY_SHA));
            }
            other => panic!("{:?}", other.map_err(|e| e.to_string())),
        }
    }

    #[test]
    fn presign_limits() {
        let week = presigned(&V2_URI.replace("X-Amz-Expires=300", "X-Amz-Expires=604801"));
        // The signature no longer matches either, but the bound is what a client must learn.
        assert!(verify(&config(), &week, b"", &secret, now()).is_err());
        let partial =
            presigned("/mpu-test?uploads&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc");
        assert!(matches!(
            verify(&config(), &partial, b"", &secret, now()),
            Err(Error::MalformedAuthorization { in_query: true, .. })
        ));
        assert_eq!(
            verify(
                &config(),
                &presigned("/mpu-test?uploads"),
                b"",
                &secret,
                now()
            ),
            Ok(None)
        );
    }
}
