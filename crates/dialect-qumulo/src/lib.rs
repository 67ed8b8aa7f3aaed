//! The Qumulo Core REST dialect of dragoman, both directions, bytes in and values out.
//!
//! Server side: [`decode`] `GET /v1/s3/buckets/{b}/uploads/`, `DELETE …/uploads/{id}`,
//! `GET /v1/s3/buckets/` and `POST /v1/session/login` into canonical operations, [`verify`]
//! bearer tokens (dragoman's signed sessions or configured `access-v1:` tokens), [`encode`]
//! outcomes as Qumulo JSON with signed `after` paging tokens, and [`encode_error`] errors in
//! Qumulo's error shape. Client side: [`client`].

pub mod client;
mod dialect;
mod json;
mod route;
pub mod token;

use std::time::Duration;

pub use dialect::QumuloDialect;
pub use json::{encode, encode_error, list_uploads_json};
pub use route::{decode, verify};

/// What the Qumulo dialect needs to know about the deployment.
#[derive(Clone)]
pub struct QumuloConfig {
    /// Signs session and paging tokens. Replicas that share it accept each other's tokens.
    pub token_key: Vec<u8>,
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// The page size when a caller sends no `limit` (`qq` never does).
    pub page_size: u16,
}

impl std::fmt::Debug for QumuloConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QumuloConfig")
            .field("token_key", &"****")
            .field("session_ttl", &self.session_ttl)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl Default for QumuloConfig {
    fn default() -> Self {
        Self {
            token_key: Vec::new(),
            session_ttl: Duration::from_secs(10 * 3600),
            page_size: 1000,
        }
    }
}

/// A request's ids. Qumulo documents no request-id header; dragoman sends `x-request-id`.
pub fn request_meta(id: u128) -> dragoman_model::RequestMeta {
    dragoman_model::RequestMeta {
        request_id: format!("{id:032x}"),
        debug_id: format!("{id:032x}"),
    }
}

/// Whether a request is for the Qumulo REST API: its path starts with `/v1/s3/` or
/// `/v1/session/`. (BOS's legacy `/v1/<bucket>` cannot collide: `s3` is too short for a
/// bucket name, and a bucket named `session` would need the `/v1/session/` prefix too, which
/// is why the Qumulo paths are matched first and only these two.)
pub fn looks_like_qumulo(parts: &http::request::Parts) -> bool {
    let p = parts.uri.path();
    p.starts_with("/v1/s3/") || p == "/v1/s3" || p.starts_with("/v1/session/")
}
