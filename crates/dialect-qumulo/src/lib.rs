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
mod page;
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

/// The `[qumulo]` configuration section, as an operator writes it.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct QumuloSection {
    /// Signs session and `after` tokens; replicas that share it accept each other's tokens.
    /// Empty: a random key per start (tokens die with the process; a warning says so).
    pub token_key: dragoman_model::Secret,
    /// How long a `POST /v1/session/login` session lasts.
    pub session_ttl_secs: u64,
    /// The page size when a caller sends no `limit` (`qq` never sends one).
    pub page_size: u16,
}

impl Default for QumuloSection {
    fn default() -> Self {
        let d = QumuloConfig::default();
        Self {
            token_key: dragoman_model::Secret::default(),
            session_ttl_secs: d.session_ttl.as_secs(),
            page_size: d.page_size,
        }
    }
}

impl QumuloSection {
    /// What is wrong with the section, each problem named by its key.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.page_size == 0 || self.page_size > 1000 {
            p.push("qumulo.page_size must be between 1 and 1000".to_owned());
        }
        if !self.token_key.is_empty() && self.token_key.len() < 32 {
            p.push(
                "qumulo.token_key must be at least 32 characters (or empty for a random one)"
                    .to_owned(),
            );
        }
        if self.session_ttl_secs == 0 {
            p.push("qumulo.session_ttl_secs must be at least 1".to_owned());
        }
        p
    }

    /// The dialect's settings; `random_key` signs tokens when no `token_key` is configured.
    pub fn config(&self, random_key: impl FnOnce() -> Vec<u8>) -> QumuloConfig {
        QumuloConfig {
            token_key: if self.token_key.is_empty() {
                random_key()
            } else {
                self.token_key.expose().as_bytes().to_vec()
            },
            session_ttl: Duration::from_secs(self.session_ttl_secs),
            page_size: self.page_size,
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
