//! The S3 dialect of dragoman: bytes in, values out.
//!
//! `decode` turns an HTTP request into a canonical [`Operation`], `verify` checks its SigV4
//! signature, `encode` writes an [`Outcome`] as S3 XML and `encode_error` writes any canonical
//! error as an S3 `<Error>` document. No sockets, no clocks: the caller passes `now`.

mod canonical;
pub mod client;
mod dialect;
mod encoding;
mod error;
mod forward;
mod page;
mod rechunk;
mod route;
mod scan;
mod sigv4;
mod stream;
mod xml;

pub use dialect::S3Dialect;
pub use encoding::url_encode_key;
pub use error::encode_error;
pub use forward::{authenticate_streamed, forward_target, rename_in_document};
pub use route::decode;
pub use sigv4::{Credentials, verify};
pub use xml::encode;

/// What the S3 dialect needs to know about the deployment: the `[s3]` configuration section.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
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

impl S3Config {
    /// What is wrong with the section, each problem named by its key.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.region.trim().is_empty() {
            p.push("s3.region must not be empty".to_owned());
        }
        if self
            .domains
            .iter()
            .any(|d| d.is_empty() || d.starts_with('.'))
        {
            p.push("s3.domains must be host names like s3.example.com".to_owned());
        }
        p
    }
}

/// A request's ids as AWS writes them: `x-amz-request-id` is 16 upper-case hex digits,
/// `x-amz-id-2` a longer opaque string (here the whole id in hex).
pub fn request_meta(id: u128) -> dragoman_model::RequestMeta {
    dragoman_model::RequestMeta {
        // As `{:016X}` and `{:032x}` would write them, without the formatting machinery.
        request_id: const_hex::encode_upper(((id >> 64) as u64).to_be_bytes()),
        debug_id: const_hex::encode(id.to_be_bytes()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_the_id_in_hex() {
        let id = 0x0123_4567_89ab_cdef_0000_0000_0000_00ff_u128;
        let m = request_meta(id);
        assert_eq!(m.request_id, "0123456789ABCDEF");
        assert_eq!(m.request_id, format!("{:016X}", (id >> 64) as u64));
        assert_eq!(m.debug_id, format!("{id:032x}"));
    }
}
