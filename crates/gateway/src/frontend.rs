//! Dialects as the gateway sees them: detect, decode, authenticate, encode. The gateway calls
//! these four and knows nothing of any dialect's field names.

use bytes::Bytes;
use dragoman_dialect_s3 as s3;
use dragoman_model::{Error, Operation, Outcome, RequestMeta, Timestamp};
use http::Response;
use http::request::Parts;

use crate::{Access, RequestId};

/// The dialects one listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    S3,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Self::S3 => "s3",
        }
    }
}

/// The codecs of every dialect, with their configuration.
#[derive(Clone, Debug)]
pub(crate) struct Frontends {
    pub s3: s3::S3Config,
}

impl Frontends {
    /// Which dialect a request speaks. Only S3 is served so far; every request is S3.
    pub fn detect(&self, _parts: &Parts) -> Dialect {
        Dialect::S3
    }

    /// The request's ids, written the dialect's way.
    pub fn meta(&self, d: Dialect, id: RequestId) -> RequestMeta {
        match d {
            Dialect::S3 => s3::request_meta(id.0),
        }
    }

    pub fn decode(&self, d: Dialect, parts: &Parts) -> Result<Operation, Error> {
        match d {
            Dialect::S3 => s3::decode(&self.s3, parts),
        }
    }

    /// The access key the request proves it holds, or `None` for an anonymous request.
    pub fn authenticate(
        &self,
        d: Dialect,
        parts: &Parts,
        body: &[u8],
        access: &Access,
        now: Timestamp,
    ) -> Result<Option<String>, Error> {
        match d {
            Dialect::S3 => s3::verify(&self.s3, parts, body, &|k| access.secret_of(k), now),
        }
    }

    pub fn encode(
        &self,
        d: Dialect,
        op: &Operation,
        outcome: &Outcome,
        meta: &RequestMeta,
    ) -> Response<Bytes> {
        match d {
            Dialect::S3 => s3::encode(op, outcome, meta),
        }
    }

    pub fn encode_error(
        &self,
        d: Dialect,
        err: &Error,
        meta: &RequestMeta,
        head: bool,
    ) -> Response<Bytes> {
        match d {
            Dialect::S3 => s3::encode_error(err, meta, head),
        }
    }
}
