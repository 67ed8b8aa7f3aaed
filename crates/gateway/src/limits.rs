//! Limits on what a caller may make the gateway hold, in two steps: the header section's
//! size (checked first, on every request), and the body's size and the time its sender may
//! take (checked once the operation is known to be one the gateway serves, so that an
//! operation it does not serve is a 501 however large its body). Bodies are read whole into
//! `Bytes` for the layers within, since every operation the gateway decodes has a small
//! body; a forwarded request's body streams instead, bounded only in how long its sender may
//! stay silent.

use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use dragoman_model::Error;
use futures_util::future::{BoxFuture, Either};
use http::Request;
use http::request::Parts;
use http_body_util::{BodyExt, Limited};

use crate::check::Check;
use crate::context::{Decoded, Payload};
use crate::idle::IdleTimeout;
use tower::{BoxError, Layer, Service, ServiceExt};

/// The limits, from `server.*` in the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The most header bytes (names and values) a request may carry.
    pub max_header_bytes: usize,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// How long a caller may take to send its body once its headers are in.
    pub body_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_header_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// Refuses a header section larger than `max_header_bytes`.
#[derive(Clone, Copy, Debug)]
pub struct HeaderLimit {
    max_header_bytes: usize,
}

impl HeaderLimit {
    pub fn new(limits: Limits) -> Self {
        Self {
            max_header_bytes: limits.max_header_bytes,
        }
    }
}

impl<B> Check<B> for HeaderLimit {
    fn check(&self, parts: &mut Parts, _body: &B) -> Result<(), Error> {
        let header_bytes: usize = parts
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum();
        if header_bytes > self.max_header_bytes {
            return Err(Error::HeadersTooLarge);
        }
        Ok(())
    }
}

/// Reads the body, at most `max_body_bytes` within `body_read_timeout`.
#[derive(Clone, Copy, Debug)]
pub struct ReadBodyLayer {
    limits: Limits,
}

impl ReadBodyLayer {
    pub fn new(limits: Limits) -> Self {
        Self { limits }
    }
}

impl<S> Layer<S> for ReadBodyLayer {
    type Service = ReadBody<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReadBody {
            inner,
            limits: self.limits,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ReadBody<S> {
    inner: S,
    limits: Limits,
}

async fn read_body<B>(body: B, limits: Limits) -> Result<Bytes, Error>
where
    B: http_body::Body<Data = Bytes> + Send,
    B::Error: Into<BoxError>,
{
    let limit = limits.max_body_bytes;
    if body.size_hint().lower() > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(Error::BodyTooLarge);
    }
    let read = Limited::new(body, limit).collect();
    match tokio::time::timeout(limits.body_read_timeout, read).await {
        Err(_) => Err(Error::RequestTimeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(Error::BodyTooLarge),
        Ok(Err(e)) => Err(Error::InvalidRequest {
            message: format!("could not read the request body: {e}"),
        }),
    }
}

impl<S, B> Service<Request<B>> for ReadBody<S>
where
    S: Service<Request<Payload>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Either<S::Future, BoxFuture<'static, Result<S::Response, BoxError>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let limits = self.limits;
        let (parts, body) = req.into_parts();
        // A forwarded body streams, and an absent one (every listing) has nothing to wait
        // for: both go on at once, with no timer and no clone of the stack below.
        if matches!(parts.extensions.get::<Decoded>(), Some(Decoded::Forward(_))) {
            let body = Payload::Streamed(IdleTimeout::new(body, limits.body_read_timeout).boxed());
            return Either::Left(self.inner.call(Request::from_parts(parts, body)));
        }
        if body.is_end_stream() {
            let body = Payload::Read(Bytes::new());
            return Either::Left(self.inner.call(Request::from_parts(parts, body)));
        }
        let inner = self.inner.clone();
        Either::Right(Box::pin(async move {
            let body = Payload::Read(read_body(body, limits).await?);
            inner.oneshot(Request::from_parts(parts, body)).await
        }))
    }
}
