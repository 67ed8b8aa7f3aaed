//! The listener: accepts connections, serves HTTP/1.1 through the tower stack, and drains
//! in-flight requests on shutdown.

use std::future::Future;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower::limit::ConcurrencyLimitLayer;

use crate::{Gateway, RequestIdLayer};

/// Connection-level limits.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// How many requests are served at once; the rest wait their turn.
    pub max_concurrency: usize,
    /// A client must send its whole header within this time (slow-loris bound).
    pub header_read_timeout: Duration,
    /// How long in-flight requests may take to finish after shutdown begins.
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_concurrency: 1024,
            header_read_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// hyper's own bound on the header buffer. The gateway refuses smaller excesses itself, in
/// the caller's dialect; hyper answers a bare 431 only past this much larger bound.
const MAX_BUF: usize = 256 * 1024;
const MAX_HEADERS: usize = 256;

/// Serves `gateway` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    gateway: Gateway,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let stack = ServiceBuilder::new()
        .layer(RequestIdLayer)
        .layer(ConcurrencyLimitLayer::new(config.max_concurrency))
        .service(gateway);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(config.header_read_timeout)
                    .max_buf_size(MAX_BUF)
                    .max_headers(MAX_HEADERS)
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(stack.clone()));
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: no new connections, draining in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections drained"),
        () = tokio::time::sleep(config.shutdown_grace) => {
            tracing::warn!(grace = ?config.shutdown_grace, "grace period over; closing remaining connections");
        }
    }
    Ok(())
}
