//! Shed: at most `max` requests in the work below at once; one more is refused at once (the
//! dialect's 503 SlowDown or equivalent), never queued.
//!
//! tower's `load_shed` over `concurrency_limit` does the same, but takes the slot in
//! `poll_ready` and keeps it in the service, so a stack holding one needs a clone per request
//! (and a slot reserved by a clone that is never called stays taken until the clone drops).
//! Here the slot is taken in `call` and travels with the request's future: the layer is
//! always ready, and the stack above it can be called in place (`connection.rs`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use dragoman_model::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{BoxError, Layer, Service};

#[derive(Clone, Debug)]
pub struct ShedLayer {
    slots: Arc<Semaphore>,
}

impl ShedLayer {
    pub fn new(max: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max.max(1))),
        }
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Shed {
            inner,
            slots: Arc::clone(&self.slots),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Shed<S> {
    inner: S,
    slots: Arc<Semaphore>,
}

/// The error a request gets when every slot is taken.
pub(crate) fn overloaded() -> Error {
    Error::Throttled {
        message: "dragoman is serving as many requests as it may; please retry".into(),
    }
}

impl<S, R> Service<R> for Shed<S>
where
    S: Service<R, Error = BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Slotted<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(slot) => Slotted::Running {
                inner: self.inner.call(req),
                _slot: slot,
            },
            Err(_) => Slotted::Refused,
        }
    }
}

pin_project_lite::pin_project! {
    /// A request's work holding its slot, or its refusal.
    #[project = SlottedProj]
    pub enum Slotted<F> {
        Running {
            #[pin]
            inner: F,
            _slot: OwnedSemaphorePermit,
        },
        Refused,
    }
}

impl<F, T> Future for Slotted<F>
where
    F: Future<Output = Result<T, BoxError>>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            SlottedProj::Running { inner, .. } => inner.poll(cx),
            SlottedProj::Refused => Poll::Ready(Err(overloaded().into())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failure is the test failing

    use tokio::sync::oneshot;
    use tower::{ServiceExt, service_fn};

    use super::*;

    #[tokio::test]
    async fn past_the_limit_a_request_is_refused_at_once_and_the_slot_comes_back() {
        let (release, released) = oneshot::channel::<()>();
        let released = Arc::new(tokio::sync::Mutex::new(Some(released)));
        let inner = service_fn(move |first: bool| {
            let released = Arc::clone(&released);
            async move {
                if first {
                    let rx = released.lock().await.take().unwrap();
                    let _ = rx.await;
                }
                Ok::<_, BoxError>(first)
            }
        });
        let mut shed = ShedLayer::new(1).layer(inner);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(shed.poll_ready(&mut cx).is_ready());
        let mut holding = Box::pin(shed.call(true));
        assert!(holding.as_mut().poll(&mut cx).is_pending());

        // The one slot is taken: the next request is refused, ready at once, as a throttle.
        assert!(shed.poll_ready(&mut cx).is_ready());
        let err = shed.call(false).await.unwrap_err();
        assert!(
            matches!(err.downcast_ref::<Error>(), Some(Error::Throttled { .. })),
            "{err}"
        );

        release.send(()).unwrap();
        assert!(holding.await.unwrap());
        assert!(!shed.ready().await.unwrap().call(false).await.unwrap());
    }

    #[tokio::test]
    async fn a_refused_future_dropped_unpolled_frees_nothing_it_did_not_take() {
        let inner = service_fn(|_: ()| async { Ok::<_, BoxError>(()) });
        let mut shed = ShedLayer::new(1).layer(inner);
        let first = shed.call(());
        drop(shed.call(()));
        first.await.unwrap();
        shed.call(()).await.unwrap();
        shed.call(()).await.unwrap();
        assert_eq!(shed.slots.available_permits(), 1);
    }
}
