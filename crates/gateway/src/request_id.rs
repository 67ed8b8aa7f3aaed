//! Gives every request its ids before anything else runs, so that every log line and every
//! response, error or not, carries them.

use std::task::{Context, Poll};

use dragoman_model::RequestMeta;
use rand::Rng;
use tower::{Layer, Service};

#[derive(Clone, Copy, Debug, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestIdService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct RequestIdService<S> {
    inner: S,
}

/// A request id in AWS's form (16 upper-case hex digits) and a longer debug id.
pub fn new_meta() -> RequestMeta {
    let mut rng = rand::rng();
    let id: u64 = rng.random();
    let debug: [u8; 24] = rng.random();
    RequestMeta {
        request_id: format!("{id:016X}"),
        debug_id: hex(&debug),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl<S, B> Service<http::Request<B>> for RequestIdService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        req.extensions_mut().insert(new_meta());
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_shape_and_differ() {
        let a = new_meta();
        let b = new_meta();
        assert_eq!(a.request_id.len(), 16);
        assert!(
            a.request_id
                .bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_eq!(a.debug_id.len(), 48);
        assert_ne!(a.request_id, b.request_id);
    }
}
