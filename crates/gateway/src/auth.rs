//! Authentication (the caller's dialect checks the signature or token against the
//! configured callers) and authorization (may this caller touch this bucket?), one layer
//! each.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use dragoman_model::Error;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use tower::{BoxError, Layer, Service, ServiceExt};

use crate::Access;
use crate::context::{Authenticated, Body, Caller, Decoded, Notes};

/// A layer that checks a request before letting it through, and may annotate it.
pub trait Check: Clone + Send + Sync + 'static {
    fn check(&self, req: &mut Request<Bytes>) -> Result<(), Error>;
}

#[derive(Clone, Debug)]
pub struct CheckLayer<C> {
    check: C,
}

impl<C> CheckLayer<C> {
    pub fn new(check: C) -> Self {
        Self { check }
    }
}

impl<S, C: Clone> Layer<S> for CheckLayer<C> {
    type Service = CheckService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CheckService {
            inner,
            check: self.check.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct CheckService<S, C> {
    inner: S,
    check: C,
}

impl<S, C> Service<Request<Bytes>> for CheckService<S, C>
where
    S: Service<Request<Bytes>, Response = Response<Body>, Error = BoxError>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    C: Check,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<Bytes>) -> Self::Future {
        let checked = self.check.check(&mut req);
        let inner = self.inner.clone();
        Box::pin(async move {
            checked?;
            inner.oneshot(req).await
        })
    }
}

/// Who sent the request: the dialect verifies its signature or token.
#[derive(Clone, Debug)]
pub struct Authenticate {
    pub access: Arc<Access>,
}

impl Check for Authenticate {
    fn check(&self, req: &mut Request<Bytes>) -> Result<(), Error> {
        let caller = req
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Error::internal("no dialect was detected for the request"))?;
        // Parts and body are borrowed apart for the dialect, then put back: moves, no copies.
        let (parts, body) = std::mem::take(req).into_parts();
        let key = caller.dialect.authenticate(
            &parts,
            &body,
            &*self.access,
            dragoman_backend::http::now(),
        );
        *req = Request::from_parts(parts, body);
        let principal = key?
            .and_then(|k| self.access.principal(&k))
            .ok_or_else(|| Error::Unauthenticated {
                message: "Anonymous access is forbidden for this operation".into(),
            })?;
        if let Some(notes) = req.extensions().get::<Arc<Notes>>() {
            let _ = notes.user.set(principal.name.clone());
        }
        req.extensions_mut().insert(Authenticated(principal));
        Ok(())
    }
}

/// Whether the authenticated caller may use the operation's bucket.
#[derive(Clone, Debug)]
pub struct Authorize {
    pub access: Arc<Access>,
}

impl Check for Authorize {
    fn check(&self, req: &mut Request<Bytes>) -> Result<(), Error> {
        let ext = req.extensions();
        let (Some(Authenticated(principal)), Some(Decoded::Op(op))) =
            (ext.get::<Authenticated>(), ext.get::<Decoded>())
        else {
            return Err(Error::internal("authorization before authentication"));
        };
        match op.bucket() {
            Some(bucket) => self.access.authorize(principal, bucket),
            None => Ok(()),
        }
    }
}
