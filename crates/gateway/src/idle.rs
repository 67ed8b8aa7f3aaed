//! A body that may not go silent for longer than a bound: a streamed upload whose caller
//! stops sending, or a download whose backend stops answering, ends in an error instead of
//! holding a connection, a slot and a backend request forever. A bound on the whole transfer
//! would cut off large objects; a bound on silence does not.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use dragoman_model::Error;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};
use tower::BoxError;

pub struct IdleTimeout<B> {
    inner: Pin<Box<B>>,
    limit: Duration,
    timer: Pin<Box<Sleep>>,
    /// The error a silence becomes.
    silence: fn() -> Error,
}

impl<B> IdleTimeout<B> {
    /// A caller's body: silence is the caller's fault (408-style `RequestTimeout`).
    pub fn new(inner: B, limit: Duration) -> Self {
        Self::with_error(inner, limit, || Error::RequestTimeout)
    }

    /// A body whose silence becomes `silence()`.
    pub fn with_error(inner: B, limit: Duration, silence: fn() -> Error) -> Self {
        Self {
            inner: Box::pin(inner),
            limit,
            timer: Box::pin(tokio::time::sleep(limit)),
            silence,
        }
    }
}

impl<B> Body for IdleTimeout<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.inner.as_mut().poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = Instant::now() + self.limit;
                self.timer.as_mut().reset(next);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new((self.silence)())))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body that yields one frame and then never another.
    struct Stalls(bool);

    impl Body for Stalls {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.0 {
                Poll::Pending
            } else {
                self.0 = true;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"first")))))
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_body_ends_in_the_chosen_error() {
        let mut body = IdleTimeout::with_error(Stalls(false), Duration::from_secs(5), || {
            Error::BackendTimeout
        });
        let first = body.frame().await;
        assert!(matches!(first, Some(Ok(_))));
        let second = body.frame().await;
        let err = match second {
            Some(Err(e)) => e,
            _ => panic!("a stalled body must fail"),
        };
        assert!(matches!(
            err.downcast_ref::<Error>(),
            Some(Error::BackendTimeout)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_keeps_sending_is_never_cut() {
        let frames = (0..100)
            .map(|_| Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from_static(b"x"))));
        let slow = http_body_util::StreamBody::new(futures_util::StreamExt::then(
            futures_util::stream::iter(frames),
            |f| async move {
                tokio::time::sleep(Duration::from_secs(4)).await;
                f
            },
        ));
        let body = IdleTimeout::new(slow, Duration::from_secs(5));
        let all = body.collect().await.map(|c| c.to_bytes().len());
        assert_eq!(all.ok(), Some(100), "400 s in all, never 5 s of silence");
    }
}
