//! The stack as one HTTP/1 connection sees it: one instance of the tower service per
//! connection, called in place, where hyper-util's `TowerToHyperService` clones the whole
//! stack for every request (hyper 1's `Service::call` takes `&self`, tower's `&mut self`).
//!
//! A clone of the stack is a box and an `Arc` count up and down for every layer; measured with
//! `tests/load/peers.py --instructions` (BENCHMARKS.md, ninth round). Calling in place is sound
//! because an HTTP/1 connection serves one request at a time and the stack's layers are ready
//! at once (none reserves capacity in `poll_ready`; the gateway's concurrency limit takes its
//! slot in `call`, see `shed.rs`). Should a layer ever not be ready, the request goes the tower
//! way instead: driven to readiness with its task's waker, then called.

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_util::future::Either;
use http::{Request, Response};
use tower::util::Oneshot;
use tower::{Service, ServiceExt};

use crate::context::Peer;

/// One connection's service: its stack, and where the connection comes from.
pub(crate) struct PerConnection<S> {
    // A lock only for `&self`: hyper polls a connection's requests one at a time, so it is
    // never contended.
    stack: Mutex<S>,
    peer: Peer,
}

impl<S> PerConnection<S> {
    pub(crate) fn new(stack: S, addr: SocketAddr, tls: bool) -> Self {
        Self {
            stack: Mutex::new(stack),
            peer: Peer { addr, tls },
        }
    }
}

impl<S, B, R> hyper::service::Service<Request<B>> for PerConnection<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Either<S::Future, Oneshot<S, Request<B>>>;

    fn call(&self, mut req: Request<B>) -> Self::Future {
        req.extensions_mut().insert(self.peer);
        let mut stack = self.stack.lock().unwrap_or_else(PoisonError::into_inner);
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        match stack.poll_ready(&mut cx) {
            Poll::Ready(Ok(())) => Either::Left(stack.call(req)),
            // Not ready, or failed: the instance that was polled (it may hold a place in a
            // queue) waits with this task's waker, or reports the failure as the request's,
            // and the connection keeps a fresh clone for its next request.
            _ => {
                let fresh = stack.clone();
                let polled = std::mem::replace(&mut *stack, fresh);
                Either::Right(polled.oneshot(req))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failure is the test failing

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use hyper::service::Service as _;
    use tower::limit::ConcurrencyLimit;
    use tower::service_fn;

    use super::*;

    fn request() -> Request<()> {
        Request::builder().uri("/b").body(()).unwrap()
    }

    #[tokio::test]
    async fn every_request_learns_its_connection_and_the_stack_is_not_cloned() {
        let clones = Arc::new(AtomicUsize::new(0));
        #[derive(Clone)]
        struct Echo;
        impl Service<Request<()>> for Echo {
            type Response = Response<Option<Peer>>;
            type Error = std::convert::Infallible;
            type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, req: Request<()>) -> Self::Future {
                std::future::ready(Ok(Response::new(req.extensions().get::<Peer>().copied())))
            }
        }
        struct Counted(Echo, Arc<AtomicUsize>);
        impl Clone for Counted {
            fn clone(&self) -> Self {
                self.1.fetch_add(1, Ordering::SeqCst);
                Self(self.0.clone(), Arc::clone(&self.1))
            }
        }
        impl Service<Request<()>> for Counted {
            type Response = Response<Option<Peer>>;
            type Error = std::convert::Infallible;
            type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
            fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
                self.0.poll_ready(cx)
            }
            fn call(&mut self, req: Request<()>) -> Self::Future {
                self.0.call(req)
            }
        }
        let addr: SocketAddr = "192.0.2.7:4242".parse().unwrap();
        let conn = PerConnection::new(Counted(Echo, Arc::clone(&clones)), addr, true);
        for _ in 0..3 {
            let peer = conn.call(request()).await.unwrap().into_body().unwrap();
            assert_eq!((peer.addr, peer.tls), (addr, true));
        }
        assert_eq!(clones.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_stack_that_is_not_ready_is_waited_for_not_skipped() {
        // One slot, held by another clone: the request waits for it instead of being called
        // on a service that was never ready, and goes through once the slot comes back.
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let inner = service_fn(move |_: Request<()>| {
            seen.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, std::convert::Infallible>(Response::new(())) }
        });
        let limited = ConcurrencyLimit::new(inner, 1);
        let mut holder = limited.clone();
        std::future::poll_fn(|cx| holder.poll_ready(cx))
            .await
            .unwrap();
        let conn = PerConnection::new(limited, "192.0.2.7:1".parse().unwrap(), false);
        let mut pending = Box::pin(conn.call(request()));
        let waker = futures_util::task::noop_waker();
        assert!(
            pending
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        drop(holder);
        pending.await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
