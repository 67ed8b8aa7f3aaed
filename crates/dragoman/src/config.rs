//! The configuration: built-in defaults, then a TOML file, then `DRAGOMAN_*` variables
//! (`__` separates levels: `DRAGOMAN_SERVER__LISTEN=0.0.0.0:9000`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerSection,
    pub s3: S3Section,
    pub bos: BosSection,
    pub store: StoreSection,
    pub log: LogSection,
    /// Callers and the buckets each may use. None by default: every request is refused until
    /// a credential is configured.
    pub credentials: Vec<Credential>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    pub listen: String,
    /// The dialect of requests that carry no dialect's signals: `s3` or `bos`.
    pub default_dialect: String,
    pub max_concurrency: usize,
    pub max_header_bytes: usize,
    pub max_body_bytes: usize,
    pub header_read_timeout_secs: u64,
    pub backend_timeout_secs: u64,
    pub shutdown_grace_secs: u64,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9000".into(),
            default_dialect: "s3".into(),
            max_concurrency: 1024,
            max_header_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            header_read_timeout_secs: 30,
            backend_timeout_secs: 30,
            shutdown_grace_secs: 30,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Section {
    pub region: String,
    /// Domain suffixes for virtual-hosted addressing: `<bucket>.<domain>`.
    pub domains: Vec<String>,
}

impl Default for S3Section {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            domains: vec!["s3.localhost".into()],
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BosSection {
    /// Base domains for virtual-hosted addressing: `<bucket>.<region>.<domain>`.
    pub domains: Vec<String>,
    /// The region bucket listings name as `location`.
    pub region: String,
}

impl Default for BosSection {
    fn default() -> Self {
        Self {
            domains: vec!["bcebos.com".into()],
            region: "bj".into(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    pub data_dir: PathBuf,
}

impl Default for StoreSection {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    /// A tracing filter (`info`, `dragoman_gateway=debug,info`); `RUST_LOG` overrides it.
    pub filter: String,
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            filter: "info".into(),
        }
    }
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub name: String,
    pub access_key: String,
    pub secret_key: String,
    /// Glob patterns of the buckets this caller may use.
    #[serde(default = "all_buckets")]
    pub buckets: Vec<String>,
}

fn all_buckets() -> Vec<String> {
    vec!["*".into()]
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("name", &self.name)
            .field("access_key", &self.access_key)
            .field("secret_key", &"****")
            .field("buckets", &self.buckets)
            .finish()
    }
}

/// The `DRAGOMAN_*` variables that are configuration: `SECTION__KEY` ones and
/// `DRAGOMAN_CREDENTIALS`. Others (`DRAGOMAN_CONFIG`, or a deployment's own
/// `DRAGOMAN_WHATEVER`) are left alone instead of failing as unknown keys.
fn config_env() -> Env {
    Env::prefixed("DRAGOMAN_")
        .filter(|k| k.as_str().contains("__") || k == "credentials")
        .split("__")
}

impl Config {
    /// Loads defaults, then `file` (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(format!(
                    "configuration file {} does not exist",
                    path.display()
                ));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        fig = fig.merge(config_env());
        let config: Config = fig.extract().map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    /// Everything that would make `serve` fail or misbehave, said before it starts.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.server.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "server.listen: {:?} is not an address like 127.0.0.1:9000",
                self.server.listen
            ));
        }
        if dragoman_gateway::Dialect::from_name(&self.server.default_dialect).is_none() {
            problems.push(format!(
                "server.default_dialect: {:?} is not one of \"s3\", \"bos\"",
                self.server.default_dialect
            ));
        }
        if self.server.max_concurrency == 0 {
            problems.push("server.max_concurrency must be at least 1".into());
        }
        if self.server.max_header_bytes < 1024 {
            problems.push("server.max_header_bytes must be at least 1024".into());
        }
        if self.s3.region.trim().is_empty() {
            problems.push("s3.region must not be empty".into());
        }
        if self.store.data_dir.as_os_str().is_empty() {
            problems.push("store.data_dir must not be empty".into());
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.credentials.iter().enumerate() {
            let at = format!("credentials[{i}] ({})", c.name);
            if c.name.trim().is_empty() {
                problems.push(format!("{at}: name must not be empty"));
            }
            if c.access_key.trim().is_empty() || c.access_key.contains(['/', ' ']) {
                problems.push(format!(
                    "{at}: access_key must be non-empty, without '/' or spaces"
                ));
            }
            if c.secret_key.len() < 8 {
                problems.push(format!("{at}: secret_key must be at least 8 characters"));
            }
            if c.buckets.is_empty() {
                problems.push(format!(
                    "{at}: buckets must list at least one pattern (\"*\" for all)"
                ));
            }
            if !seen.insert(c.access_key.as_str()) {
                problems.push(format!(
                    "{at}: access_key {} is configured twice",
                    c.access_key
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    pub fn listen(&self) -> Result<SocketAddr, String> {
        self.server
            .listen
            .parse()
            .map_err(|e| format!("server.listen: {e}"))
    }

    /// The configuration as TOML with every secret masked.
    pub fn to_masked_toml(&self) -> String {
        let mut masked = self.clone();
        for c in &mut masked.credentials {
            c.secret_key = "****".into();
        }
        toml::to_string_pretty(&masked)
            .unwrap_or_else(|e| format!("# cannot print the configuration: {e}\n"))
    }

    pub fn gateway(&self) -> dragoman_gateway::GatewayConfig {
        dragoman_gateway::GatewayConfig {
            s3: dragoman_dialect_s3::S3Config {
                region: self.s3.region.clone(),
                domains: self.s3.domains.clone(),
            },
            bos: dragoman_dialect_bos::BosConfig {
                domains: self.bos.domains.clone(),
                region: self.bos.region.clone(),
            },
            default_dialect: dragoman_gateway::Dialect::from_name(&self.server.default_dialect)
                .unwrap_or(dragoman_gateway::Dialect::S3),
            users: self
                .credentials
                .iter()
                .map(|c| dragoman_gateway::User {
                    name: c.name.clone(),
                    access_key: c.access_key.clone(),
                    secret_key: c.secret_key.clone(),
                    buckets: c.buckets.clone(),
                })
                .collect(),
            max_header_bytes: self.server.max_header_bytes,
            max_body_bytes: self.server.max_body_bytes,
            backend_timeout: Duration::from_secs(self.server.backend_timeout_secs),
        }
    }

    pub fn server(&self) -> dragoman_gateway::ServerConfig {
        dragoman_gateway::ServerConfig {
            max_concurrency: self.server.max_concurrency,
            header_read_timeout: Duration::from_secs(self.server.header_read_timeout_secs),
            shutdown_grace: Duration::from_secs(self.server.shutdown_grace_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_configuration_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/dragoman.toml");
        let c = Config::load(Some(&path)).unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.credentials.is_empty());
        assert!(!c.to_masked_toml().contains(&c.credentials[0].secret_key));
    }

    #[test]
    fn problems_are_named() {
        let mut c = Config::default();
        c.server.listen = "nowhere".into();
        c.credentials.push(Credential {
            name: "x".into(),
            access_key: "a b".into(),
            secret_key: "short".into(),
            buckets: vec![],
        });
        let err = c.validate().err().unwrap_or_default();
        for needle in ["server.listen", "access_key", "secret_key", "buckets"] {
            assert!(err.contains(needle), "{needle} in {err}");
        }
    }
}
