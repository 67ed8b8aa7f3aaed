//! Dispatch: the innermost service. Hands the canonical operation to the router (which picks
//! the backend and the bucket's name there) and encodes the outcome in the caller's dialect,
//! or forwards a request of the caller's own protocol and streams the backend's answer back.

use std::sync::Arc;
use std::task::{Context, Poll};

use std::time::Duration;

use dragoman_backend::{Backend, Router};
use dragoman_model::{Error, Operation, Outcome, Principal};
use futures_util::future::BoxFuture;
use http::{Request, Response};
use tower::{BoxError, Service};

use crate::Access;
use crate::context::{Authenticated, Body, Caller, Decoded, Notes, Payload, full};
use crate::request_id::TraceParent;

#[derive(Clone)]
pub struct Dispatch {
    router: Arc<Router>,
    access: Arc<Access>,
    /// How long a backend may go silent in the middle of a forwarded answer.
    idle: Duration,
    /// Slots for the operations answered here: each holds a backend page and builds an
    /// answer, so they are a bulkhead on memory. A forwarded stream holds a fixed window and
    /// takes no slot.
    working: Arc<tokio::sync::Semaphore>,
}

impl Dispatch {
    pub fn new(router: Arc<Router>, access: Arc<Access>, idle: Duration, working: usize) -> Self {
        Self {
            router,
            access,
            idle,
            working: Arc::new(tokio::sync::Semaphore::new(working.max(1))),
        }
    }
}

impl Service<Request<Payload>> for Dispatch {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Payload>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.dispatch(req).await.map_err(BoxError::from) })
    }
}

impl Dispatch {
    async fn dispatch(self, mut req: Request<Payload>) -> Result<Response<Body>, Error> {
        let ext = req.extensions_mut();
        let (Some(caller), Some(decoded), Some(Authenticated(principal))) = (
            ext.get::<Caller>().cloned(),
            ext.remove::<Decoded>(),
            ext.remove::<Authenticated>(),
        ) else {
            return Err(Error::internal(
                "dispatch before decoding and authentication",
            ));
        };
        match decoded {
            Decoded::Op(op) => {
                let working = Arc::clone(&self.working);
                let _slot = working
                    .acquire()
                    .await
                    .map_err(|_| Error::internal("the gateway is shutting down"))?;
                self.serve(req, caller, op, principal).await
            }
            Decoded::Forward(target) => {
                crate::forward::forward(self.router, self.idle, req, caller, target).await
            }
            Decoded::Local(_) => Err(Error::internal("a local route reached dispatch")),
        }
    }

    async fn serve(
        self,
        req: Request<Payload>,
        caller: Caller,
        mut op: Operation,
        principal: Principal,
    ) -> Result<Response<Body>, Error> {
        let ext = req.extensions();
        if let Operation::CreateUpload(new) = &mut op {
            new.initiator = Some(self.access.identity(&principal));
        }
        if let Some(notes) = ext.get::<Arc<Notes>>() {
            let _ = notes
                .backend
                .set(self.router.backend_of(op.bucket()).to_owned());
        }
        let trace = ext.get::<TraceParent>().map(TraceParent::child);
        let run = self.router.execute(op.clone());
        let outcome = match trace {
            Some(t) => dragoman_backend::http::TRACEPARENT.scope(t, run).await,
            None => run.await,
        }?;
        // A bucket listing shows only the buckets the caller may use.
        let outcome = match outcome {
            Outcome::Buckets(all) => Outcome::Buckets(
                all.into_iter()
                    .filter(|b| self.access.may_use(&principal, &b.name))
                    .collect(),
            ),
            other => other,
        };
        Ok(caller.dialect.encode(&op, &outcome, &caller.meta).map(full))
    }
}
