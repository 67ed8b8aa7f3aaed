//! The inbound layers in process, with `tower::ServiceExt::oneshot` and no sockets: what each
//! layer does to a request, and that every failure is answered in the caller's dialect.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the test failing

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dragoman_gateway::{
    Body, CheckLayer, DetectLayer, HeaderLimit, Limits, Payload, ReadBodyLayer, RequestIdLayer,
    RespondLayer, full,
};
use dragoman_metrics::Metrics;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use tower::{BoxError, Service, ServiceBuilder, ServiceExt, service_fn};

mod common;

fn request(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::builder().uri(uri);
    if !headers.iter().any(|(k, _)| *k == "host") {
        b = b.header("host", "127.0.0.1");
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(full(Bytes::new())).unwrap()
}

fn s3() -> Request<Body> {
    request(
        "/b?uploads",
        &[("authorization", "AWS4-HMAC-SHA256 Credential=x")],
    )
}

fn bos() -> Request<Body> {
    request(
        "/b?uploads=",
        &[(
            "authorization",
            "bce-auth-v1/ak/2015-04-27T08:23:49Z/1800//x",
        )],
    )
}

fn qumulo() -> Request<Body> {
    request(
        "/v1/s3/buckets/b/uploads/",
        &[("authorization", "Bearer x")],
    )
}

async fn body(resp: Response<Body>) -> String {
    String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

/// Detection and Respond around `inner`, as `gateway::stack` puts them.
fn around<S>(inner: S, metrics: &Metrics) -> dragoman_gateway::Stack<Body>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = BoxError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    tower::util::BoxCloneSyncService::new(
        ServiceBuilder::new()
            .layer(RequestIdLayer)
            .layer(DetectLayer::new(common::dialects(Default::default(), "s3")))
            .layer(RespondLayer::new(metrics.clone()))
            .service(inner),
    )
}

#[tokio::test]
async fn a_panic_is_a_500_in_each_dialect_and_the_service_goes_on() {
    let metrics = Metrics::new();
    let panicking = service_fn(|req: Request<Body>| async move {
        if req.uri().path().contains("boom") || req.uri().path().starts_with("/v1/") {
            panic!("injected");
        }
        Ok::<_, BoxError>(Response::new(full(Bytes::from_static(b"fine"))))
    });
    let svc = around(panicking, &metrics);
    let s3 = svc
        .clone()
        .oneshot(request("/boom?uploads", &[("x-amz-date", "x")]))
        .await
        .unwrap();
    assert_eq!(s3.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(s3.headers().contains_key("x-amz-request-id"));
    let text = body(s3).await;
    assert!(
        text.contains("<Code>InternalError</Code>") && !text.contains("injected"),
        "{text}"
    );

    let bos = svc
        .clone()
        .oneshot(request("/boom?uploads=", &[("x-bce-date", "x")]))
        .await
        .unwrap();
    assert_eq!(bos.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(bos.headers().contains_key("x-bce-request-id"));
    let json: serde_json::Value = serde_json::from_str(&body(bos).await).unwrap();
    assert_eq!(json["code"], "InternalError");

    let q = svc.clone().oneshot(qumulo()).await.unwrap();
    assert_eq!(q.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let json: serde_json::Value = serde_json::from_str(&body(q).await).unwrap();
    assert!(json["error_class"].is_string(), "{json}");

    // The same service answers the next request.
    let ok = svc.oneshot(request("/fine", &[])).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(
        metrics
            .render()
            .contains(r#"dragoman_requests_total{dialect="s3",operation="none",status="500"} 1"#)
    );
}

#[tokio::test]
async fn an_overloaded_gateway_answers_at_once_with_the_dialects_503() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let waiting = {
        let gate = Arc::clone(&gate);
        service_fn(move |_req: Request<Body>| {
            let gate = Arc::clone(&gate);
            async move {
                gate.notified().await;
                Ok::<_, BoxError>(Response::new(full(Bytes::new())))
            }
        })
    };
    let inner = ServiceBuilder::new()
        .load_shed()
        .concurrency_limit(1)
        .service(waiting);
    let svc = around(
        tower::util::BoxCloneSyncService::new(inner),
        &Metrics::new(),
    );
    let held = tokio::spawn(svc.clone().oneshot(s3()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    for (req, code) in [(s3(), "SlowDown"), (bos(), "SlowDown")] {
        let resp = tokio::time::timeout(Duration::from_millis(500), svc.clone().oneshot(req))
            .await
            .expect("an overloaded gateway must not queue")
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(body(resp).await.contains(code));
    }
    let resp = svc.clone().oneshot(qumulo()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    gate.notify_one();
    assert_eq!(held.await.unwrap().unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_that_never_comes_is_a_timeout_and_large_headers_are_refused() {
    let limits = Limits {
        body_read_timeout: Duration::from_millis(100),
        max_header_bytes: 1024,
        ..Limits::default()
    };
    let echo = service_fn(|_req: Request<Payload>| async {
        Ok::<_, BoxError>(Response::new(full(Bytes::new())))
    });
    let inner = ServiceBuilder::new()
        .layer(CheckLayer::new(HeaderLimit::new(limits)))
        .layer(ReadBodyLayer::new(limits))
        .service(echo);
    let svc = ServiceBuilder::new()
        .layer(RequestIdLayer)
        .layer(DetectLayer::new(common::dialects(Default::default(), "s3")))
        .layer(RespondLayer::new(Metrics::new()))
        .service(inner);
    // A body stream that stays open and sends nothing.
    let (_tx, rx) = tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, Infallible>>(1);
    let stalled = http_body_util::StreamBody::new(tokio_stream_from(rx));
    let req = Request::builder()
        .method("POST")
        .uri("/b/k?uploads")
        .header("x-amz-date", "x")
        .body(stalled)
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(2), svc.clone().oneshot(req))
        .await
        .expect("the body read must time out")
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(body(resp).await.contains("<Code>RequestTimeout</Code>"));

    let big = "x".repeat(2000);
    let (_tx2, rx2) = tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, Infallible>>(1);
    let req = Request::builder()
        .uri("/b?uploads")
        .header("x-amz-meta-big", big.as_str())
        .body(http_body_util::StreamBody::new(tokio_stream_from(rx2)))
        .unwrap();
    let resp = svc.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(body(resp).await.contains("RequestHeaderSectionTooLarge"));
}

/// A stream over an mpsc receiver, without pulling in tokio-stream.
fn tokio_stream_from<T>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[test]
fn one_listener_tells_the_dialects_apart() {
    let d = common::dialects(Default::default(), "s3");
    let name = |req: Request<Body>| d.detect(&req.into_parts().0).name();
    assert_eq!(name(bos()), "bos");
    assert_eq!(name(s3()), "s3");
    assert_eq!(
        name(request("/?uploads=", &[("host", "b.bj.bcebos.com")])),
        "bos"
    );
    assert_eq!(name(request("/b", &[("x-amz-date", "x")])), "s3");
    assert_eq!(name(request("/b?X-Amz-Signature=x", &[])), "s3");
    assert_eq!(
        name(request("/b?authorization=bce-auth-v1%2Fx", &[])),
        "bos"
    );
    assert_eq!(name(qumulo()), "qumulo");
    assert_eq!(name(request("/v1/session/login", &[])), "qumulo");
    // BOS's legacy /v1/<bucket> stays BOS.
    assert_eq!(
        name(request(
            "/v1/mybucket?uploads=",
            &[(
                "authorization",
                "bce-auth-v1/ak/2015-04-27T08:23:49Z/1800//x"
            )]
        )),
        "bos"
    );
    // Anonymous requests fall to the listener's default.
    assert_eq!(name(request("/b?uploads", &[])), "s3");
    let bos_default = common::dialects(Default::default(), "bos");
    assert_eq!(
        bos_default
            .detect(&request("/b?uploads", &[]).into_parts().0)
            .name(),
        "bos"
    );
}

/// The whole stack of `gateway::stack` over an embedded store, in process: local route,
/// authentication, authorization and dispatch, each answered in the caller's dialect.
#[tokio::test]
async fn the_assembled_stack_authenticates_authorizes_and_dispatches() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(dragoman_store::Store::open(dir.path()).unwrap());
    store.create_bucket("team-a-logs").unwrap();
    store.create_bucket("private").unwrap();
    let metrics = Metrics::new();
    let (embedded, _) = dragoman_backend::embedded(store, &metrics);
    let router = Arc::new(dragoman_backend::Router::new(vec![], embedded));
    let qumulo = dragoman_dialect_qumulo::QumuloConfig {
        token_key: b"an in-process test key of 32+ chars".to_vec(),
        ..Default::default()
    };
    let config = dragoman_gateway::GatewayConfig {
        dialects: common::dialects(qumulo, "s3"),
        users: vec![dragoman_gateway::User {
            name: "team-a".into(),
            access_key: "AK".into(),
            secret_key: "secret-of-team-a".into(),
            buckets: vec!["team-a-*".into()],
            password: Some("password-of-team-a".into()),
            access_tokens: vec!["access-v1:team-a-token".into()],
        }],
        limits: Limits::default(),
        max_concurrency: 8,
        max_working: 64,
        login: Default::default(),
        require_tls_for: Vec::new(),
    };
    let svc = dragoman_gateway::stack::<Body>(config, router, &metrics);
    let bearer =
        |uri: &str, token: &str| request(uri, &[("authorization", &format!("Bearer {token}"))]);

    let listed = svc
        .clone()
        .oneshot(bearer(
            "/v1/s3/buckets/team-a-logs/uploads/",
            "access-v1:team-a-token",
        ))
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body(listed).await).unwrap();
    assert_eq!(json["uploads"], serde_json::json!([]));

    let denied = svc
        .clone()
        .oneshot(bearer(
            "/v1/s3/buckets/private/uploads/",
            "access-v1:team-a-token",
        ))
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let unknown = svc
        .clone()
        .oneshot(bearer(
            "/v1/s3/buckets/team-a-logs/uploads/",
            "access-v1:forged-token",
        ))
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    // The login route is the Qumulo dialect's own; its session works like a token.
    let login = Request::builder()
        .method("POST")
        .uri("/v1/session/login")
        .header("host", "127.0.0.1")
        .body(full(Bytes::from_static(
            br#"{"username": "team-a", "password": "password-of-team-a"}"#,
        )))
        .unwrap();
    let session = svc.clone().oneshot(login).await.unwrap();
    assert_eq!(session.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body(session).await).unwrap();
    let token = json["bearer_token"].as_str().unwrap().to_owned();
    let listed = svc
        .clone()
        .oneshot(bearer("/v1/s3/buckets/team-a-logs/uploads/", &token))
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);

    // Anonymous S3: refused in S3's terms.
    let anonymous = svc
        .oneshot(request("/team-a-logs?uploads", &[]))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    assert!(body(anonymous).await.contains("<Code>AccessDenied</Code>"));
    let text = metrics.render();
    assert!(
        text.contains(
            r#"dragoman_requests_total{dialect="qumulo",operation="login",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"dragoman_requests_total{dialect="qumulo",operation="list_uploads",status="403"} 1"#
        ),
        "{text}"
    );
}
