//! What the gateway's socket tests share: a gateway over an embedded store, served on
//! `127.0.0.1:0` with the real listener.
#![allow(dead_code, clippy::unwrap_used)] // test support: a failure here is the test failing

use std::net::SocketAddr;
use std::sync::Arc;

use dragoman_backend::Router;
use dragoman_dialect::Dialects;
use dragoman_dialect_bos::BosDialect;
use dragoman_dialect_qumulo::{QumuloConfig, QumuloDialect};
use dragoman_dialect_s3::S3Dialect;
use dragoman_gateway::{GatewayConfig, Limits, Readiness, ServerConfig, User, serve};
use dragoman_metrics::Metrics;
use dragoman_store::Store;
use tokio::net::TcpListener;

/// The three dialects, as the binary registers them.
pub fn dialects(qumulo: QumuloConfig, default: &str) -> Dialects {
    Dialects::new(
        vec![
            Arc::new(QumuloDialect { config: qumulo }),
            Arc::new(BosDialect::default()),
            Arc::new(S3Dialect::default()),
        ],
        default,
    )
    .unwrap()
}

/// Serves a gateway over `store` until the returned sender is dropped.
pub async fn serve_store(
    store: Arc<Store>,
    users: Vec<User>,
    dialects: Dialects,
    server: ServerConfig,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let metrics = Metrics::new();
    let (embedded, _) = dragoman_backend::embedded(store, &metrics);
    let router = Arc::new(Router::new(vec![], embedded));
    let config = GatewayConfig {
        dialects,
        users,
        limits: Limits::default(),
        max_concurrency: 64,
        max_working: 64,
        login: Default::default(),
        require_tls_for: Vec::new(),
    };
    let stack = dragoman_gateway::stack(config, router, &metrics);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(
        listener,
        stack,
        server,
        Readiness::default(),
        async {
            let _ = stopped.await;
        },
    ));
    (addr, stop)
}
