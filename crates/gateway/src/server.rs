//! The listener: accepts connections, serves HTTP/1.1 through the tower stack, and drains
//! in-flight requests on shutdown.

use std::future::Future;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::Body;
use crate::connection::PerConnection;

/// Whether the process should receive traffic: false once shutdown begins, so that
/// `/readyz` fails before the listener closes and load balancers move on first.
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    draining: Arc<AtomicBool>,
}

impl Readiness {
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }
}

/// Connection-level limits.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// A client must send its whole header within this time (slow-loris bound). It also
    /// bounds how long a kept-alive connection may sit idle between requests (hyper starts
    /// the same timer when a connection goes idle).
    pub header_read_timeout: Duration,
    /// Connections open at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// How long in-flight requests may take to finish after shutdown begins.
    pub shutdown_grace: Duration,
    /// How long the listener keeps accepting after shutdown begins, with `/readyz` already
    /// failing: the time a load balancer's health checks need to take the replica out of
    /// rotation, so that no request reaches a closed listener.
    pub drain_delay: Duration,
    /// TLS on the same port as plain HTTP: a connection whose first byte opens a TLS handshake
    /// is served over TLS, any other in the clear.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            max_connections: 16_384,
            shutdown_grace: Duration::from_secs(30),
            drain_delay: Duration::ZERO,
            tls: None,
        }
    }
}

/// hyper's own bound on the header buffer. The gateway refuses smaller excesses itself, in
/// the caller's dialect; hyper answers a bare 431 only past this much larger bound.
const MAX_BUF: usize = 256 * 1024;
const MAX_HEADERS: usize = 256;

/// Whether a connection opens with a TLS handshake record (content type 22). Waits for the
/// first byte at most `timeout`; a silent or closed connection is treated as plain HTTP, which
/// hyper then times out or closes.
async fn starts_tls(stream: &tokio::net::TcpStream, timeout: Duration) -> bool {
    let mut first = [0u8; 1];
    matches!(tokio::time::timeout(timeout, stream.peek(&mut first)).await, Ok(Ok(1)) if first[0] == 0x16)
}

/// Serves one connection, plain or TLS, through the stack, watched for graceful shutdown.
async fn serve_connection<I, S>(
    io: I,
    stack: PerConnection<S>,
    watcher: Watcher,
    header_timeout: Duration,
) -> Result<(), hyper::Error>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<Body>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_BUF)
        .max_headers(MAX_HEADERS)
        .serve_connection(TokioIo::new(io), stack);
    watcher.watch(conn).await
}

/// Serves `stack` on `listener` until `shutdown` completes, then drains: readiness fails
/// first (and the listener still serves for `drain_delay`), the listener closes, and
/// in-flight requests get `shutdown_grace` to finish.
pub async fn serve<S>(
    listener: TcpListener,
    stack: S,
    config: ServerConfig,
    readiness: Readiness,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<Body>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let (draining, delay) = (readiness.clone(), config.drain_delay);
    let shutdown = async move {
        shutdown.await;
        draining.start_draining();
        if !delay.is_zero() {
            tracing::info!(
                ?delay,
                "shutting down: not ready, serving on while load balancers notice"
            );
            tokio::time::sleep(delay).await;
        }
    };
    tokio::pin!(shutdown);
    loop {
        // A connection slot first, then a connection: past the cap, callers wait in the
        // kernel's backlog instead of costing a task, buffers and a descriptor each.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
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
                let stack = stack.clone();
                let watcher = graceful.watcher();
                let tls = config.tls.clone().map(TlsAcceptor::from);
                let timeout = config.header_read_timeout;
                tokio::spawn(async move {
                    let _slot = slot;
                    let served = match tls {
                        Some(acceptor) if starts_tls(&stream, timeout).await => {
                            match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                                Ok(Ok(tls)) => {
                                    let stack = PerConnection::new(stack, peer, true);
                                    serve_connection(tls, stack, watcher, timeout).await
                                }
                                Ok(Err(e)) => {
                                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => {
                                    tracing::debug!(%peer, "TLS handshake timed out");
                                    return;
                                }
                            }
                        }
                        _ => {
                            let stack = PerConnection::new(stack, peer, false);
                            serve_connection(stream, stack, watcher, timeout).await
                        }
                    };
                    if let Err(e) = served {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    readiness.start_draining();
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
