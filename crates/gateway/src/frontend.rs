//! Dialects as the gateway sees them: detect, decode, authenticate, encode. The gateway calls
//! these and knows nothing of any dialect's field names.

use bytes::Bytes;
use dragoman_dialect_bos as bos;
use dragoman_dialect_qumulo as qumulo;
use dragoman_dialect_s3 as s3;
use dragoman_model::{Error, Operation, Outcome, RequestMeta, Timestamp};
use http::Response;
use http::request::Parts;

use crate::{Access, RequestId};

/// The dialects one listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    S3,
    Bos,
    Qumulo,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::Bos => "bos",
            Self::Qumulo => "qumulo",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "s3" => Some(Self::S3),
            "bos" => Some(Self::Bos),
            "qumulo" => Some(Self::Qumulo),
            _ => None,
        }
    }
}

/// The codecs of every dialect, with their configuration.
#[derive(Clone, Debug)]
pub(crate) struct Frontends {
    pub s3: s3::S3Config,
    pub bos: bos::BosConfig,
    pub qumulo: qumulo::QumuloConfig,
    /// What an anonymous or ambiguous request speaks.
    pub default: Dialect,
}

impl Frontends {
    /// Which dialect a request speaks: Qumulo's REST paths first, then the authorization
    /// scheme, then headers and host, then the listener's default.
    pub fn detect(&self, parts: &Parts) -> Dialect {
        if qumulo::looks_like_qumulo(parts) {
            return Dialect::Qumulo;
        }
        let auth = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        if auth.is_some_and(|a| a.starts_with(b"bce-auth-v1/")) {
            return Dialect::Bos;
        }
        if auth.is_some_and(|a| a.starts_with(b"AWS")) {
            return Dialect::S3;
        }
        if bos::looks_like_bos(&self.bos, parts) {
            return Dialect::Bos;
        }
        if s3::looks_like_s3(parts) {
            return Dialect::S3;
        }
        self.default
    }

    /// The request's ids, written the dialect's way.
    pub fn meta(&self, d: Dialect, id: RequestId) -> RequestMeta {
        match d {
            Dialect::S3 => s3::request_meta(id.0),
            Dialect::Bos => bos::request_meta(id.0),
            Dialect::Qumulo => qumulo::request_meta(id.0),
        }
    }

    pub fn decode(&self, d: Dialect, parts: &Parts, body: &[u8]) -> Result<Operation, Error> {
        match d {
            Dialect::S3 => s3::decode(&self.s3, parts),
            Dialect::Bos => bos::decode(&self.bos, parts),
            Dialect::Qumulo => qumulo::decode(&self.qumulo, parts, body),
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
        let secret_of = |k: &str| access.secret_of(k);
        match d {
            Dialect::S3 => s3::verify(&self.s3, parts, body, &secret_of, now),
            Dialect::Bos => bos::verify(parts, &secret_of, now),
            Dialect::Qumulo => qumulo::verify(&self.qumulo, parts, &|t| access.token_owner(t), now),
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
            Dialect::Bos => bos::encode(op, outcome, meta, &self.bos.region),
            Dialect::Qumulo => qumulo::encode(&self.qumulo, op, outcome, meta),
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
            Dialect::Bos => bos::encode_error(err, meta, head),
            Dialect::Qumulo => qumulo::encode_error(err, meta, head),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frontends(default: Dialect) -> Frontends {
        Frontends {
            s3: s3::S3Config::default(),
            bos: bos::BosConfig::default(),
            qumulo: qumulo::QumuloConfig::default(),
            default,
        }
    }

    fn parts(headers: &[(&str, &str)], uri: &str) -> Parts {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap_or_default().into_parts().0
    }

    #[test]
    fn one_listener_tells_the_dialects_apart() {
        let f = frontends(Dialect::S3);
        let bce = [
            ("host", "127.0.0.1"),
            (
                "authorization",
                "bce-auth-v1/ak/2015-04-27T08:23:49Z/1800//x",
            ),
        ];
        assert_eq!(f.detect(&parts(&bce, "/b?uploads=")), Dialect::Bos);
        let aws = [
            ("host", "127.0.0.1"),
            ("authorization", "AWS4-HMAC-SHA256 Credential=x"),
        ];
        assert_eq!(f.detect(&parts(&aws, "/b?uploads")), Dialect::S3);
        assert_eq!(
            f.detect(&parts(&[("host", "b.bj.bcebos.com")], "/?uploads=")),
            Dialect::Bos
        );
        assert_eq!(
            f.detect(&parts(&[("host", "h"), ("x-amz-date", "x")], "/b")),
            Dialect::S3
        );
        assert_eq!(
            f.detect(&parts(&[("host", "h")], "/b?X-Amz-Signature=x")),
            Dialect::S3
        );
        assert_eq!(
            f.detect(&parts(&[("host", "h")], "/b?authorization=bce-auth-v1%2Fx")),
            Dialect::Bos
        );
        let bearer = [("host", "h"), ("authorization", "Bearer x")];
        assert_eq!(
            f.detect(&parts(&bearer, "/v1/s3/buckets/b1/uploads/")),
            Dialect::Qumulo
        );
        assert_eq!(
            f.detect(&parts(&[("host", "h")], "/v1/session/login")),
            Dialect::Qumulo
        );
        // BOS's legacy /v1/<bucket> stays BOS.
        assert_eq!(
            f.detect(&parts(&bce, "/v1/mybucket?uploads=")),
            Dialect::Bos
        );
        // Anonymous requests fall to the listener's default.
        assert_eq!(
            f.detect(&parts(&[("host", "h")], "/b?uploads")),
            Dialect::S3
        );
        assert_eq!(
            frontends(Dialect::Bos).detect(&parts(&[("host", "h")], "/b?uploads")),
            Dialect::Bos
        );
    }
}
