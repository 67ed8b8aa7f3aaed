//! Detection: which registered dialect the request speaks. Total and pure (it never fails),
//! so it runs before Respond, which needs the dialect to render anything at all.

use std::task::{Context, Poll};

use dragoman_dialect::Dialects;
use tower::{Layer, Service};

use crate::context::Caller;
use crate::request_id::RequestId;

#[derive(Clone, Debug)]
pub struct DetectLayer {
    dialects: Dialects,
}

impl DetectLayer {
    pub fn new(dialects: Dialects) -> Self {
        Self { dialects }
    }
}

impl<S> Layer<S> for DetectLayer {
    type Service = Detect<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Detect {
            inner,
            dialects: self.dialects.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Detect<S> {
    inner: S,
    dialects: Dialects,
}

impl<S, B> Service<http::Request<B>> for Detect<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        let id = parts
            .extensions
            .get::<RequestId>()
            .copied()
            .unwrap_or_else(RequestId::random);
        let dialect = std::sync::Arc::clone(self.dialects.detect(&parts));
        let meta = std::sync::Arc::new(dialect.request_meta(id.0));
        parts.extensions.insert(Caller { dialect, meta });
        self.inner.call(http::Request::from_parts(parts, body))
    }
}
