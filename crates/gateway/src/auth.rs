//! Authentication (the caller's dialect checks the signature or token against the
//! configured callers) and authorization (may this caller touch this bucket?), one check
//! each.

use std::sync::Arc;

use bytes::Bytes;
use dragoman_model::Error;
use http::request::Parts;

use crate::Access;
use crate::check::Check;
use crate::context::{Authenticated, Caller, Decoded, Notes};

/// Who sent the request: the dialect verifies its signature or token.
#[derive(Clone, Debug)]
pub struct Authenticate {
    pub access: Arc<Access>,
}

impl Check<Bytes> for Authenticate {
    fn check(&self, parts: &mut Parts, body: &Bytes) -> Result<(), Error> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Error::internal("no dialect was detected for the request"))?;
        let key = caller.dialect.authenticate(
            parts,
            body,
            &*self.access,
            dragoman_backend::http::now(),
        )?;
        let principal =
            key.and_then(|k| self.access.principal(&k))
                .ok_or_else(|| Error::Unauthenticated {
                    message: "Anonymous access is forbidden for this operation".into(),
                })?;
        if let Some(notes) = parts.extensions.get::<Arc<Notes>>() {
            let _ = notes.user.set(principal.name.clone());
        }
        parts.extensions.insert(Authenticated(principal));
        Ok(())
    }
}

/// Whether the authenticated caller may use the operation's bucket.
#[derive(Clone, Debug)]
pub struct Authorize {
    pub access: Arc<Access>,
}

impl<B> Check<B> for Authorize {
    fn check(&self, parts: &mut Parts, _body: &B) -> Result<(), Error> {
        let ext = &parts.extensions;
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
