//! What a dialect says about requests the gateway does not decode but passes to a backend of
//! the same protocol (an S3 PutObject to an S3 backend): which bucket they address, how their
//! body proves it is the caller's, and which headers are the connection's own.

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use http::header::HeaderName;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;

/// A body that streams: a caller's request body on its way to a backend, or a backend's
/// answer on its way back. Errors are boxed so that a verifier can fail the stream.
pub type StreamBody = BoxBody<Bytes, BoxError>;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A body from bytes already in memory.
pub fn full(bytes: Bytes) -> StreamBody {
    http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed()
}

/// What a forwarded request addresses, under the caller's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub bucket: String,
    /// The object key, decoded; `None` for a bucket request.
    pub key: Option<String>,
    /// The bucket a copy reads from (`x-amz-copy-source`, `x-bce-copy-source`): it must be one
    /// the caller may use and live on the same backend.
    pub copy_source_bucket: Option<String>,
}

/// What the caller's body must still prove once its head is authenticated, and how it is
/// sent on. Built by the dialect's `authenticate_streamed`; the gateway applies it.
pub trait BodyProof: Send + Sync + std::fmt::Debug {
    /// The body to forward: the caller's body checked as it streams (a digest, chunk
    /// signatures). A body that fails its proof ends in an error before its last byte, so a
    /// backend never completes an object from it.
    fn wrap(&self, body: StreamBody) -> StreamBody;

    /// The outbound request's headers as this proof leaves them (a decoded body's length, the
    /// payload hash the backend's signature will carry).
    fn outbound_headers(&self, headers: &mut HeaderMap);
}

/// A proof that is checked entirely by the head's signature (BOS, whose signature does not
/// cover the body; a backend checks `Content-MD5` itself).
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadOnly;

impl BodyProof for HeadOnly {
    fn wrap(&self, body: StreamBody) -> StreamBody {
        body
    }

    fn outbound_headers(&self, _headers: &mut HeaderMap) {}
}

/// An authenticated streamed request: who sent it and what its body must prove.
#[derive(Clone, Debug)]
pub struct StreamedAuth {
    pub access_key: String,
    pub proof: Arc<dyn BodyProof>,
}

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), plus the
/// names the `Connection` header lists. Never forwarded in either direction.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        // hyper answers `100-continue` itself when the body is first read.
        "expect",
    ] {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_the_ones_connection_names_are_removed() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, x-private"),
            ("x-private", "1"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("expect", "100-continue"),
            ("content-type", "text/plain"),
            ("x-amz-meta-a", "b"),
        ] {
            h.insert(k, http::HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut h);
        let mut left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["content-type", "x-amz-meta-a"]);
    }
}
