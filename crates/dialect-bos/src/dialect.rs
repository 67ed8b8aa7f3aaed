//! The BOS dialect as the gateway plugs it in.

use bytes::Bytes;
use dragoman_dialect::{Claim, Dialect, Directory, StreamedAuth, Target};
use dragoman_model::{Error, Operation, Outcome, RequestMeta, Timestamp};
use http::Response;
use http::request::Parts;

use crate::BosConfig;

/// Baidu BOS: JSON, bce-auth-v1, path-style (also under `/v1`) or virtual-hosted buckets.
#[derive(Clone, Debug, Default)]
pub struct BosDialect {
    pub config: BosConfig,
}

impl Dialect for BosDialect {
    fn name(&self) -> &'static str {
        "bos"
    }

    fn detect(&self, parts: &Parts) -> Option<Claim> {
        let auth = parts.headers.get(http::header::AUTHORIZATION);
        if auth.is_some_and(|a| a.as_bytes().starts_with(b"bce-auth-v1/")) {
            Some(Claim::Auth)
        } else {
            crate::looks_like_bos(&self.config, parts).then_some(Claim::Hint)
        }
    }

    fn request_meta(&self, id: u128) -> RequestMeta {
        crate::request_meta(id)
    }

    fn decode(&self, parts: &Parts) -> Result<Operation, Error> {
        crate::decode(&self.config, parts)
    }

    fn forward_target(&self, parts: &Parts) -> Result<Option<Target>, Error> {
        crate::forward_target(&self.config, parts)
    }

    fn authenticate_streamed(
        &self,
        parts: &Parts,
        target: &Target,
        directory: &dyn Directory,
        now: Timestamp,
    ) -> Result<Option<StreamedAuth>, Error> {
        crate::authenticate_streamed(parts, target, &|k| directory.secret_of(k), now)
    }

    fn rename_in_document(&self, body: &[u8], there: &str, here: &str) -> Option<Bytes> {
        crate::rename_in_document(body, there, here)
    }

    fn authenticate(
        &self,
        parts: &Parts,
        _body: &Bytes,
        directory: &dyn Directory,
        now: Timestamp,
    ) -> Result<Option<String>, Error> {
        crate::verify(parts, &|k| directory.secret_of(k), now)
    }

    fn encode(&self, op: &Operation, outcome: &Outcome, meta: &RequestMeta) -> Response<Bytes> {
        crate::encode(op, outcome, meta, &self.config.region)
    }

    fn id_headers(&self) -> Option<[&'static str; 2]> {
        Some(["x-bce-request-id", "x-bce-debug-id"])
    }

    fn encode_error(&self, err: &Error, meta: &RequestMeta, head: bool) -> Response<Bytes> {
        crate::encode_error(err, meta, head)
    }
}
