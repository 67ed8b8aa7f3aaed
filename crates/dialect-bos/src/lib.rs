//! The Baidu BOS dialect of dragoman, both directions, bytes in and values out.
//!
//! Server side: [`decode`] a BOS request into a canonical operation, [`verify`] its
//! bce-auth-v1 signature, [`encode`] the outcome as BOS JSON, [`encode_error`] any error as
//! `{"code","message","requestId"}`. Client side ([`client`]): build and sign the listing
//! request a BOS service expects, and read its page and errors back into canonical values.

mod auth;
pub mod client;
mod dialect;
mod forward;
mod json;
mod page;
mod route;

pub use auth::{AuthString, canonical_request, sign, verify};
pub use dialect::BosDialect;
pub use forward::{authenticate_streamed, forward_target, rename_in_document};
pub use json::{encode, encode_error, list_uploads_json};
pub use route::decode;

/// What the BOS dialect needs to know about the deployment: the `[bos]` configuration section.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BosConfig {
    /// Base domains for virtual-hosted addressing: `<bucket>.<region>.<domain>`.
    pub domains: Vec<String>,
    /// The region named in bucket listings (`location`).
    pub region: String,
}

impl Default for BosConfig {
    fn default() -> Self {
        Self {
            domains: vec!["bcebos.com".into()],
            region: "bj".into(),
        }
    }
}

impl BosConfig {
    /// What is wrong with the section, each problem named by its key.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.region.trim().is_empty() {
            p.push("bos.region must not be empty".to_owned());
        }
        if self
            .domains
            .iter()
            .any(|d| d.is_empty() || d.starts_with('.'))
        {
            p.push("bos.domains must be host names like bcebos.com".to_owned());
        }
        p
    }
}

/// A request's ids as BOS writes them: `x-bce-request-id` is a UUID, `x-bce-debug-id` opaque.
pub fn request_meta(id: u128) -> dragoman_model::RequestMeta {
    // As `{id:032x}` would write it, without the formatting machinery.
    let h = const_hex::encode(id.to_be_bytes());
    let part = |r: std::ops::Range<usize>| h.get(r).unwrap_or_default();
    dragoman_model::RequestMeta {
        request_id: [
            part(0..8),
            "-",
            part(8..12),
            "-",
            part(12..16),
            "-",
            part(16..20),
            "-",
            part(20..32),
        ]
        .concat(),
        debug_id: h,
    }
}

/// Whether a request carries BOS signals: a bce-auth-v1 authorization (header or query), an
/// `x-bce-*` header, or a Host under a configured BOS domain.
pub fn looks_like_bos(config: &BosConfig, parts: &http::request::Parts) -> bool {
    let auth = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    auth.is_some_and(|a| a.starts_with(b"bce-auth-v1/"))
        || parts.uri.query().is_some_and(|q| {
            q.split('&')
                .any(|p| p.starts_with("authorization=bce-auth-v1"))
        })
        || parts
            .headers
            .keys()
            .any(|k| k.as_str().starts_with("x-bce-"))
        || dragoman_wire::host(parts).is_some_and(|h| {
            config.domains.iter().any(|d| {
                h.strip_suffix(d.as_str())
                    .is_some_and(|sub| sub.is_empty() || sub.ends_with('.'))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuids() {
        let m = request_meta(0x4db2b34d654d4d8ab49b3049ca786409);
        assert_eq!(m.request_id, "4db2b34d-654d-4d8a-b49b-3049ca786409");
        assert_eq!(m.debug_id, "4db2b34d654d4d8ab49b3049ca786409");
        let small = request_meta(1);
        assert_eq!(small.request_id, "00000000-0000-0000-0000-000000000001");
        assert_eq!(small.debug_id, format!("{:032x}", 1));
    }

    #[test]
    fn detection() {
        let parts = |auth: &str, host: &str, uri: &str| {
            let mut b = http::Request::builder().uri(uri).header("host", host);
            if !auth.is_empty() {
                b = b.header("authorization", auth);
            }
            b.body(()).unwrap_or_default().into_parts().0
        };
        let c = BosConfig::default();
        assert!(looks_like_bos(
            &c,
            &parts(
                "bce-auth-v1/ak/2015-04-27T08:23:49Z/1800//sig",
                "127.0.0.1",
                "/b?uploads="
            )
        ));
        assert!(looks_like_bos(
            &c,
            &parts("", "b.bj.bcebos.com", "/?uploads=")
        ));
        assert!(looks_like_bos(
            &c,
            &parts("", "127.0.0.1", "/b/k?authorization=bce-auth-v1%2Fak")
        ));
        assert!(!looks_like_bos(
            &c,
            &parts("AWS4-HMAC-SHA256 Credential=x", "127.0.0.1", "/b?uploads")
        ));
        assert!(!looks_like_bos(
            &c,
            &parts("", "notbcebos.com", "/b?uploads")
        ));
    }
}
