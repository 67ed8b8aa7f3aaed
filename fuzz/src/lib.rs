//! What the fuzz targets share: a request read from raw bytes, a fixed directory of callers
//! and a fixed clock, and the drive of one dialect through everything a caller reaches.

use bytes::Bytes;
use dragoman_dialect::{Dialect, Directory, Local};
use dragoman_model::{Error, Principal, RequestMeta, Timestamp};

/// The caller every seed is signed for.
pub const ACCESS_KEY: &str = "FUZZACCESSKEY0000001";
pub const SECRET_KEY: &str = "fuzz-secret-key-0000000000000001";
pub const TOKEN: &str = "access-v1:fuzz-static-token-0001";
/// The seeds' signing time: 2026-01-01T00:00:00Z.
pub const NOW_SECS: i64 = 1_767_225_600;

pub struct Callers;

impl Directory for Callers {
    fn secret_of(&self, access_key: &str) -> Option<String> {
        (access_key == ACCESS_KEY).then(|| SECRET_KEY.to_owned())
    }

    fn token_owner(&self, token: &str) -> Option<String> {
        (token == TOKEN).then(|| ACCESS_KEY.to_owned())
    }

    fn login(
        &self,
        username: &str,
        password: &str,
        _from: Option<std::net::IpAddr>,
    ) -> Result<Principal, Error> {
        if username == "fuzz" && password == SECRET_KEY {
            Ok(Principal {
                name: "fuzz".into(),
                access_key: ACCESS_KEY.into(),
            })
        } else {
            Err(Error::Unauthenticated {
                message: "no".into(),
            })
        }
    }
}

/// A request from bytes: `METHOD URI\n`, then `name: value` lines, a blank line, the body.
/// Anything `http` refuses is no request at all (hyper would refuse it first).
pub fn request(data: &[u8]) -> Option<(http::request::Parts, Bytes)> {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &b""[..]),
    };
    let mut lines = head.split(|b| *b == b'\n');
    let first = std::str::from_utf8(lines.next()?).ok()?;
    let (method, uri) = first.split_once(' ')?;
    let mut b = http::Request::builder()
        .method(http::Method::from_bytes(method.as_bytes()).ok()?)
        .uri(uri);
    for line in lines {
        let at = line.iter().position(|b| *b == b':')?;
        let name = http::HeaderName::from_bytes(&line[..at]).ok()?;
        let value = line[at + 1..].strip_prefix(b" ").unwrap_or(&line[at + 1..]);
        b = b.header(name, http::HeaderValue::from_bytes(value).ok()?);
    }
    let (parts, ()) = b.body(()).ok()?.into_parts();
    Some((parts, Bytes::copy_from_slice(body)))
}

/// Everything a caller's request reaches in one dialect: detection, local routes, decoding,
/// authentication, and the rendering of whatever error comes out. None of it may panic.
pub fn drive(dialect: &dyn Dialect, data: &[u8]) {
    let Some((parts, body)) = request(data) else {
        return;
    };
    let _ = dialect.detect(&parts);
    let meta: RequestMeta = dialect.request_meta(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    let now = Timestamp::from_secs(NOW_SECS);
    let render = |e: &Error| {
        let _ = dialect.encode_error(e, &meta, false);
        let _ = dialect.encode_error(e, &meta, true);
    };
    if dialect.local_route(&parts).is_some() {
        let ctx = Local {
            directory: &Callers,
            now,
            meta: &meta,
            peer: None,
        };
        if let Err(e) = dialect.answer_local(&parts, &body, &ctx) {
            render(&e);
        }
        return;
    }
    match dialect.decode(&parts) {
        Ok(op) => {
            let _ = op.bucket();
        }
        Err(e) => render(&e),
    }
    if let Err(e) = dialect.authenticate(&parts, &body, &Callers, now) {
        render(&e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds reach the verifiers' success paths: each signed seed authenticates.
    #[test]
    fn signed_seeds_authenticate() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
        let s3 = dragoman_dialect_s3::S3Dialect::default();
        let bos = dragoman_dialect_bos::BosDialect::default();
        let now = Timestamp::from_secs(NOW_SECS);
        for (dialect, target, names) in [
            (
                &s3 as &dyn Dialect,
                "s3_request",
                &[
                    "list",
                    "list-markers",
                    "create",
                    "abort",
                    "presigned",
                    "buckets",
                ][..],
            ),
            (
                &bos as &dyn Dialect,
                "bos_request",
                &["list", "create", "abort", "legacy", "buckets"][..],
            ),
        ] {
            for name in names {
                let data = std::fs::read(dir.join(target).join(name)).unwrap_or_default();
                let (parts, body) = request(&data).unwrap_or_else(|| panic!("{target}/{name}"));
                assert!(dialect.decode(&parts).is_ok(), "{target}/{name}");
                assert_eq!(
                    dialect.authenticate(&parts, &body, &Callers, now),
                    Ok(Some(ACCESS_KEY.to_owned())),
                    "{target}/{name}"
                );
            }
        }
    }
}
