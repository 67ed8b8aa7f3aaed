//! Authentication (the caller's dialect checks the signature or token against the
//! configured callers) and authorization (may this caller touch this bucket?), one check
//! each.

use std::sync::Arc;

use dragoman_model::Error;
use http::request::Parts;

use crate::Access;
use crate::check::Check;
use crate::context::{Authenticated, Caller, Decoded, Notes, Payload, StreamProof};

/// Who sent the request: the dialect verifies its signature or token.
#[derive(Clone, Debug)]
pub struct Authenticate {
    pub access: Arc<Access>,
}

impl Check<Payload> for Authenticate {
    fn check(&self, parts: &mut Parts, body: &Payload) -> Result<(), Error> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Error::internal("no dialect was detected for the request"))?;
        let now = dragoman_backend::http::now();
        let key = match body {
            Payload::Read(body) => caller
                .dialect
                .authenticate(parts, body, &*self.access, now)?,
            Payload::Streamed(_) => {
                let Some(Decoded::Forward(target)) = parts.extensions.get::<Decoded>().cloned()
                else {
                    return Err(Error::internal("a streamed body without a forward target"));
                };
                match caller
                    .dialect
                    .authenticate_streamed(parts, &target, &*self.access, now)?
                {
                    Some(auth) => {
                        parts.extensions.insert(StreamProof(auth.proof));
                        Some(auth.access_key)
                    }
                    None => None,
                }
            }
        };
        let principal =
            key.and_then(|k| self.access.principal(&k))
                .ok_or_else(|| Error::Unauthenticated {
                    message: "Anonymous access is forbidden for this operation".into(),
                })?;
        if let Some(notes) = parts.extensions.get::<Arc<Notes>>() {
            let _ = notes.user.set(Arc::clone(&principal.name));
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
        let (Some(Authenticated(principal)), Some(decoded)) =
            (ext.get::<Authenticated>(), ext.get::<Decoded>())
        else {
            return Err(Error::internal("authorization before authentication"));
        };
        match decoded {
            Decoded::Op(op) => match op.bucket() {
                Some(bucket) => self.access.authorize(principal, bucket),
                None => Ok(()),
            },
            // A copy reads the source with the gateway's credentials: the caller must be
            // allowed the source bucket as well as the target.
            Decoded::Forward(target) => {
                self.access.authorize(principal, &target.bucket)?;
                match &target.copy_source_bucket {
                    Some(source) => self.access.authorize(principal, source),
                    None => Ok(()),
                }
            }
            Decoded::Local(_) => Err(Error::internal("a local route reached authorization")),
        }
    }
}
