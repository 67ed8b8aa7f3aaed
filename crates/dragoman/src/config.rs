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
    pub qumulo: QumuloSection,
    pub tls: TlsSection,
    pub store: StoreSection,
    pub log: LogSection,
    pub admin: AdminSection,
    /// Named backends besides the built-in `embedded` one (the store of `[store]`).
    pub backends: std::collections::BTreeMap<String, BackendSection>,
    /// Which backend owns which buckets; first match wins, the rest go to `server.default_backend`.
    pub routes: Vec<RouteSection>,
    /// Callers and the buckets each may use. None by default: every request is refused until
    /// a credential is configured.
    pub credentials: Vec<Credential>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    pub listen: String,
    /// The dialect of requests that carry no dialect's signals: `s3`, `bos` or `qumulo`.
    pub default_dialect: String,
    /// The backend of buckets no route matches: `embedded` or a name from `[backends]`.
    pub default_backend: String,
    pub max_concurrency: usize,
    pub max_header_bytes: usize,
    pub max_body_bytes: usize,
    pub header_read_timeout_secs: u64,
    /// How long a caller may take to send its body once its headers are in.
    pub body_read_timeout_secs: u64,
    /// The default per-try timeout of backend calls (`backends.<name>.timeout_secs`).
    pub backend_timeout_secs: u64,
    pub shutdown_grace_secs: u64,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9000".into(),
            default_dialect: "s3".into(),
            default_backend: "embedded".into(),
            max_concurrency: 1024,
            max_header_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            header_read_timeout_secs: 30,
            body_read_timeout_secs: 30,
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

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct QumuloSection {
    /// Signs session and `after` tokens; replicas that share it accept each other's tokens.
    /// Empty: a random key per start (tokens die with the process; a warning says so).
    pub token_key: String,
    /// How long a `POST /v1/session/login` session lasts.
    pub session_ttl_secs: u64,
    /// The page size when a caller sends no `limit` (`qq` never sends one).
    pub page_size: u16,
}

impl Default for QumuloSection {
    fn default() -> Self {
        Self {
            token_key: String::new(),
            session_ttl_secs: 10 * 3600,
            page_size: 1000,
        }
    }
}

impl std::fmt::Debug for QumuloSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QumuloSection")
            .field(
                "token_key",
                &if self.token_key.is_empty() {
                    ""
                } else {
                    "****"
                },
            )
            .field("session_ttl_secs", &self.session_ttl_secs)
            .field("page_size", &self.page_size)
            .finish()
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSection {
    /// Serve TLS on the listener (sniffed per connection; plain HTTP stays available).
    pub enabled: bool,
    /// PEM certificate chain and private key. Both empty: a self-signed certificate is made at
    /// start for `self_signed_names`, logged, and written to `<data_dir>/tls/self-signed.pem`.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub self_signed_names: Vec<String>,
}

impl Default for TlsSection {
    fn default() -> Self {
        Self {
            enabled: true,
            cert_file: None,
            key_file: None,
            self_signed_names: vec!["localhost".into(), "127.0.0.1".into()],
        }
    }
}

/// One remote backend. Which keys apply depends on `kind`.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackendSection {
    /// `s3`, `bos` or `qumulo` (`embedded` is built in).
    pub kind: String,
    /// `http(s)://host[:port]`: an S3 or BOS endpoint, or a Qumulo cluster's REST API.
    pub endpoint: String,
    /// S3 and BOS: `path` (`/<bucket>`) or `virtual` (`<bucket>.<endpoint host>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addressing: Option<String>,
    /// S3: the region requests are signed for (default `us-east-1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// S3 and BOS credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// BOS: the service honours `uploadIdMarker` (undocumented for live BOS; off by default).
    pub honours_upload_id_marker: bool,
    /// Qumulo: log in with these, or use `token` (`access-v1:…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Qumulo: `limit` per page (unset: the cluster's choice) and the most uploads a listing
    /// may read from one bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_limit: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_uploads: Option<usize>,
    /// Qumulo: how long a bucket's sorted snapshot serves the pages after a listing's first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_ttl_secs: Option<u64>,
    /// Connection settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_idle_per_host: Option<usize>,
    /// A PEM file of CA certificates to trust besides the system's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate (self-signed test clusters only; logged as a warning).
    pub insecure_skip_verify: bool,
    /// Calls in flight to this backend at once (default 256); more wait for a slot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<usize>,
    /// Retries of a failed idempotent read (default 2), within a budget of 20 % of calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Consecutive failed calls that open the circuit breaker (default 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_failures: Option<u32>,
    /// How long an open breaker refuses calls before one probes (default 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_cooldown_secs: Option<u64>,
}

impl std::fmt::Debug for BackendSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendSection")
            .field("kind", &self.kind)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// A bucket route.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// A bucket name or glob pattern.
    pub buckets: String,
    /// `embedded` or a name from `[backends]`.
    pub backend: String,
    /// The bucket's name on the backend; `{bucket}` stands for the caller's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename: Option<String>,
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
    pub format: LogFormat,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            filter: "info".into(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSection {
    /// `/healthz`, `/readyz` and `/metrics`; empty disables the admin listener.
    pub listen: String,
}

impl Default for AdminSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9001".into(),
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
    /// Qumulo login (`name` is the user name); absent: this caller cannot log in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Qumulo access tokens (`access-v1:…`) that stand for this caller.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_tokens: Vec<String>,
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
            .field("password", &self.password.as_ref().map(|_| "****"))
            .field("access_tokens", &self.access_tokens.len())
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
        if !self.admin.listen.is_empty() && self.admin.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "admin.listen: {:?} is not an address like 127.0.0.1:9001 (or empty to disable)",
                self.admin.listen
            ));
        }
        if !matches!(
            self.server.default_dialect.as_str(),
            "s3" | "bos" | "qumulo"
        ) {
            problems.push(format!(
                "server.default_dialect: {:?} is not one of \"s3\", \"bos\", \"qumulo\"",
                self.server.default_dialect
            ));
        }
        if self.qumulo.page_size == 0 || self.qumulo.page_size > 1000 {
            problems.push("qumulo.page_size must be between 1 and 1000".into());
        }
        if !self.qumulo.token_key.is_empty() && self.qumulo.token_key.len() < 32 {
            problems.push(
                "qumulo.token_key must be at least 32 characters (or empty for a random one)"
                    .into(),
            );
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            problems.push("tls.cert_file and tls.key_file go together".into());
        }
        problems.extend(self.backend_problems());
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
            if c.password.as_ref().is_some_and(|p| p.len() < 8) {
                problems.push(format!("{at}: password must be at least 8 characters"));
            }
            if c.access_tokens
                .iter()
                .any(|t| !t.starts_with("access-v1:") || t.len() < 20)
            {
                problems.push(format!(
                    "{at}: access_tokens must look like access-v1:<at least 10 characters>"
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

    fn backend_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let known = |name: &str| name == "embedded" || self.backends.contains_key(name);
        if !known(&self.server.default_backend) {
            problems.push(format!(
                "server.default_backend: no backend named {:?}",
                self.server.default_backend
            ));
        }
        for (name, b) in &self.backends {
            let at = format!("backends.{name}");
            if name == "embedded" {
                problems.push(format!("{at}: the name embedded is built in"));
            }
            let scheme_ok = b.endpoint.starts_with("http://") || b.endpoint.starts_with("https://");
            let needs = |what: &str, v: &Option<String>, problems: &mut Vec<String>| {
                if v.as_deref().is_none_or(str::is_empty) {
                    problems.push(format!("{at}: a {} backend needs {what}", b.kind));
                }
            };
            match b.kind.as_str() {
                "bos" | "s3" => {
                    needs("access_key", &b.access_key, &mut problems);
                    needs("secret_key", &b.secret_key, &mut problems);
                    if !matches!(b.addressing.as_deref(), None | Some("path" | "virtual")) {
                        problems.push(format!("{at}: addressing must be \"path\" or \"virtual\""));
                    }
                }
                "qumulo" => {
                    if b.token.is_none() && (b.username.is_none() || b.password.is_none()) {
                        problems.push(format!(
                            "{at}: a qumulo backend needs username and password, or token"
                        ));
                    }
                }
                other => problems.push(format!(
                    "{at}: kind {other:?} is not one of \"s3\", \"bos\", \"qumulo\""
                )),
            }
            if !scheme_ok {
                problems.push(format!(
                    "{at}: endpoint {:?} must start with http:// or https://",
                    b.endpoint
                ));
            }
        }
        for (i, r) in self.routes.iter().enumerate() {
            if !known(&r.backend) {
                problems.push(format!(
                    "routes[{i}] ({}): no backend named {:?}",
                    r.buckets, r.backend
                ));
            }
            if r.buckets.is_empty() {
                problems.push(format!("routes[{i}]: buckets must not be empty"));
            }
        }
        problems
    }

    /// The admin listener's address, `None` when disabled.
    pub fn admin_listen(&self) -> Result<Option<SocketAddr>, String> {
        if self.admin.listen.is_empty() {
            return Ok(None);
        }
        self.admin
            .listen
            .parse()
            .map(Some)
            .map_err(|e| format!("admin.listen: {e}"))
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
            if c.password.is_some() {
                c.password = Some("****".into());
            }
            for t in &mut c.access_tokens {
                *t = "access-v1:****".into();
            }
        }
        for b in masked.backends.values_mut() {
            for secret in [&mut b.secret_key, &mut b.password, &mut b.token] {
                if secret.is_some() {
                    *secret = Some("****".into());
                }
            }
        }
        if !masked.qumulo.token_key.is_empty() {
            masked.qumulo.token_key = "****".into();
        }
        toml::to_string_pretty(&masked)
            .unwrap_or_else(|e| format!("# cannot print the configuration: {e}\n"))
    }

    /// The dialects this gateway speaks, in detection priority for equal claims, and the
    /// request path's settings. A fourth dialect is one more line here.
    pub fn gateway(&self, token_key: Vec<u8>) -> Result<dragoman_gateway::GatewayConfig, String> {
        use std::sync::Arc;
        let s3 = dragoman_dialect_s3::S3Config {
            region: self.s3.region.clone(),
            domains: self.s3.domains.clone(),
        };
        let bos = dragoman_dialect_bos::BosConfig {
            domains: self.bos.domains.clone(),
            region: self.bos.region.clone(),
        };
        let qumulo = dragoman_dialect_qumulo::QumuloConfig {
            token_key,
            session_ttl: Duration::from_secs(self.qumulo.session_ttl_secs),
            page_size: self.qumulo.page_size,
        };
        let dialects = dragoman_dialect::Dialects::new(
            vec![
                Arc::new(dragoman_dialect_qumulo::QumuloDialect { config: qumulo }),
                Arc::new(dragoman_dialect_bos::BosDialect { config: bos }),
                Arc::new(dragoman_dialect_s3::S3Dialect { config: s3 }),
            ],
            &self.server.default_dialect,
        )
        .map_err(|e| format!("server.default_dialect: {e}"))?;
        Ok(dragoman_gateway::GatewayConfig {
            dialects,
            users: self
                .credentials
                .iter()
                .map(|c| dragoman_gateway::User {
                    name: c.name.clone(),
                    access_key: c.access_key.clone(),
                    secret_key: c.secret_key.clone(),
                    buckets: c.buckets.clone(),
                    password: c.password.clone(),
                    access_tokens: c.access_tokens.clone(),
                })
                .collect(),
            limits: dragoman_gateway::Limits {
                max_header_bytes: self.server.max_header_bytes,
                max_body_bytes: self.server.max_body_bytes,
                body_read_timeout: Duration::from_secs(self.server.body_read_timeout_secs),
            },
            max_concurrency: self.server.max_concurrency,
        })
    }

    pub fn server(
        &self,
        tls: Option<dragoman_gateway::tls::Tls>,
    ) -> dragoman_gateway::ServerConfig {
        dragoman_gateway::ServerConfig {
            header_read_timeout: Duration::from_secs(self.server.header_read_timeout_secs),
            shutdown_grace: Duration::from_secs(self.server.shutdown_grace_secs),
            tls: tls.map(|t| t.config),
        }
    }

    /// The listener's TLS: the configured pair, or a self-signed certificate written to
    /// `<data_dir>/tls/self-signed.pem` so clients can choose to trust it.
    pub fn tls(&self) -> Result<Option<dragoman_gateway::tls::Tls>, String> {
        if !self.tls.enabled {
            return Ok(None);
        }
        if let (Some(cert), Some(key)) = (&self.tls.cert_file, &self.tls.key_file) {
            return dragoman_gateway::tls::from_files(cert, key).map(Some);
        }
        let tls = dragoman_gateway::tls::self_signed(&self.tls.self_signed_names)?;
        let dir = self.store.data_dir.join("tls");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join("self-signed.pem");
        std::fs::write(&path, &tls.cert_pem)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        tracing::warn!(
            cert = %path.display(),
            names = ?self.tls.self_signed_names,
            "TLS uses a SELF-SIGNED certificate generated at start; configure tls.cert_file and tls.key_file for a real one"
        );
        Ok(Some(tls))
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
    fn example_configurations_are_valid() {
        for name in ["s3-backend.toml", "bos-backend.toml", "qumulo-backend.toml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../config")
                .join(name);
            let c = Config::load(Some(&path)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!c.routes.is_empty(), "{name}");
            let masked = c.to_masked_toml();
            let secrets = c
                .backends
                .values()
                .flat_map(|b| [&b.secret_key, &b.password, &b.token])
                .flatten();
            for secret in secrets.chain(c.credentials.iter().map(|c| &c.secret_key)) {
                assert!(
                    !masked.contains(secret.as_str()),
                    "{name} shows a secret: {masked}"
                );
            }
        }
    }

    #[test]
    fn backend_problems_are_named() {
        let mut c = Config::default();
        c.backends.insert(
            "b".into(),
            BackendSection {
                kind: "bos".into(),
                endpoint: "ftp://x".into(),
                ..BackendSection::default()
            },
        );
        c.backends.insert(
            "q".into(),
            BackendSection {
                kind: "qumulo".into(),
                endpoint: "https://q:8000".into(),
                ..BackendSection::default()
            },
        );
        c.routes.push(RouteSection {
            buckets: "x".into(),
            backend: "nowhere".into(),
            rename: None,
        });
        let err = c.validate().err().unwrap_or_default();
        for needle in [
            "backends.b: a bos backend needs access_key",
            "backends.b: endpoint",
            "backends.q: a qumulo backend needs",
            "routes[0] (x): no backend named",
        ] {
            assert!(err.contains(needle), "{needle} in {err}");
        }
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
            password: Some("short".into()),
            access_tokens: vec!["not-a-token".into()],
        });
        c.qumulo.token_key = "too short".into();
        c.tls.cert_file = Some("cert.pem".into());
        let err = c.validate().err().unwrap_or_default();
        for needle in [
            "server.listen",
            "access_key",
            "secret_key",
            "buckets",
            "password",
            "access_tokens",
            "token_key",
            "tls.cert_file",
        ] {
            assert!(err.contains(needle), "{needle} in {err}");
        }
    }
}
