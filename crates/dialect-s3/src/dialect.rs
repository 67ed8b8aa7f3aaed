//! The S3 dialect as the gateway plugs it in.

use bytes::Bytes;
use dragoman_dialect::{Claim, Dialect, Directory, StreamedAuth, Target};
use dragoman_model::{Error, Operation, Outcome, RequestMeta, Timestamp};
use http::Response;
use http::request::Parts;

use crate::S3Config;

/// S3: XML, SigV4, path-style or virtual-hosted buckets.
#[derive(Clone, Debug, Default)]
pub struct S3Dialect {
    pub config: S3Config,
}

impl Dialect for S3Dialect {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn detect(&self, parts: &Parts) -> Option<Claim> {
        let auth = parts.headers.get(http::header::AUTHORIZATION);
        if auth.is_some_and(|a| a.as_bytes().starts_with(b"AWS")) {
            Some(Claim::Auth)
        } else {
            crate::looks_like_s3(parts).then_some(Claim::Hint)
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
        crate::authenticate_streamed(
            &self.config,
            parts,
            target,
            &|k| directory.secret_of(k),
            now,
        )
    }

    fn rename_in_document(&self, body: &[u8], there: &str, here: &str) -> Option<Bytes> {
        crate::rename_in_document(body, there, here)
    }

    fn authenticate(
        &self,
        parts: &Parts,
        body: &Bytes,
        directory: &dyn Directory,
        now: Timestamp,
    ) -> Result<Option<String>, Error> {
        crate::verify(&self.config, parts, body, &|k| directory.secret_of(k), now)
    }

    fn encode(&self, op: &Operation, outcome: &Outcome, meta: &RequestMeta) -> Response<Bytes> {
        crate::encode(op, outcome, meta)
    }

    fn id_headers(&self) -> Option<[&'static str; 2]> {
        Some(["x-amz-request-id", "x-amz-id-2"])
    }

    fn encode_error(&self, err: &Error, meta: &RequestMeta, head: bool) -> Response<Bytes> {
        crate::encode_error(err, meta, head)
    }
}
