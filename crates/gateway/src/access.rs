//! Who may call, with which secret, and which buckets each caller may touch.

use std::collections::HashMap;

use dragoman_model::{Error, Identity, Principal};

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

/// The users, indexed by access key.
#[derive(Clone, Debug, Default)]
pub struct Access {
    by_key: HashMap<String, User>,
}

impl Access {
    pub fn new(users: impl IntoIterator<Item = User>) -> Self {
        Self {
            by_key: users
                .into_iter()
                .map(|u| (u.access_key.clone(), u))
                .collect(),
        }
    }

    /// The access key of the user a static access token stands for.
    pub fn token_owner(&self, token: &str) -> Option<String> {
        self.by_key
            .values()
            .find(|u| u.access_tokens.iter().any(|t| ct_eq(t, token)))
            .map(|u| u.access_key.clone())
    }

    /// Checks a user name and password; every failure looks the same to the caller.
    pub fn login(&self, username: &str, password: &str) -> Result<Principal, Error> {
        let found = self.by_key.values().find(|u| u.name == username);
        match found.and_then(|u| u.password.as_deref().map(|p| (u, p))) {
            Some((u, p)) if ct_eq(p, password) => Ok(Principal {
                name: u.name.clone(),
                access_key: u.access_key.clone(),
            }),
            _ => Err(Error::Unauthenticated {
                message: "Invalid user name or password".into(),
            }),
        }
    }

    pub fn secret_of(&self, access_key: &str) -> Option<String> {
        self.by_key.get(access_key).map(|u| u.secret_key.clone())
    }

    pub fn principal(&self, access_key: &str) -> Option<Principal> {
        self.by_key.get(access_key).map(|u| Principal {
            name: u.name.clone(),
            access_key: u.access_key.clone(),
        })
    }

    pub fn identity(&self, principal: &Principal) -> Identity {
        Identity::named(principal.name.clone(), principal.name.clone())
    }

    pub fn may_use(&self, principal: &Principal, bucket: &str) -> bool {
        self.by_key
            .get(&principal.access_key)
            .is_some_and(|u| u.buckets.iter().any(|p| glob_match::glob_match(p, bucket)))
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

    fn login(&self, username: &str, password: &str) -> Result<Principal, Error> {
        Access::login(self, username, password)
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
            a.login("team-a", "pw-of-team-a").map(|p| p.access_key),
            Ok("AK".into())
        );
        assert!(matches!(
            a.login("team-a", "wrong"),
            Err(Error::Unauthenticated { .. })
        ));
        assert!(matches!(
            a.login("nobody", "pw-of-team-a"),
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
