//! A dialect's local routes (Qumulo's login), answered here from the gateway's own directory
//! of callers, with no authentication before and no backend after.

use std::sync::Arc;
use std::task::{Context, Poll};

use dragoman_dialect::Local;
use dragoman_model::Error;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use tower::{BoxError, Layer, Service, ServiceExt};

use crate::Access;
use crate::context::{Body, Caller, ClientAddr, Decoded, Payload, full};

#[derive(Clone, Debug)]
pub struct LocalRouteLayer {
    access: Arc<Access>,
}

impl LocalRouteLayer {
    pub fn new(access: Arc<Access>) -> Self {
        Self { access }
    }
}

impl<S> Layer<S> for LocalRouteLayer {
    type Service = LocalRoute<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LocalRoute {
            inner,
            access: Arc::clone(&self.access),
        }
    }
}

#[derive(Clone, Debug)]
pub struct LocalRoute<S> {
    inner: S,
    access: Arc<Access>,
}

impl<S> Service<Request<Payload>> for LocalRoute<S>
where
    S: Service<Request<Payload>, Response = Response<Body>, Error = BoxError>
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

    fn call(&mut self, req: Request<Payload>) -> Self::Future {
        if !matches!(req.extensions().get::<Decoded>(), Some(Decoded::Local(_))) {
            return Box::pin(self.inner.clone().oneshot(req));
        }
        let (parts, body) = req.into_parts();
        let Payload::Read(body) = body else {
            return Box::pin(std::future::ready(Err(BoxError::from(Error::internal(
                "a local route's body was not read",
            )))));
        };
        let answer = match parts.extensions.get::<Caller>() {
            Some(c) => c
                .dialect
                .answer_local(
                    &parts,
                    &body,
                    &Local {
                        directory: &*self.access,
                        now: dragoman_backend::http::now(),
                        meta: &c.meta,
                        peer: parts.extensions.get::<ClientAddr>().map(|a| a.0.ip()),
                    },
                )
                .map(|r| r.map(full)),
            None => Err(Error::internal("no dialect was detected for the request")),
        };
        Box::pin(std::future::ready(answer.map_err(BoxError::from)))
    }
}
