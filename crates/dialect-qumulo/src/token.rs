//! dragoman's own tokens: sessions issued at login and `after` paging tokens.
//!
//! `v1.<payload>.<mac>`: base64url (no padding) of a kind byte and a JSON payload, and of the
//! HMAC-SHA256 of everything before the second dot under a key from the configuration, so every
//! replica sharing the key accepts every token and nobody can forge one. URL-safe by design,
//! and the version prefix lets a later format live beside this one.
//!
//! Written by hand (a few lines over `hmac`): a JWT library would bring a second format,
//! algorithm negotiation and claims machinery that neither token needs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const VERSION: &str = "v1";

/// What a token is for; a token of one kind never passes as another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Session = b's' as isize,
    Paging = b'p' as isize,
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not of the `v1.<payload>.<mac>` shape.
    Malformed,
    /// Another version than this dragoman writes.
    Version,
    /// The MAC does not match: altered, or signed under another key.
    Forged,
    /// A valid token of another kind.
    WrongKind,
}

fn mac(key: &[u8], signed: &str) -> Vec<u8> {
    // HMAC takes keys of any length, so this never fails; an empty MAC would only ever mismatch.
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    m.update(signed.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// Seals `payload` as a token of `kind`.
pub fn seal(key: &[u8], kind: Kind, payload: &[u8]) -> String {
    let mut body = Vec::with_capacity(payload.len() + 1);
    body.push(kind as u8);
    body.extend_from_slice(payload);
    let signed = format!("{VERSION}.{}", B64.encode(body));
    let tag = B64.encode(mac(key, &signed));
    format!("{signed}.{tag}")
}

/// Opens a token of `kind`, returning its payload.
pub fn open(key: &[u8], kind: Kind, token: &str) -> Result<Vec<u8>, TokenError> {
    let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let (version, body) = signed.split_once('.').ok_or(TokenError::Malformed)?;
    if version != VERSION {
        return Err(if version.starts_with('v') {
            TokenError::Version
        } else {
            TokenError::Malformed
        });
    }
    let tag = B64.decode(tag).map_err(|_| TokenError::Malformed)?;
    if !bool::from(mac(key, signed).ct_eq(&tag)) {
        return Err(TokenError::Forged);
    }
    let body = B64.decode(body).map_err(|_| TokenError::Malformed)?;
    match body.split_first() {
        Some((&k, payload)) if k == kind as u8 => Ok(payload.to_vec()),
        Some(_) => Err(TokenError::WrongKind),
        None => Err(TokenError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a key of the gateway configuration";

    #[test]
    fn round_trip_and_url_safety() {
        let t = seal(KEY, Kind::Paging, br#"{"b":"bucket","c":"a/b?c=d&e"}"#);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{t}"
        );
        assert!(t.starts_with("v1."));
        assert_eq!(
            open(KEY, Kind::Paging, &t).as_deref(),
            Ok(&br#"{"b":"bucket","c":"a/b?c=d&e"}"#[..])
        );
    }

    #[test]
    fn forgery_kind_version_and_garbage_are_refused() {
        let t = seal(KEY, Kind::Paging, b"payload");
        assert_eq!(
            open(b"another key", Kind::Paging, &t),
            Err(TokenError::Forged)
        );
        assert_eq!(open(KEY, Kind::Session, &t), Err(TokenError::WrongKind));
        let (signed, tag) = t.rsplit_once('.').unwrap_or_default();
        let (_, body) = signed.split_once('.').unwrap_or_default();
        let mut altered = B64.decode(body).unwrap_or_default();
        if let Some(last) = altered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(
            open(
                KEY,
                Kind::Paging,
                &format!("v1.{}.{tag}", B64.encode(altered))
            ),
            Err(TokenError::Forged)
        );
        assert_eq!(
            open(KEY, Kind::Paging, &t.replacen("v1.", "v2.", 1)),
            Err(TokenError::Version)
        );
        for garbage in [
            "",
            "v1",
            "v1.abc",
            "x.y.z",
            "v1.!!!.???",
            "v1..",
            "0000000000000002",
        ] {
            assert!(open(KEY, Kind::Paging, garbage).is_err(), "{garbage}");
        }
    }
}
