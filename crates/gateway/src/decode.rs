//! Decoding: from the request's head alone, the caller's dialect says what the request asks
//! for, a canonical operation or one of its local routes. An operation it does not serve is
//! refused here, before its body is read.

use std::sync::Arc;

use dragoman_model::Error;
use http::request::Parts;

use crate::check::Check;
use crate::context::{Caller, Decoded, Notes};

#[derive(Clone, Copy, Debug, Default)]
pub struct Decode;

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
            None => Decoded::Op(c.dialect.decode(parts)?),
        };
        let _ = notes.operation.set(match &decoded {
            Decoded::Op(op) => op.name(),
            Decoded::Local(name) => name,
        });
        parts.extensions.insert(decoded);
        Ok(())
    }
}
