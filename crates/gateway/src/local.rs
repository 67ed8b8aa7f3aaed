//! A dialect's local routes (Qumulo's login), answered here from the gateway's own directory
//! of callers, with no authentication before and no backend after.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use dragoman_dialect::Local;
use dragoman_model::Error;
use futures_util::future::Either;
use http::{Request, Response};
use tower::{BoxError, Layer, Service};

use crate::Access;
use crate::context::{Body, Caller, Decoded, Payload, Peer, full};

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

/// A local route answers at once; anything else is the inner service's call. Readiness is the
/// inner service's, as for a [`crate::Check`].
impl<S> Service<Request<Payload>> for LocalRoute<S>
where
    S: Service<Request<Payload>, Response = Response<Body>, Error = BoxError>,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = Either<Ready<Result<Response<Body>, BoxError>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Payload>) -> Self::Future {
        if !matches!(req.extensions().get::<Decoded>(), Some(Decoded::Local(_))) {
            return Either::Right(self.inner.call(req));
        }
        let (parts, body) = req.into_parts();
        let Payload::Read(body) = body else {
            return Either::Left(ready(Err(BoxError::from(Error::internal(
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
                        peer: parts.extensions.get::<Peer>().map(|p| p.addr.ip()),
                    },
                )
                .map(|r| r.map(full)),
            None => Err(Error::internal("no dialect was detected for the request")),
        };
        Either::Left(ready(answer.map_err(BoxError::from)))
    }
}
