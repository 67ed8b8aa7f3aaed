//! The Qumulo dialect as the gateway plugs it in. Its login is a local route: the gateway
//! answers it from its own directory, no backend is asked.

use bytes::Bytes;
use dragoman_dialect::{Claim, Dialect, Directory, Local};
use dragoman_model::{Error, Operation, Outcome, RequestMeta, Timestamp};
use http::request::Parts;
use http::{Response, StatusCode};

use crate::QumuloConfig;
use crate::json::{LoginJson, json};
use crate::route::{is_login, login_request, session_token};

/// Qumulo Core REST: JSON under `/v1/`, bearer tokens (dragoman's sessions or `access-v1:`).
#[derive(Clone, Debug, Default)]
pub struct QumuloDialect {
    pub config: QumuloConfig,
}

impl Dialect for QumuloDialect {
    fn name(&self) -> &'static str {
        "qumulo"
    }

    fn detect(&self, parts: &Parts) -> Option<Claim> {
        crate::looks_like_qumulo(parts).then_some(Claim::Path)
    }

    fn request_meta(&self, id: u128) -> RequestMeta {
        crate::request_meta(id)
    }

    fn local_route(&self, parts: &Parts) -> Option<&'static str> {
        is_login(parts).then_some("login")
    }

    fn answer_local(
        &self,
        parts: &Parts,
        body: &Bytes,
        ctx: &Local<'_>,
    ) -> Result<Response<Bytes>, Error> {
        let (username, password) = login_request(parts, body)
            .unwrap_or_else(|| Err(Error::internal("not a login request")))?;
        let principal = ctx.directory.login(&username, &password, ctx.peer)?;
        let ttl = i64::try_from(self.config.session_ttl.as_nanos()).unwrap_or(i64::MAX);
        let expires = Timestamp::from_nanos(ctx.now.as_nanos().saturating_add(ttl));
        let body = LoginJson {
            bearer_token: session_token(&self.config, &principal.access_key, expires),
        };
        let body = serde_json::to_vec(&body).map_err(|e| Error::internal(e.to_string()))?;
        Ok(json(StatusCode::OK, ctx.meta, body))
    }

    fn decode(&self, parts: &Parts) -> Result<Operation, Error> {
        crate::decode(&self.config, parts)
    }

    fn authenticate(
        &self,
        parts: &Parts,
        _body: &Bytes,
        directory: &dyn Directory,
        now: Timestamp,
    ) -> Result<Option<String>, Error> {
        crate::verify(&self.config, parts, &|t| directory.token_owner(t), now)
    }

    fn encode(&self, op: &Operation, outcome: &Outcome, meta: &RequestMeta) -> Response<Bytes> {
        crate::encode(&self.config, op, outcome, meta)
    }

    fn encode_error(&self, err: &Error, meta: &RequestMeta, head: bool) -> Response<Bytes> {
        crate::encode_error(err, meta, head)
    }
}
