//! Refuses credentials sent in the clear. When the listener serves TLS, the dialects named in
//! `tls.require_for` (Qumulo by default: its passwords and bearer tokens are the secrets
//! themselves, where S3's and BOS's signatures are not) may not send credentials over plain
//! HTTP; the caller is told, in its dialect, to use https.

use std::sync::Arc;

use dragoman_model::Error;
use http::request::Parts;

use crate::check::Check;
use crate::context::{Caller, Peer};

/// The dialects whose credentials must come over TLS (empty: none).
#[derive(Clone, Debug, Default)]
pub struct RequireTls {
    dialects: Arc<[String]>,
}

impl RequireTls {
    pub fn new(dialects: Vec<String>) -> Self {
        Self {
            dialects: dialects.into(),
        }
    }
}

/// Whether the request carries credentials: an authorization header or query, or a login.
fn carries_credentials(parts: &Parts) -> bool {
    parts.headers.contains_key(http::header::AUTHORIZATION)
        || parts.uri.query().is_some_and(|q| {
            q.split('&').any(|p| {
                let k = p.split('=').next().unwrap_or_default();
                k.eq_ignore_ascii_case("authorization") || k == "X-Amz-Signature"
            })
        })
        || parts.uri.path().starts_with("/v1/session/")
}

impl<B> Check<B> for RequireTls {
    fn check(&self, parts: &mut Parts, _body: &B) -> Result<(), Error> {
        let plain = parts.extensions.get::<Peer>().is_some_and(|p| !p.tls);
        let required = parts
            .extensions
            .get::<Caller>()
            .is_some_and(|c| self.dialects.iter().any(|d| d == c.dialect.name()));
        if plain && required && carries_credentials(parts) {
            return Err(Error::TlsRequired);
        }
        Ok(())
    }
}
