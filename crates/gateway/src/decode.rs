//! Decoding: from the request's head alone, the caller's dialect says what the request asks
//! for: a canonical operation, one of its local routes, or a request to pass on as it is to a
//! backend of the caller's own protocol. An operation neither served nor forwardable is
//! refused here, before its body is read.

use std::sync::Arc;

use dragoman_backend::Router;
use dragoman_model::Error;
use http::request::Parts;

use crate::check::Check;
use crate::context::{Caller, Decoded, Notes};

#[derive(Clone)]
pub struct Decode {
    router: Arc<Router>,
}

impl Decode {
    pub fn new(router: Arc<Router>) -> Self {
        Self { router }
    }
}

impl std::fmt::Debug for Decode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Decode")
    }
}

impl<B> Check<B> for Decode {
    fn check(&self, parts: &mut Parts, _body: &B) -> Result<(), Error> {
        let c = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Error::internal("no dialect was detected for the request"))?;
        let notes = Arc::clone(
            parts
                .extensions
                .get_or_insert_with(|| Arc::new(Notes::default())),
        );
        let decoded = match c.dialect.local_route(parts) {
            Some(name) => Decoded::Local(name),
            None => match c.dialect.decode(parts) {
                Ok(op) => Decoded::Op(op),
                Err(not_served @ Error::NotImplemented { .. }) => {
                    match c.dialect.forward_target(parts)? {
                        Some(target) => {
                            self.router
                                .check_forward(c.dialect.name(), &target, &parts.method)?;
                            Decoded::Forward(target)
                        }
                        None => return Err(not_served),
                    }
                }
                Err(e) => return Err(e),
            },
        };
        let _ = notes.operation.set(match &decoded {
            Decoded::Op(op) => op.name(),
            Decoded::Local(name) => name,
            Decoded::Forward(_) => "forward",
        });
        parts.extensions.insert(decoded);
        Ok(())
    }
}
