//! The seam between the gateway and a caller dialect.
//!
//! A dialect is a codec plus an authentication scheme: it says whether a request speaks it,
//! turns the request into a canonical [`Operation`], checks who sent it, and writes outcomes
//! and errors back in its own wire format. The gateway holds a list of `Arc<dyn Dialect>` and
//! never learns a dialect's field names, so a fourth dialect is a new crate plus one
//! registration line in the binary.
//!
//! Implementations are pure: no sockets, no clocks (the gateway passes `now`).

pub mod forward;

use bytes::Bytes;
use dragoman_model::{Error, Operation, Outcome, Principal, RequestMeta, Timestamp};
pub use forward::{BodyProof, StreamBody, StreamedAuth, Target};
use http::Response;
use http::request::Parts;

/// How sure a dialect is that a request speaks it. The gateway picks the strongest claim;
/// among equal claims, the dialect registered first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Claim {
    /// Signals another dialect could also carry (a header prefix, a configured host).
    Hint,
    /// The dialect's own authorization scheme.
    Auth,
    /// A path only this dialect uses (Qumulo's `/v1/s3/…`).
    Path,
}

/// What the gateway knows about callers, for a dialect to authenticate with.
pub trait Directory: Send + Sync {
    /// The secret of an access key, for signature schemes.
    fn secret_of(&self, access_key: &str) -> Option<String>;
    /// The access key a static bearer token stands for.
    fn token_owner(&self, token: &str) -> Option<String>;
    /// Checks a user name and password (every failure looks the same to the caller);
    /// `from` is the client's address, for bounding guesses.
    fn login(
        &self,
        username: &str,
        password: &str,
        from: Option<std::net::IpAddr>,
    ) -> Result<Principal, Error>;
}

/// What a dialect's local route may use: the callers, the time and the request's ids.
pub struct Local<'a> {
    pub directory: &'a dyn Directory,
    pub now: Timestamp,
    pub meta: &'a RequestMeta,
    /// The client's address, when the request came over a socket.
    pub peer: Option<std::net::IpAddr>,
}

/// One caller dialect.
pub trait Dialect: Send + Sync + 'static {
    /// A short stable name for logs, metrics and configuration (`s3`, `bos`, `qumulo`).
    fn name(&self) -> &'static str;

    /// Whether the request speaks this dialect, and how surely.
    fn detect(&self, parts: &Parts) -> Option<Claim>;

    /// The request's ids written the dialect's way.
    fn request_meta(&self, id: u128) -> RequestMeta;

    /// Whether the request is one of the routes the dialect answers itself, before any
    /// authentication or backend (Qumulo's login, which is how a caller gets a token): the
    /// route's operation name for logs and metrics.
    fn local_route(&self, _parts: &Parts) -> Option<&'static str> {
        None
    }

    /// Answers a local route, once its body is read.
    fn answer_local(
        &self,
        parts: &Parts,
        _body: &Bytes,
        _ctx: &Local<'_>,
    ) -> Result<Response<Bytes>, Error> {
        Err(Error::internal(format!(
            "{} has no local route {}",
            self.name(),
            parts.uri.path()
        )))
    }

    /// The canonical operation a request asks for, from its head alone: the body is read
    /// only for operations that are served, with the limits that apply to them.
    fn decode(&self, parts: &Parts) -> Result<Operation, Error>;

    /// For a request `decode` does not serve: what it addresses, when a backend of this
    /// dialect's own protocol may take it as it is. `Ok(None)`: the dialect forwards nothing
    /// (Qumulo keeps its cluster API to itself), or the request names no bucket.
    fn forward_target(&self, _parts: &Parts) -> Result<Option<Target>, Error> {
        Ok(None)
    }

    /// Authenticates a request whose body streams to a backend: the head's signature now,
    /// the body as it passes (the returned proof). `target` is what `forward_target` found.
    /// `Ok(None)` for an anonymous request.
    fn authenticate_streamed(
        &self,
        _parts: &Parts,
        _target: &Target,
        _directory: &dyn Directory,
        _now: Timestamp,
    ) -> Result<Option<StreamedAuth>, Error> {
        Err(Error::NotImplemented {
            what: format!("{} requests are not forwarded", self.name()),
        })
    }

    /// A backend's answer document with the bucket `there` named `here` (a renamed route),
    /// or `None` when the document does not name it.
    fn rename_in_document(&self, _body: &[u8], _there: &str, _here: &str) -> Option<Bytes> {
        None
    }

    /// The access key the request proves it holds; `Ok(None)` for an anonymous request.
    fn authenticate(
        &self,
        parts: &Parts,
        body: &Bytes,
        directory: &dyn Directory,
        now: Timestamp,
    ) -> Result<Option<String>, Error>;

    /// Writes an outcome as the response to `op`.
    fn encode(&self, op: &Operation, outcome: &Outcome, meta: &RequestMeta) -> Response<Bytes>;

    /// The response headers that carry a request's ids (`x-amz-request-id`,
    /// `x-amz-id-2`), written over a forwarded answer's so a caller quotes dragoman's.
    fn id_headers(&self) -> Option<[&'static str; 2]> {
        None
    }

    /// Writes any canonical error, with the dialect's status, body and request-id headers.
    /// `head`: the request was a HEAD, so the body must be empty.
    fn encode_error(&self, err: &Error, meta: &RequestMeta, head: bool) -> Response<Bytes>;
}

/// The answer when a dialect cannot build its own response (a header value it was handed
/// is not valid): a bare 500, never an empty 200 that a client would take for success.
pub fn unbuildable() -> Response<Bytes> {
    let mut resp = Response::new(Bytes::from_static(
        b"internal error: response could not be built\n",
    ));
    *resp.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    resp
}

/// The registered dialects, in registration order, and the one anonymous requests speak.
#[derive(Clone)]
pub struct Dialects {
    all: Vec<std::sync::Arc<dyn Dialect>>,
    default: usize,
}

impl std::fmt::Debug for Dialects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialects")
            .field(
                "all",
                &self.all.iter().map(|d| d.name()).collect::<Vec<_>>(),
            )
            .field("default", &self.all[self.default].name())
            .finish()
    }
}

impl Dialects {
    /// `all` in priority order for equal claims; `default` names the dialect of requests no
    /// dialect claims. Fails when `all` is empty or `default` is not among them.
    pub fn new(all: Vec<std::sync::Arc<dyn Dialect>>, default: &str) -> Result<Self, String> {
        let names: Vec<&str> = all.iter().map(|d| d.name()).collect();
        let default = names
            .iter()
            .position(|n| *n == default)
            .ok_or_else(|| format!("{default:?} is not one of the dialects {names:?}"))?;
        Ok(Self { all, default })
    }

    /// The dialect a request speaks: the strongest claim, the first registered among equals,
    /// or the default.
    pub fn detect(&self, parts: &Parts) -> &std::sync::Arc<dyn Dialect> {
        let mut best: Option<(Claim, usize)> = None;
        for (i, d) in self.all.iter().enumerate() {
            if let Some(c) = d.detect(parts)
                && best.is_none_or(|(b, _)| c > b)
            {
                best = Some((c, i));
            }
        }
        &self.all[best.map_or(self.default, |(_, i)| i)]
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.all.iter().map(|d| d.name())
    }
}
