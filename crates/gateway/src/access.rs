//! Who may call, with which secret, and which buckets each caller may touch.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use dragoman_model::{Error, Identity, Principal};
use sha2::{Digest, Sha256};

use crate::login_guard::{LoginGuard, LoginLimits};

/// A configured caller.
#[derive(Clone)]
pub struct User {
    pub name: String,
    pub access_key: String,
    pub secret_key: String,
    /// Glob patterns (`*`, `?`, `[a-z]`, `{a,b}`) of the buckets this user may use.
    pub buckets: Vec<String>,
    /// For Qumulo's `POST /v1/session/login` (with `name` as the user name); `None`: no login.
    pub password: Option<String>,
    /// Long-lived Qumulo access tokens (`access-v1:…`) that stand for this user.
    pub access_tokens: Vec<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("access_key", &self.access_key)
            .field("secret_key", &"****")
            .field("buckets", &self.buckets)
            .field("password", &self.password.as_ref().map(|_| "****"))
            .field("access_tokens", &self.access_tokens.len())
            .finish()
    }
}

/// The users, indexed by access key, and the digests of their login passwords.
#[derive(Debug, Default)]
pub struct Access {
    by_key: HashMap<String, Known>,
    /// User name -> (access key, SHA-256 of the password).
    logins: HashMap<String, (String, [u8; 32])>,
    guard: LoginGuard,
}

/// A user and the principal it authenticates as, made once: a request's caller is then two
/// shared strings rather than two copies.
#[derive(Debug)]
struct Known {
    user: User,
    principal: Principal,
}

fn digest(password: &str) -> [u8; 32] {
    Sha256::digest(password.as_bytes()).into()
}

impl Access {
    pub fn new(users: impl IntoIterator<Item = User>) -> Self {
        Self::with_login_limits(users, LoginLimits::default())
    }

    pub fn with_login_limits(users: impl IntoIterator<Item = User>, limits: LoginLimits) -> Self {
        let by_key: HashMap<String, Known> = users
            .into_iter()
            .map(|user| {
                let principal = Principal {
                    name: Arc::from(user.name.as_str()),
                    access_key: Arc::from(user.access_key.as_str()),
                };
                (user.access_key.clone(), Known { user, principal })
            })
            .collect();
        let logins = by_key
            .values()
            .filter_map(|Known { user: u, .. }| {
                let p = u.password.as_deref()?;
                Some((u.name.clone(), (u.access_key.clone(), digest(p))))
            })
            .collect();
        Self {
            by_key,
            logins,
            guard: LoginGuard::new(limits),
        }
    }

    /// The access key of the user a static access token stands for.
    pub fn token_owner(&self, token: &str) -> Option<String> {
        self.by_key
            .values()
            .map(|k| &k.user)
            .find(|u| u.access_tokens.iter().any(|t| ct_eq(t, token)))
            .map(|u| u.access_key.clone())
    }

    /// Checks a user name and password. Every failure looks the same to the caller and costs
    /// the same: an unknown name is compared against a digest no password has, so timing
    /// does not tell which names exist. Failures count against the name and the address.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        from: Option<IpAddr>,
    ) -> Result<Principal, Error> {
        self.guard.admit(username, from)?;
        let offered = digest(password);
        let (key, expected) = match self.logins.get(username) {
            Some((key, d)) => (Some(key), *d),
            None => (None, [0xff; 32]),
        };
        let matches = bool::from(subtle::ConstantTimeEq::ct_eq(&offered[..], &expected[..]));
        match key {
            Some(key) if matches => {
                self.guard.succeeded(username);
                self.principal(key)
                    .ok_or_else(|| Error::internal("a login without its user"))
            }
            _ => {
                self.guard.failed(username, from);
                Err(Error::Unauthenticated {
                    message: "Invalid user name or password".into(),
                })
            }
        }
    }

    pub fn secret_of(&self, access_key: &str) -> Option<String> {
        self.by_key
            .get(access_key)
            .map(|k| k.user.secret_key.clone())
    }

    pub fn principal(&self, access_key: &str) -> Option<Principal> {
        self.by_key.get(access_key).map(|k| k.principal.clone())
    }

    pub fn identity(&self, principal: &Principal) -> Identity {
        Identity::named(principal.name.to_string(), principal.name.to_string())
    }

    pub fn may_use(&self, principal: &Principal, bucket: &str) -> bool {
        self.by_key.get(&*principal.access_key).is_some_and(|k| {
            k.user
                .buckets
                .iter()
                .any(|p| dragoman_model::bucket_matches(p, bucket))
        })
    }

    /// Refuses a principal the bucket's patterns do not cover.
    pub fn authorize(&self, principal: &Principal, bucket: &str) -> Result<(), Error> {
        if self.may_use(principal, bucket) {
            Ok(())
        } else {
            Err(Error::access_denied(format!(
                "Access Denied: {} may not use bucket {bucket}",
                principal.name
            )))
        }
    }
}

/// Compares secrets in constant time (for equal lengths).
fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl dragoman_dialect::Directory for Access {
    fn secret_of(&self, access_key: &str) -> Option<String> {
        Access::secret_of(self, access_key)
    }

    fn token_owner(&self, token: &str) -> Option<String> {
        Access::token_owner(self, token)
    }

    fn login(
        &self,
        username: &str,
        password: &str,
        from: Option<IpAddr>,
    ) -> Result<Principal, Error> {
        Access::login(self, username, password, from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        Access::new([User {
            name: "team-a".into(),
            access_key: "AK".into(),
            secret_key: "SK".into(),
            buckets: vec!["team-a-*".into(), "shared".into()],
            password: Some("pw-of-team-a".into()),
            access_tokens: vec!["access-v1:team-a-token".into()],
        }])
    }

    #[test]
    fn patterns_decide_bucket_access() {
        let a = access();
        let p = a.principal("AK").unwrap_or_else(|| panic!("no principal"));
        assert!(a.may_use(&p, "team-a-logs"));
        assert!(a.may_use(&p, "shared"));
        assert!(!a.may_use(&p, "team-b-logs"));
        assert!(matches!(
            a.authorize(&p, "other"),
            Err(Error::AccessDenied { .. })
        ));
        assert_eq!(a.secret_of("AK").as_deref(), Some("SK"));
        assert!(a.principal("nope").is_none());
    }

    #[test]
    fn logins_and_static_tokens() {
        let a = access();
        assert_eq!(
            a.login("team-a", "pw-of-team-a", None)
                .map(|p| p.access_key),
            Ok("AK".into())
        );
        assert!(matches!(
            a.login("team-a", "wrong", None),
            Err(Error::Unauthenticated { .. })
        ));
        assert!(matches!(
            a.login("nobody", "pw-of-team-a", None),
            Err(Error::Unauthenticated { .. })
        ));
        assert_eq!(
            a.token_owner("access-v1:team-a-token").as_deref(),
            Some("AK")
        );
        assert_eq!(a.token_owner("access-v1:forged"), None);
    }

    #[test]
    fn secrets_never_reach_debug_output() {
        let out = format!("{:?}", access());
        assert!(
            !out.contains("\"SK\"")
                && !out.contains("pw-of-team-a")
                && !out.contains("team-a-token"),
            "{out}"
        );
    }
}
