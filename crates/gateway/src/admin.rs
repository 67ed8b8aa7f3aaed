//! The admin listener, on its own address so that it can stay private while the gateway's
//! port is exposed: `/healthz` (the process serves), `/readyz` (it should get traffic),
//! `/metrics` (Prometheus text) and `POST /admin/sweep` (a sweep of abandoned uploads, with
//! the configured admin token).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dragoman_backend::{Breaker, BreakerState};
use dragoman_metrics::Metrics;
use http::{Method, Request, Response, StatusCode, header};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::{Body, Readiness};

/// Runs a sweep for `POST /admin/sweep` from the request's query: its status and JSON body.
pub type SweepHook = Arc<
    dyn Fn(String) -> futures_util::future::BoxFuture<'static, (StatusCode, String)> + Send + Sync,
>;

/// What the admin endpoints report on.
#[derive(Clone)]
pub struct Admin {
    /// `POST /admin/sweep`, when configured: the hook and the bearer token it requires.
    pub sweep: Option<(SweepHook, Arc<str>)>,
    pub metrics: Metrics,
    pub readiness: Readiness,
    pub breakers: Vec<Arc<Breaker>>,
    /// Whether the embedded store answers; `None` when there is no store to check.
    pub store: Option<Arc<dyn Fn() -> Result<(), String> + Send + Sync>>,
}

impl Admin {
    /// Why the process should not get traffic now; empty when it should.
    pub fn not_ready(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.readiness.draining() {
            reasons.push("shutting down: draining in-flight requests".to_owned());
        }
        if let Some(check) = &self.store
            && let Err(e) = check()
        {
            reasons.push(format!("embedded store: {e}"));
        }
        for b in &self.breakers {
            if b.state() == BreakerState::Open {
                reasons.push(format!("backend {}: circuit breaker open", b.backend()));
            }
        }
        reasons
    }

    pub fn answer<B>(&self, req: &Request<B>) -> Response<Body> {
        let text = |status: StatusCode, ctype: &'static str, body: String| {
            let mut resp = Response::new(crate::context::full(Bytes::from(body)));
            *resp.status_mut() = status;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(ctype),
            );
            resp
        };
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                "GET only\n".into(),
            );
        }
        match req.uri().path() {
            "/healthz" => text(StatusCode::OK, "text/plain", "ok\n".into()),
            "/readyz" => {
                let reasons = self.not_ready();
                let status = if reasons.is_empty() {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                let body = serde_json::json!({ "ready": reasons.is_empty(), "reasons": reasons });
                text(status, "application/json", format!("{body}\n"))
            }
            "/metrics" => text(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                self.metrics.render(),
            ),
            _ => text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
        }
    }
}

impl Admin {
    /// `POST /admin/sweep?older_than=7d[&abort=true&buckets=…&backend=…&prefix=…]`, with
    /// `Authorization: Bearer <admin token>`.
    async fn sweep<B>(&self, req: &Request<B>) -> Response<Body> {
        let json = |status: StatusCode, body: String| {
            let mut resp = Response::new(crate::context::full(Bytes::from(body)));
            *resp.status_mut() = status;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            resp
        };
        let error = |status: StatusCode, message: &str| {
            json(
                status,
                format!("{}\n", serde_json::json!({ "error": message })),
            )
        };
        let Some((hook, token)) = &self.sweep else {
            return error(
                StatusCode::NOT_FOUND,
                "sweeping over HTTP is off: set admin.token (or admin.token_file)",
            );
        };
        if req.method() != Method::POST {
            return error(StatusCode::METHOD_NOT_ALLOWED, "POST only");
        }
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let matches: bool =
            subtle::ConstantTimeEq::ct_eq(given.as_bytes(), token.as_bytes()).into();
        if !matches {
            return error(StatusCode::UNAUTHORIZED, "a valid admin token is required");
        }
        let (status, body) = hook(req.uri().query().unwrap_or_default().to_owned()).await;
        json(status, body)
    }
}

/// Serves the admin endpoints on `listener` until `shutdown` completes.
pub async fn serve_admin(listener: TcpListener, admin: Admin, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let admin = admin.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let admin = admin.clone();
                        async move {
                            let resp = if req.uri().path() == "/admin/sweep" {
                                admin.sweep(&req).await
                            } else {
                                admin.answer(&req)
                            };
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            () = &mut shutdown => return,
        }
    }
}
