//! Forwarding a request of the caller's own protocol: the caller's head minus what belongs
//! to its connection and its authentication, its body under the dialect's proof, the
//! backend's answer streamed back with dragoman's request ids and, on a renamed route, the
//! caller's bucket name in the backend's documents.

use std::sync::Arc;
use std::time::Duration;

use dragoman_backend::{ForwardCall, Router};
use dragoman_dialect::forward::strip_hop_by_hop;
use dragoman_dialect::{Dialect, Target};
use dragoman_model::Error;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;

use crate::context::{Body, Caller, Notes, Payload, StreamProof, full};
use crate::idle::IdleTimeout;
use crate::request_id::TraceParent;

/// The largest backend document read to put the caller's bucket name in it. Larger answers
/// (object data never is one) stream through unchanged.
const MAX_RENAMED_DOCUMENT: u64 = 1024 * 1024;

pub(crate) async fn forward(
    router: Arc<Router>,
    idle: Duration,
    req: Request<Payload>,
    caller: Caller,
    target: Target,
) -> Result<Response<Body>, Error> {
    let (mut parts, body) = req.into_parts();
    let (Payload::Streamed(body), Some(StreamProof(proof))) =
        (body, parts.extensions.remove::<StreamProof>())
    else {
        return Err(Error::internal(
            "a forwarded request without its streamed body",
        ));
    };
    if let Some(notes) = parts.extensions.get::<Arc<Notes>>() {
        let _ = notes
            .backend
            .set(router.backend_of(Some(&target.bucket)).to_owned());
    }
    let mut headers = std::mem::take(&mut parts.headers);
    strip_hop_by_hop(&mut headers);
    headers.remove(http::header::HOST);
    proof.outbound_headers(&mut headers);
    let call = ForwardCall {
        method: parts.method.clone(),
        bucket: target.bucket.clone(),
        key: target.key.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body: proof.wrap(body),
        copy_source_bucket: None,
        head_timeout: Duration::ZERO,
    };
    let sent = router.forward(caller.dialect.name(), target.clone(), call);
    let (resp, renamed) = match parts
        .extensions
        .get::<TraceParent>()
        .map(TraceParent::child)
    {
        Some(t) => dragoman_backend::http::TRACEPARENT.scope(t, sent).await,
        None => sent.await,
    }?;
    let (mut head, body) = resp.into_parts();
    strip_hop_by_hop(&mut head.headers);
    if let Some([request_id, debug_id]) = caller.dialect.id_headers() {
        if let Some(theirs) = head.headers.get(request_id) {
            tracing::debug!(backend_request_id = ?theirs, "forwarded");
        }
        for (name, value) in [
            (request_id, &caller.meta.request_id),
            (debug_id, &caller.meta.debug_id),
        ] {
            if let Ok(v) = http::HeaderValue::from_str(value) {
                head.headers.insert(name, v);
            }
        }
    }
    let body = IdleTimeout::with_error(body, idle, || Error::BackendTimeout).boxed();
    let body = match renamed {
        Some((there, here))
            if is_document(&parts.method, &target, parts.uri.query(), head.status) =>
        {
            rename(Arc::clone(&caller.dialect), &mut head, body, there, here).await?
        }
        _ => body,
    };
    Ok(Response::from_parts(head, body))
}

/// Whether an answer is the backend's own document (which may name the bucket) rather than
/// object data, which is never touched.
fn is_document(method: &Method, target: &Target, query: Option<&str>, status: StatusCode) -> bool {
    if *method == Method::HEAD || status == StatusCode::NOT_MODIFIED {
        return false;
    }
    let has =
        |name: &str| query.is_some_and(|q| q.split('&').any(|p| p.split('=').next() == Some(name)));
    !status.is_success()
        || *method == Method::POST
        || (*method == Method::GET && (target.key.is_none() || has("uploadId")))
}

/// The document with the caller's bucket name, read whole when it is small; any other
/// answer streams on unchanged.
async fn rename(
    dialect: Arc<dyn Dialect>,
    head: &mut http::response::Parts,
    body: Body,
    there: String,
    here: String,
) -> Result<Body, Error> {
    let small = http_body::Body::size_hint(&body)
        .exact()
        .is_some_and(|n| n <= MAX_RENAMED_DOCUMENT);
    if !small {
        return Ok(body);
    }
    let mut body = body;
    let mut read = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(data) = f.into_data() {
                    read.extend_from_slice(&data);
                }
            }
            Err(e) => {
                return Err(Error::BackendUnavailable {
                    message: format!("a backend document could not be read: {e}"),
                });
            }
        }
        if read.len() as u64 > MAX_RENAMED_DOCUMENT {
            return Err(Error::BadBackendAnswer {
                message: "a backend document was longer than it said".into(),
            });
        }
    }
    let bytes = read.freeze();
    match dialect.rename_in_document(&bytes, &there, &here) {
        Some(renamed) => {
            head.headers
                .insert(http::header::CONTENT_LENGTH, renamed.len().into());
            Ok(full(renamed))
        }
        None => Ok(full(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(key: Option<&str>) -> Target {
        Target {
            bucket: "b".into(),
            key: key.map(str::to_owned),
            copy_source_bucket: None,
        }
    }

    #[test]
    fn object_data_is_never_a_document() {
        let ok = StatusCode::OK;
        assert!(!is_document(&Method::GET, &target(Some("k")), None, ok));
        assert!(!is_document(
            &Method::GET,
            &target(Some("k")),
            Some("versionId=1"),
            ok
        ));
        assert!(!is_document(
            &Method::HEAD,
            &target(None),
            None,
            StatusCode::NOT_FOUND
        ));
        assert!(!is_document(
            &Method::GET,
            &target(Some("k")),
            None,
            StatusCode::NOT_MODIFIED
        ));
        assert!(is_document(
            &Method::GET,
            &target(None),
            Some("list-type=2"),
            ok
        ));
        assert!(is_document(
            &Method::GET,
            &target(Some("k")),
            Some("uploadId=x"),
            ok
        ));
        assert!(is_document(
            &Method::POST,
            &target(Some("k")),
            Some("uploads"),
            ok
        ));
        assert!(is_document(
            &Method::GET,
            &target(Some("k")),
            None,
            StatusCode::NOT_FOUND
        ));
    }
}
