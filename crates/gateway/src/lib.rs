//! The dragoman server: a tower stack over hyper that detects the caller's dialect, decodes,
//! authenticates, authorizes, asks the backend, and encodes the answer in the same dialect.
//!
//! [`stack`] assembles the whole request path and reads top to bottom. Every layer is its own
//! module with one concern; errors are values (`BoxError` holding a canonical `Error`) until
//! [`respond`] renders them, the one place an error becomes a response.

mod access;
mod admin;
mod auth;
mod check;
mod connection;
mod context;
mod decode;
mod detect;
mod dispatch;
mod forward;
mod idle;
mod limits;
mod local;
mod login_guard;
mod request_id;
mod respond;
mod secure;
mod server;
mod shed;
pub mod tls;

use std::convert::Infallible;
use std::sync::Arc;

use dragoman_backend::Router;
use dragoman_dialect::Dialects;
use dragoman_metrics::Metrics;
use http::{Request, Response};
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;

pub use access::{Access, User};
pub use admin::{Admin, SweepHook, serve_admin};
pub use auth::{Authenticate, Authorize};
pub use check::{Check, CheckLayer};
pub use context::{Body, Caller, Payload, Peer, full};
pub use decode::Decode;
pub use detect::DetectLayer;
pub use dispatch::Dispatch;
pub use limits::{HeaderLimit, Limits, ReadBodyLayer};
pub use local::LocalRouteLayer;
pub use login_guard::LoginLimits;
pub use request_id::{RequestId, RequestIdLayer, TraceParent};
pub use respond::{RespondLayer, canonical};
pub use secure::RequireTls;
pub use server::{Readiness, ServerConfig, serve};
pub use shed::ShedLayer;

/// What the request path needs besides the router.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// The registered dialects, and the one anonymous requests speak.
    pub dialects: Dialects,
    pub users: Vec<User>,
    pub limits: Limits,
    /// Requests served at once; beyond it the caller gets its dialect's 503 at once.
    pub max_concurrency: usize,
    /// Requests the gateway answers itself doing their work at once; more wait.
    pub max_working: usize,
    /// Failed logins allowed per user name and per client address.
    pub login: LoginLimits,
    /// The dialects whose credentials are refused over plain HTTP.
    pub require_tls_for: Vec<String>,
}

/// The whole inbound stack for one listener, as a cloneable service that never fails.
pub type Stack<B> = BoxCloneSyncService<Request<B>, Response<Body>, Infallible>;

/// The request path, in the order a request meets it.
pub fn stack<B>(config: GatewayConfig, router: Arc<Router>, metrics: &Metrics) -> Stack<B>
where
    B: http_body::Body<Data = bytes::Bytes> + Send + Sync + 'static,
    B::Error: Into<tower::BoxError>,
{
    let access = Arc::new(Access::with_login_limits(config.users, config.login));
    let service = ServiceBuilder::new()
        // Identity: a request id, and the caller's trace context.
        .layer(RequestIdLayer)
        // Which dialect: needed by everything below to answer the caller in its own terms.
        .layer(DetectLayer::new(config.dialects))
        // The one place errors and panics become responses; access log and metrics.
        .layer(RespondLayer::new(metrics.clone()))
        // Secrets in the clear are refused, in the caller's dialect, before anything else.
        .layer(CheckLayer::new(RequireTls::new(config.require_tls_for)))
        .layer(CheckLayer::new(HeaderLimit::new(config.limits)))
        // What is asked, from the head alone: an operation the gateway neither serves nor
        // forwards is refused before its body is read.
        .layer(CheckLayer::new(Decode::new(Arc::clone(&router))))
        // The body, bounded in size and time, read before a slot is taken: a slow sender
        // holds a connection, not one of the slots of the work below. A forwarded body
        // streams instead, bounded in silence.
        .layer(ReadBodyLayer::new(config.limits))
        // Overload answers at once (503 SlowDown or the dialect's equivalent).
        .layer(ShedLayer::new(config.max_concurrency))
        // A dialect's own routes (Qumulo's login).
        .layer(LocalRouteLayer::new(Arc::clone(&access)))
        .layer(CheckLayer::new(Authenticate {
            access: Arc::clone(&access),
        }))
        .layer(CheckLayer::new(Authorize {
            access: Arc::clone(&access),
        }))
        .service(Dispatch::new(
            router,
            access,
            config.limits.body_read_timeout,
            config.max_working,
        ));
    BoxCloneSyncService::new(service)
}
