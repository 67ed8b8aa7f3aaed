//! Forwarding: a caller's request passed to a backend of its own protocol, re-signed, with
//! both bodies streaming. Clients build and sign the request ([`Client::forward`]); this
//! module holds what every protocol shares: the URL, the send with a bounded wait for the
//! answer's head, and the breaker and metrics around it.
//!
//! It bypasses the outbound tower stack on purpose: a streamed body can be sent once, so
//! there is no retry, and a call's duration is the transfer's, so there is no overall
//! timeout. The breaker and the metrics still see every forwarded call.
//!
//! [`Client::forward`]: crate::Client::forward

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dragoman_dialect::StreamBody;
use dragoman_metrics::Metrics;
use dragoman_model::Error;
use http::{HeaderMap, Method, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;

use crate::client::Client;
use crate::http::transport_error;
use crate::outbound::Breaker;

/// One forwarded request, addressed to the backend's names.
pub struct ForwardCall {
    pub method: Method,
    /// The bucket's name on the backend.
    pub bucket: String,
    /// The object key, decoded.
    pub key: Option<String>,
    /// The caller's query, as sent (the client drops its own authentication parameters).
    pub query: Option<String>,
    /// End-to-end headers, without hop-by-hop ones.
    pub headers: HeaderMap,
    pub body: StreamBody,
    /// The copy source's bucket on the backend, for the client to write into its header.
    pub copy_source_bucket: Option<String>,
    /// How long the backend may take to answer once the request body is sent.
    pub head_timeout: Duration,
}

impl std::fmt::Debug for ForwardCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardCall")
            .field("method", &self.method)
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// The URL of a forwarded request: the backend's address for the bucket and key (every key
/// byte but `/` encoded), then the query.
fn forward_uri(
    scheme: &str,
    authority: &str,
    virtual_hosted: bool,
    bucket: &str,
    key: Option<&str>,
    query: Option<&str>,
) -> Result<(http::Uri, String), Error> {
    let (host, mut path) = dragoman_wire::bucket_address(authority, virtual_hosted, Some(bucket));
    if let Some(k) = key {
        if !path.ends_with('/') {
            path.push('/');
        }
        path.push_str(&dragoman_wire::uri_encode(k.as_bytes(), true));
    }
    let mut uri = format!("{scheme}://{host}{path}");
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(q);
    }
    let uri = uri
        .parse()
        .map_err(|e| Error::internal(format!("cannot build a forwarded URL: {e}")))?;
    Ok((uri, host))
}

/// The query without the parameters `drop` names (the caller's presigned authentication).
fn filtered_query(raw: &str, drop: impl Fn(&str) -> bool) -> Option<String> {
    let kept: Vec<&str> = raw
        .split('&')
        .filter(|p| !p.is_empty() && !drop(p.split('=').next().unwrap_or_default()))
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

/// How one protocol addresses and authenticates a forwarded request.
pub(crate) struct Protocol {
    pub scheme: String,
    pub authority: String,
    pub virtual_hosted: bool,
    /// The caller's authentication headers, replaced by the backend's signature.
    pub own_headers: &'static [&'static str],
    /// Whether a query parameter is the caller's presigned authentication.
    pub own_parameter: fn(&str) -> bool,
    /// The header that names a copy's source (`x-amz-copy-source`, `x-bce-copy-source`).
    pub copy_header: &'static str,
}

/// The unsigned head of a forwarded request under the backend's names, and its body.
pub(crate) fn outgoing(
    p: &Protocol,
    call: ForwardCall,
) -> Result<(http::request::Parts, StreamBody), Error> {
    let query = call
        .query
        .as_deref()
        .and_then(|q| filtered_query(q, p.own_parameter));
    let (uri, host) = forward_uri(
        &p.scheme,
        &p.authority,
        p.virtual_hosted,
        &call.bucket,
        call.key.as_deref(),
        query.as_deref(),
    )?;
    let mut headers = call.headers;
    for own in p.own_headers {
        headers.remove(*own);
    }
    if let Some(source_bucket) = &call.copy_source_bucket
        && let Some(raw) = headers.get(p.copy_header)
    {
        let (_, rest) = dragoman_wire::copy_source(p.copy_header, raw.as_bytes())?;
        let mut value = format!(
            "/{}",
            dragoman_wire::uri_encode(source_bucket.as_bytes(), true)
        )
        .into_bytes();
        value.extend_from_slice(rest);
        let value = http::HeaderValue::from_bytes(&value)
            .map_err(|e| Error::internal(format!("{}: {e}", p.copy_header)))?;
        headers.insert(p.copy_header, value);
    }
    headers.insert(
        http::header::HOST,
        http::HeaderValue::from_str(&host)
            .map_err(|e| Error::internal(format!("backend host: {e}")))?,
    );
    let (mut parts, ()) = http::Request::builder()
        .method(call.method)
        .uri(uri)
        .body(())
        .map_err(|e| Error::internal(format!("cannot build a forwarded request: {e}")))?
        .into_parts();
    parts.headers = headers;
    Ok((parts, call.body))
}

/// A request body that reports when it has been sent in full (or given up), so the wait for
/// the answer's head starts then: a 5 GiB upload may take its time; the answer may not.
struct SignalEnd {
    inner: StreamBody,
    done: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Body for SignalEnd {
    type Data = Bytes;
    type Error = dragoman_dialect::forward::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        if !matches!(frame, Some(Ok(_)))
            && let Some(done) = this.done.take()
        {
            let _ = done.send(());
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The caller's own fault somewhere in a transport error's chain (a body that failed its
/// signature or digest while it streamed): that, not a backend failure, is the answer.
fn callers_fault(e: &(dyn std::error::Error + 'static)) -> Option<Error> {
    if let Some(own) = e.downcast_ref::<Error>() {
        return Some(own.clone());
    }
    e.source().and_then(callers_fault)
}

/// Sends a signed request head with a streaming body; returns the answer with its body
/// streaming. `parts.uri` must be the URL meant: one the URL parser would change (dot
/// segments in a key) is refused.
pub(crate) async fn send_streamed(
    client: &crate::http::HttpClient,
    backend: &str,
    parts: http::request::Parts,
    body: StreamBody,
    head_timeout: Duration,
) -> Result<Response<StreamBody>, Error> {
    let (done, sent) = tokio::sync::oneshot::channel();
    let body = SignalEnd {
        inner: body,
        done: Some(done),
    }
    .boxed();
    let mut req = http::Request::from_parts(parts, body);
    crate::http::prepare(&mut req)?;
    let answer = client.execute(req);
    let deadline = async {
        let _ = sent.await;
        tokio::time::sleep(head_timeout).await;
    };
    let resp = tokio::select! {
        r = answer => r.map_err(|e| callers_fault(&e).unwrap_or_else(|| transport_error(backend, &e)))?,
        () = deadline => return Err(Error::BackendTimeout),
    };
    Ok(resp.map(|b| {
        b.map_err(|e| Box::new(e) as dragoman_dialect::forward::BoxError)
            .boxed()
    }))
}

/// Forwarding for one backend: its client, under its breaker, with its metrics.
pub(crate) struct Forwarder {
    pub name: Arc<str>,
    pub client: Arc<dyn Client>,
    pub breaker: Arc<Breaker>,
    pub metrics: Metrics,
    pub head_timeout: Duration,
}

impl Forwarder {
    pub(crate) async fn forward(
        &self,
        mut call: ForwardCall,
    ) -> Result<Response<StreamBody>, Error> {
        call.head_timeout = self.head_timeout;
        let started = Instant::now();
        let result = self
            .breaker
            .run(self.client.forward(call), |r| match r {
                Ok(resp) => !resp.status().is_server_error(),
                Err(e) => !crate::outbound::is_failure(e),
            })
            .await;
        let outcome = match &result {
            Ok(resp) if resp.status().is_server_error() => "error",
            Ok(_) => "ok",
            Err(e) => crate::outbound::outcome_of(e),
        };
        self.metrics
            .backend_call(&self.name, "forward", outcome, started.elapsed());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_keys_and_keep_the_query() {
        let (uri, host) = forward_uri(
            "http",
            "127.0.0.1:4566",
            false,
            "bkt",
            Some("a b/ü?#"),
            Some("partNumber=1&uploadId=x"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(host, "127.0.0.1:4566");
        assert_eq!(
            uri.to_string(),
            "http://127.0.0.1:4566/bkt/a%20b/%C3%BC%3F%23?partNumber=1&uploadId=x"
        );
        let (uri, host) = forward_uri("https", "s3.example.com", true, "bkt", None, None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (uri.to_string().as_str(), host.as_str()),
            ("https://bkt.s3.example.com/", "bkt.s3.example.com")
        );
    }

    #[test]
    fn presigned_parameters_are_dropped() {
        let drop = |k: &str| k.starts_with("X-Amz-");
        assert_eq!(
            filtered_query("X-Amz-Signature=abc&versionId=3&X-Amz-Date=x", drop).as_deref(),
            Some("versionId=3")
        );
        assert_eq!(filtered_query("X-Amz-Signature=abc", drop), None);
    }
}
