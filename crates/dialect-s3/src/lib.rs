//! The S3 dialect of dragoman: bytes in, values out.
//!
//! `decode` turns an HTTP request into a canonical [`Operation`], `verify` checks its SigV4
//! signature, `encode` writes an [`Outcome`] as S3 XML and `encode_error` writes any canonical
//! error as an S3 `<Error>` document. No sockets, no clocks: the caller passes `now`.

pub mod client;
mod dialect;
mod encoding;
mod error;
mod route;
mod sigv4;
mod xml;

pub use dialect::S3Dialect;
pub use encoding::url_encode_key;
pub use error::encode_error;
pub use route::decode;
pub use sigv4::{Credentials, verify};
pub use xml::encode;

/// What the S3 dialect needs to know about the deployment.
#[derive(Clone, Debug)]
pub struct S3Config {
    /// The region requests must be signed for.
    pub region: String,
    /// Domain suffixes under which `<bucket>.<suffix>` is a virtual-hosted bucket.
    pub domains: Vec<String>,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            domains: vec!["s3.localhost".into()],
        }
    }
}

/// A request's ids as AWS writes them: `x-amz-request-id` is 16 upper-case hex digits,
/// `x-amz-id-2` a longer opaque string (here the whole id in hex).
pub fn request_meta(id: u128) -> dragoman_model::RequestMeta {
    dragoman_model::RequestMeta {
        request_id: format!("{:016X}", (id >> 64) as u64),
        debug_id: format!("{id:032x}"),
    }
}

/// Whether a request carries S3 signals (SigV4 header or query, or `x-amz-*` headers).
pub fn looks_like_s3(parts: &http::request::Parts) -> bool {
    let auth = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    auth.is_some_and(|a| a.starts_with(b"AWS4-HMAC-SHA256") || a.starts_with(b"AWS "))
        || parts
            .uri
            .query()
            .is_some_and(|q| q.contains("X-Amz-Signature") || q.contains("X-Amz-Credential"))
        || parts
            .headers
            .keys()
            .any(|k| k.as_str().starts_with("x-amz-"))
}
