//! What the layers learn about a request and hand to each other through its extensions.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use dragoman_dialect::{BodyProof, Dialect, StreamBody, Target};
use dragoman_model::{Operation, Principal, RequestMeta};

/// The body type of every response the stack writes: bytes it encoded, or a backend's
/// answer streaming through.
pub type Body = StreamBody;

/// A response body from bytes in memory.
pub fn full(bytes: Bytes) -> Body {
    dragoman_dialect::forward::full(bytes)
}

/// A request's body within the stack: read whole for the operations the gateway decodes
/// (bounded by `max_body_bytes`), streaming for those it forwards.
pub enum Payload {
    Read(Bytes),
    Streamed(StreamBody),
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(b) => write!(f, "Read({} bytes)", b.len()),
            Self::Streamed(_) => f.write_str("Streamed"),
        }
    }
}

/// The connection a request came over (set by the listener): where from, and whether it
/// is TLS. One value for both, since every request gets it.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    pub addr: std::net::SocketAddr,
    pub tls: bool,
}

/// The caller's dialect and the request's ids written its way (set by detection). Four layers
/// take their own copy, so the ids are shared rather than copied (two strings each time).
#[derive(Clone)]
pub struct Caller {
    pub dialect: Arc<dyn Dialect>,
    pub meta: Arc<RequestMeta>,
}

/// What inner layers found out, for the access log and metrics that Respond writes once the
/// response (or the error) is known. Each field is set at most once, by the layer that knows.
#[derive(Debug, Default)]
pub struct Notes {
    pub operation: OnceLock<&'static str>,
    pub user: OnceLock<Arc<str>>,
    pub backend: OnceLock<String>,
}

/// What the request asks for (set by the decode layer).
#[derive(Clone, Debug)]
pub enum Decoded {
    /// A canonical operation, for a backend.
    Op(Operation),
    /// One of the dialect's local routes (Qumulo's login), by operation name.
    Local(&'static str),
    /// A request for a backend of the caller's own protocol, passed on as it is.
    Forward(Target),
}

/// What a forwarded request's body must still prove (set by the authenticate layer).
#[derive(Clone, Debug)]
pub struct StreamProof(pub Arc<dyn BodyProof>);

/// The authenticated caller (set by the authenticate layer).
#[derive(Clone, Debug)]
pub struct Authenticated(pub Principal);

/// Notes of a request, created on first use.
pub fn notes<B>(req: &mut http::Request<B>) -> Arc<Notes> {
    Arc::clone(
        req.extensions_mut()
            .get_or_insert_with(|| Arc::new(Notes::default())),
    )
}
