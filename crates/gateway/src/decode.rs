//! Decoding: the caller's dialect turns the request into a canonical operation, or answers
//! it itself when it is one of the dialect's local routes (Qumulo's login).

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use dragoman_dialect::Local;
use dragoman_model::Error;
use futures_util::future::BoxFuture;
use http::request::Parts;
use http::{Request, Response};
use tower::{BoxError, Layer, Service, ServiceExt};

use crate::Access;
use crate::context::{Body, Caller, Decoded};

#[derive(Clone, Debug)]
pub struct DecodeLayer {
    access: Arc<Access>,
}

impl DecodeLayer {
    pub fn new(access: Arc<Access>) -> Self {
        Self { access }
    }
}

impl<S> Layer<S> for DecodeLayer {
    type Service = DecodeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DecodeService {
            inner,
            access: Arc::clone(&self.access),
        }
    }
}

#[derive(Clone, Debug)]
pub struct DecodeService<S> {
    inner: S,
    access: Arc<Access>,
}

impl<S> Service<Request<Bytes>> for DecodeService<S>
where
    S: Service<Request<Bytes>, Response = Response<Body>, Error = BoxError>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Bytes>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        let decoded = decode(&self.access, &mut parts, &body);
        let inner = self.inner.clone();
        Box::pin(async move {
            match decoded? {
                Step::Answered(resp) => Ok(resp),
                Step::Decoded(op) => {
                    parts.extensions.insert(Decoded(op));
                    inner.oneshot(Request::from_parts(parts, body)).await
                }
            }
        })
    }
}

enum Step {
    /// A local route answered.
    Answered(Response<Body>),
    Decoded(dragoman_model::Operation),
}

fn decode(access: &Access, parts: &mut Parts, body: &Bytes) -> Result<Step, BoxError> {
    let c = parts
        .extensions
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Error::internal("no dialect was detected for the request"))?;
    let notes = Arc::clone(
        parts
            .extensions
            .get_or_insert_with(|| Arc::new(crate::context::Notes::default())),
    );
    let local = Local {
        directory: access,
        now: dragoman_backend::http::now(),
        meta: &c.meta,
    };
    if let Some(answer) = c.dialect.local(parts, body, &local) {
        let _ = notes.operation.set(answer.operation);
        return Ok(Step::Answered(answer.result?.map(Body::new)));
    }
    let op = c.dialect.decode(parts, body)?;
    let _ = notes.operation.set(op.name());
    Ok(Step::Decoded(op))
}
