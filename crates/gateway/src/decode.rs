//! Decoding: from the request's head alone, the caller's dialect says what the request asks
//! for, a canonical operation or one of its local routes. An operation it does not serve is
//! refused here, before its body is read.

use std::sync::Arc;
use std::task::{Context, Poll};

use dragoman_model::Error;
use futures_util::future::BoxFuture;
use http::Request;
use http::request::Parts;
use tower::{BoxError, Layer, Service, ServiceExt};

use crate::context::{Caller, Decoded, Notes};

#[derive(Clone, Copy, Debug, Default)]
pub struct DecodeLayer;

impl<S> Layer<S> for DecodeLayer {
    type Service = DecodeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DecodeService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct DecodeService<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for DecodeService<S>
where
    S: Service<Request<B>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        if let Err(e) = decode(&mut parts) {
            return Box::pin(std::future::ready(Err(e.into())));
        }
        Box::pin(self.inner.clone().oneshot(Request::from_parts(parts, body)))
    }
}

fn decode(parts: &mut Parts) -> Result<(), Error> {
    let c = parts
        .extensions
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Error::internal("no dialect was detected for the request"))?;
    let notes = Arc::clone(
        parts
            .extensions
            .get_or_insert_with(|| Arc::new(Notes::default())),
    );
    let decoded = match c.dialect.local_route(parts) {
        Some(name) => Decoded::Local(name),
        None => Decoded::Op(c.dialect.decode(parts)?),
    };
    let _ = notes.operation.set(match &decoded {
        Decoded::Op(op) => op.name(),
        Decoded::Local(name) => name,
    });
    parts.extensions.insert(decoded);
    Ok(())
}
