//! The floor of dragoman's transport, for `tests/load/peers.py`: the same runtime, allocator,
//! hyper server settings and outbound client (`dragoman_backend::http::send`) as the gateway,
//! and nothing else. Each GET is sent on to one fixed backend as it came (path and query)
//! and its answer read whole and returned. No layers, no dialect, no signature, no parsing.
//!
//! What dragoman costs above this is its own work; what this costs above nginx is the stack's
//! (tokio, hyper, the pool), which no change inside dragoman's layers can take back.
//!
//! `cargo run --release -p dragoman-backend --example floor_proxy -- 127.0.0.1:8080 http://127.0.0.1:9000`

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dragoman_backend::http::{HttpClient, HttpOptions, client, send};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};

#[global_allocator]
static ALLOCATOR: dragoman_alloc::MiMalloc = dragoman_alloc::MiMalloc;

async fn proxy(
    client: Arc<HttpClient>,
    backend: Arc<str>,
    req: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let out = http::Request::get(format!("{backend}{target}")).body(Bytes::new());
    let answer = match out {
        Ok(out) => send(&client, "floor", 16 << 20, out).await.ok(),
        Err(_) => None,
    };
    let resp = match answer {
        Some((status, body)) => http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/octet-stream")
            .body(Full::new(body)),
        None => http::Response::builder()
            .status(http::StatusCode::BAD_GATEWAY)
            .body(Full::new(Bytes::new())),
    };
    Ok(resp.unwrap_or_else(|_| http::Response::new(Full::new(Bytes::new()))))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(backend)) = (args.next(), args.next()) else {
        return Err("usage: floor_proxy LISTEN_ADDR BACKEND_URL".into());
    };
    let listen: SocketAddr = listen.parse()?;
    let backend: Arc<str> = backend.trim_end_matches('/').into();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = Arc::new(client(&HttpOptions::default()).map_err(|e| e.to_string())?);
        let listener = tokio::net::TcpListener::bind(listen).await?;
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (client, backend) = (Arc::clone(&client), Arc::clone(&backend));
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    proxy(Arc::clone(&client), Arc::clone(&backend), req)
                });
                // As the gateway's listener sets its connections up (gateway::server).
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}
