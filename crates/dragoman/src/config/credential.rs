//! `[[credentials]]`: who may call, with which secrets, and which buckets each may use.

use dragoman_model::Secret;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub name: String,
    pub access_key: String,
    pub secret_key: Secret,
    /// Glob patterns of the buckets this caller may use.
    #[serde(default = "all_buckets")]
    pub buckets: Vec<String>,
    /// Qumulo login (`name` is the user name); absent: this caller cannot log in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Qumulo access tokens (`access-v1:…`) that stand for this caller.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_tokens: Vec<Secret>,
}

fn all_buckets() -> Vec<String> {
    vec!["*".into()]
}

impl Credential {
    pub fn problems(&self, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push(format!("{at}: name must not be empty"));
        }
        if self.access_key.trim().is_empty() || self.access_key.contains(['/', ' ']) {
            problems.push(format!(
                "{at}: access_key must be non-empty, without '/' or spaces"
            ));
        }
        if self.secret_key.len() < 8 {
            problems.push(format!("{at}: secret_key must be at least 8 characters"));
        }
        if self.buckets.is_empty() {
            problems.push(format!(
                "{at}: buckets must list at least one pattern (\"*\" for all)"
            ));
        }
        if self.password.as_ref().is_some_and(|p| p.len() < 8) {
            problems.push(format!("{at}: password must be at least 8 characters"));
        }
        if self
            .access_tokens
            .iter()
            .any(|t| !t.expose().starts_with("access-v1:") || t.len() < 20)
        {
            problems.push(format!(
                "{at}: access_tokens must look like access-v1:<at least 10 characters>"
            ));
        }
        problems
    }

    pub fn user(&self) -> dragoman_gateway::User {
        dragoman_gateway::User {
            name: self.name.clone(),
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.expose().to_owned(),
            buckets: self.buckets.clone(),
            password: self.password.as_ref().map(|p| p.expose().to_owned()),
            access_tokens: self
                .access_tokens
                .iter()
                .map(|t| t.expose().to_owned())
                .collect(),
        }
    }
}
