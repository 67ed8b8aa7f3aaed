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
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("access_key", &self.access_key)
            .field("secret_key", &"****")
            .field("buckets", &self.buckets)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        Access::new([User {
            name: "team-a".into(),
            access_key: "AK".into(),
            secret_key: "SK".into(),
            buckets: vec!["team-a-*".into(), "shared".into()],
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
    fn secrets_never_reach_debug_output() {
        let out = format!("{:?}", access());
        assert!(!out.contains("\"SK\""), "{out}");
    }
}
