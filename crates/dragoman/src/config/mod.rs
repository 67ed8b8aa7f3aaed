//! The configuration: built-in defaults, then a TOML file, then `DRAGOMAN_*` variables
//! (`__` separates levels: `DRAGOMAN_SERVER__LISTEN=0.0.0.0:9000`).
//!
//! Each dialect owns its section's type (`[s3]`, `[bos]`, `[qumulo]`); secrets are
//! [`Secret`]s, which print as `****` wherever they go, so `check-config` prints the whole
//! effective configuration as it is.

mod backend;
mod credential;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dragoman_dialect_bos::BosConfig;
use dragoman_dialect_qumulo::QumuloSection;
use dragoman_dialect_s3::S3Config;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::Value;
use serde::{Deserialize, Serialize};

pub use backend::BackendSection;
pub use credential::Credential;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerSection,
    pub s3: S3Config,
    pub bos: BosConfig,
    pub qumulo: QumuloSection,
    pub tls: TlsSection,
    pub store: StoreSection,
    pub log: LogSection,
    pub admin: AdminSection,
    /// Named backends besides the built-in `embedded` one (the store of `[store]`).
    pub backends: BTreeMap<String, BackendSection>,
    /// Which backend owns which buckets; first match wins, the rest go to `server.default_backend`.
    pub routes: Vec<RouteSection>,
    /// Callers and the buckets each may use. None by default: every request is refused until
    /// a credential is configured.
    pub credentials: Vec<Credential>,
}

/// The dialects a listener can speak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DialectName {
    #[default]
    S3,
    Bos,
    Qumulo,
}

impl DialectName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::Bos => "bos",
            Self::Qumulo => "qumulo",
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    pub listen: String,
    /// The dialect of requests that carry no dialect's signals.
    pub default_dialect: DialectName,
    /// The backend of buckets no route matches: `embedded` or a name from `[backends]`.
    pub default_backend: String,
    pub max_concurrency: usize,
    /// Of those, the requests the gateway answers itself (listings, control operations) that
    /// hold a backend page or build an answer at once; more wait their turn. Bounds memory:
    /// a 1000-upload listing holds about 650 KB while it runs.
    pub max_working: usize,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    pub max_header_bytes: usize,
    pub max_body_bytes: usize,
    pub header_read_timeout_secs: u64,
    /// How long a caller may take to send its body once its headers are in.
    pub body_read_timeout_secs: u64,
    /// The default per-try timeout of backend calls (`backends.<name>.timeout_secs`).
    pub backend_timeout_secs: u64,
    pub shutdown_grace_secs: u64,
    /// After SIGTERM, how long to keep serving with `/readyz` failing before the listener
    /// closes (for load balancers that health-check; Kubernetes has preStop for this).
    pub shutdown_delay_secs: u64,
    /// Failed logins allowed per user name and per client address within
    /// `login_window_secs`; past that the login route answers 429 until the window ends.
    pub login_max_failures: u32,
    pub login_window_secs: u64,
}

impl Default for ServerSection {
    fn default() -> Self {
        let limits = dragoman_gateway::Limits::default();
        let server = dragoman_gateway::ServerConfig::default();
        Self {
            listen: "127.0.0.1:9000".into(),
            default_dialect: DialectName::S3,
            default_backend: "embedded".into(),
            max_concurrency: 1024,
            max_working: 64,
            max_connections: server.max_connections,
            max_header_bytes: limits.max_header_bytes,
            max_body_bytes: limits.max_body_bytes,
            header_read_timeout_secs: server.header_read_timeout.as_secs(),
            body_read_timeout_secs: limits.body_read_timeout.as_secs(),
            backend_timeout_secs: dragoman_backend::OutboundConfig::default()
                .timeout
                .as_secs(),
            shutdown_grace_secs: server.shutdown_grace.as_secs(),
            shutdown_delay_secs: server.drain_delay.as_secs(),
            login_max_failures: dragoman_gateway::LoginLimits::default().max_failures,
            login_window_secs: dragoman_gateway::LoginLimits::default().window.as_secs(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSection {
    /// Serve TLS on the listener (sniffed per connection; plain HTTP stays available).
    pub enabled: bool,
    /// PEM certificate chain and private key. Both empty: a self-signed certificate is made at
    /// start for `self_signed_names`, logged, and written to `<data_dir>/tls/self-signed.pem`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    pub self_signed_names: Vec<String>,
    /// The dialects whose credentials are refused over plain HTTP while TLS is enabled.
    /// Qumulo by default: its passwords and bearer tokens are the secrets themselves, where
    /// S3's and BOS's signatures are not (add them for full transport security).
    pub require_for: Vec<DialectName>,
}

impl Default for TlsSection {
    fn default() -> Self {
        Self {
            enabled: true,
            cert_file: None,
            key_file: None,
            self_signed_names: vec!["localhost".into(), "127.0.0.1".into()],
            require_for: vec![DialectName::Qumulo],
        }
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
    /// The bearer token `POST /admin/sweep` requires; unset, sweeping over HTTP is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<dragoman_model::Secret>,
}

impl Default for AdminSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9001".into(),
            token: None,
        }
    }
}

/// The connection cap the process can keep: its descriptor limit raised to the hard limit,
/// less room for the store, backends and the admin listener.
fn connection_cap(wanted: usize) -> usize {
    const SPARE: u64 = 256;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < wanted as u64 + SPARE => {
            let cap = usize::try_from(limit.saturating_sub(SPARE))
                .unwrap_or(1)
                .max(1);
            tracing::warn!(
                descriptors = limit,
                wanted,
                cap,
                "the descriptor limit is below server.max_connections; serving fewer connections"
            );
            cap
        }
        _ => wanted,
    }
}

/// The `DRAGOMAN_*` variables that are configuration: `SECTION__KEY` ones, and the lists
/// `DRAGOMAN_CREDENTIALS` and `DRAGOMAN_ROUTES` (inline TOML arrays of tables). Others
/// (`DRAGOMAN_CONFIG`, or a deployment's own `DRAGOMAN_WHATEVER`) are left alone instead of
/// failing as unknown keys.
fn config_env() -> Env {
    Env::prefixed("DRAGOMAN_")
        .filter(|k| k.as_str().contains("__") || k == "credentials" || k == "routes")
        .split("__")
}

/// The secret keys that may instead name a file holding the secret (`secret_key_file`,
/// `password_file`, `token_file`, `token_key_file`), so that secrets can be mounted from a
/// Kubernetes Secret rather than written into a ConfigMap or the environment.
const SECRET_KEYS: [&str; 4] = ["secret_key", "password", "token", "token_key"];

/// Replaces every `<secret>_file` key, at any depth, by `<secret>` with the file's content
/// (one trailing newline dropped, as `kubectl create secret --from-file` keeps it).
fn read_secret_files(value: &mut Value, at: &str) -> Result<(), String> {
    match value {
        Value::Dict(_, dict) => {
            let files: Vec<String> = dict
                .keys()
                .filter(|k| {
                    k.strip_suffix("_file")
                        .is_some_and(|base| SECRET_KEYS.contains(&base))
                })
                .cloned()
                .collect();
            for file_key in files {
                let base = file_key.trim_end_matches("_file").to_owned();
                let name = format!("{at}{file_key}");
                if dict.contains_key(&base) {
                    return Err(format!("{name}: give {base} or {file_key}, not both"));
                }
                let path = dict
                    .remove(&file_key)
                    .and_then(|v| v.into_string())
                    .ok_or_else(|| format!("{name} must be a file path"))?;
                let secret = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{name}: cannot read {path}: {e}"))?;
                let secret = secret
                    .strip_suffix('\n')
                    .map(|s| s.strip_suffix('\r').unwrap_or(s))
                    .unwrap_or(&secret);
                dict.insert(base, Value::from(secret.to_owned()));
            }
            for (k, v) in dict.iter_mut() {
                read_secret_files(v, &format!("{at}{k}."))?;
            }
            Ok(())
        }
        Value::Array(_, items) => {
            for (i, v) in items.iter_mut().enumerate() {
                read_secret_files(v, &format!("{}[{i}].", at.trim_end_matches('.')))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

impl Config {
    /// Loads defaults, then `file` (if any), then the environment, and writes out every
    /// default a backend section left unset.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        // What the operator gave (file, then environment), with secret files read, over the
        // defaults: a `*_file` key conflicts only with a secret the operator also gave.
        let mut given = Figment::new();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(format!(
                    "configuration file {} does not exist",
                    path.display()
                ));
            }
            given = given.merge(Toml::file_exact(path));
        }
        given = given.merge(config_env());
        let mut tree: Value = given.extract().map_err(|e| e.to_string())?;
        read_secret_files(&mut tree, "")?;
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Serialized::defaults(tree))
            .extract()
            .map_err(|e| e.to_string())?;
        config.validate()?;
        let timeout = config.server.backend_timeout_secs;
        for b in config.backends.values_mut() {
            *b = b.clone().with_defaults(timeout);
        }
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
        problems.extend(self.s3.problems());
        problems.extend(self.bos.problems());
        problems.extend(self.qumulo.problems());
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            problems.push("tls.cert_file and tls.key_file go together".into());
        }
        problems.extend(self.backend_problems());
        if self.server.login_max_failures == 0 {
            problems.push("server.login_max_failures must be at least 1".into());
        }
        if self.server.max_connections == 0 {
            problems.push("server.max_connections must be at least 1".into());
        }
        if self.server.max_concurrency == 0 {
            problems.push("server.max_concurrency must be at least 1".into());
        }
        if self.server.max_working == 0 {
            problems.push("server.max_working must be at least 1".into());
        }
        if self.server.max_header_bytes < 1024 {
            problems.push("server.max_header_bytes must be at least 1024".into());
        }
        if self.server.body_read_timeout_secs == 0 || self.server.backend_timeout_secs == 0 {
            problems.push(
                "server.body_read_timeout_secs and server.backend_timeout_secs must be at least 1"
                    .into(),
            );
        }
        if self.store.data_dir.as_os_str().is_empty() {
            problems.push("store.data_dir must not be empty".into());
        }
        // Each key, name and token must name one caller: a duplicate would be resolved in
        // whatever order a hash map iterates.
        let (mut keys, mut names, mut tokens) = (
            std::collections::HashSet::new(),
            std::collections::HashSet::new(),
            std::collections::HashSet::new(),
        );
        for (i, c) in self.credentials.iter().enumerate() {
            let at = format!("credentials[{i}] ({})", c.name);
            problems.extend(c.problems(&at));
            if !keys.insert(c.access_key.as_str()) {
                problems.push(format!(
                    "{at}: access_key {} is configured twice",
                    c.access_key
                ));
            }
            if !names.insert(c.name.as_str()) {
                problems.push(format!("{at}: the name {} is configured twice", c.name));
            }
            if c.access_tokens.iter().any(|t| !tokens.insert(t.expose())) {
                problems.push(format!("{at}: an access token is configured twice"));
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
            problems.extend(b.problems(&at));
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

    /// The effective configuration as TOML; secrets print as `****`.
    pub fn to_masked_toml(&self) -> String {
        toml::to_string_pretty(self)
            .unwrap_or_else(|e| format!("# cannot print the configuration: {e}\n"))
    }

    /// The dialects this gateway speaks, in detection priority for equal claims, and the
    /// request path's settings. A fourth dialect is one more line here.
    pub fn gateway(&self) -> Result<dragoman_gateway::GatewayConfig, String> {
        use std::sync::Arc;
        let qumulo = self.qumulo.config(|| {
            use rand::Rng;
            tracing::warn!(
                "qumulo.token_key is not set: a random key signs sessions and paging tokens, so they end with this process and other replicas refuse them"
            );
            rand::rng().random::<[u8; 32]>().to_vec()
        });
        let dialects = dragoman_dialect::Dialects::new(
            vec![
                Arc::new(dragoman_dialect_qumulo::QumuloDialect { config: qumulo }),
                Arc::new(dragoman_dialect_bos::BosDialect {
                    config: self.bos.clone(),
                }),
                Arc::new(dragoman_dialect_s3::S3Dialect {
                    config: self.s3.clone(),
                }),
            ],
            self.server.default_dialect.as_str(),
        )
        .map_err(|e| format!("server.default_dialect: {e}"))?;
        Ok(dragoman_gateway::GatewayConfig {
            dialects,
            users: self.credentials.iter().map(Credential::user).collect(),
            limits: dragoman_gateway::Limits {
                max_header_bytes: self.server.max_header_bytes,
                max_body_bytes: self.server.max_body_bytes,
                body_read_timeout: Duration::from_secs(self.server.body_read_timeout_secs),
            },
            max_concurrency: self.server.max_concurrency,
            max_working: self.server.max_working,
            // Without TLS there is nothing to require; the warning at start says so.
            require_tls_for: if self.tls.enabled {
                self.tls
                    .require_for
                    .iter()
                    .map(|d| d.as_str().to_owned())
                    .collect()
            } else {
                Vec::new()
            },
            login: dragoman_gateway::LoginLimits {
                max_failures: self.server.login_max_failures,
                window: Duration::from_secs(self.server.login_window_secs),
            },
        })
    }

    pub fn server(
        &self,
        tls: Option<dragoman_gateway::tls::Tls>,
    ) -> dragoman_gateway::ServerConfig {
        dragoman_gateway::ServerConfig {
            header_read_timeout: Duration::from_secs(self.server.header_read_timeout_secs),
            max_connections: connection_cap(self.server.max_connections),
            shutdown_grace: Duration::from_secs(self.server.shutdown_grace_secs),
            drain_delay: Duration::from_secs(self.server.shutdown_delay_secs),
            tls: tls.map(|t| t.config),
        }
    }

    /// The listener's TLS: the configured pair, or a self-signed certificate written to
    /// `<data_dir>/tls/self-signed.pem` so clients can choose to trust it.
    pub fn tls(&self) -> Result<Option<dragoman_gateway::tls::Tls>, String> {
        if !self.tls.enabled {
            tracing::warn!(
                "tls.enabled is false: Qumulo passwords and bearer tokens cross the network in the clear"
            );
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
    use super::backend::BackendKind;
    use super::*;

    fn tree(toml: &str) -> Value {
        Figment::from(Toml::string(toml))
            .extract()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn secrets_come_from_mounted_files_at_any_depth() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = |name: &str, body: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap_or_else(|e| panic!("{e}"));
            p.display().to_string()
        };
        let (sk, pw, tk) = (
            file("sk", "backend-secret\n"),
            file("pw", "caller-password\r\n"),
            file("tk", "shared-token-key"),
        );
        let mut t = tree(&format!(
            r#"
            [backends.lake]
            kind = "s3"
            secret_key_file = "{sk}"
            ca_file = "/not/a/secret.pem"
            [qumulo]
            token_key_file = "{tk}"
            [[credentials]]
            name = "a"
            password_file = "{pw}"
            "#
        ));
        read_secret_files(&mut t, "").unwrap_or_else(|e| panic!("{e}"));
        let get = |path: &str| t.find_ref(path).and_then(|v| v.as_str()).map(str::to_owned);
        assert_eq!(
            get("backends.lake.secret_key").as_deref(),
            Some("backend-secret")
        );
        assert_eq!(
            get("backends.lake.ca_file").as_deref(),
            Some("/not/a/secret.pem")
        );
        assert_eq!(get("qumulo.token_key").as_deref(), Some("shared-token-key"));
        let creds = t
            .find_ref("credentials")
            .and_then(|v| v.as_array().map(<[Value]>::to_vec));
        let first = creds.and_then(|c| c.into_iter().next());
        assert_eq!(
            first
                .and_then(|c| c.find("password"))
                .and_then(|v| v.into_string())
                .as_deref(),
            Some("caller-password")
        );
        assert!(get("backends.lake.secret_key_file").is_none());
    }

    #[test]
    fn a_secret_file_must_exist_and_not_double_a_value() {
        let mut missing = tree("[qumulo]\ntoken_key_file = \"/no/such/file\"");
        let err = read_secret_files(&mut missing, "")
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("qumulo.token_key_file: cannot read /no/such/file"),
            "{err}"
        );
        let mut both = tree("[qumulo]\ntoken_key = \"x\"\ntoken_key_file = \"/etc/hostname\"");
        let err = read_secret_files(&mut both, "").err().unwrap_or_default();
        assert!(
            err.contains("give token_key or token_key_file, not both"),
            "{err}"
        );
    }

    #[test]
    fn shipped_configuration_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/dragoman.toml");
        let c = Config::load(Some(&path)).unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.credentials.is_empty());
        assert!(
            !c.to_masked_toml()
                .contains(c.credentials[0].secret_key.expose())
        );
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
                    !masked.contains(secret.expose()),
                    "{name} shows a secret: {masked}"
                );
            }
        }
    }

    #[test]
    fn backend_problems_are_named() {
        let mut c = Config::default();
        c.backends
            .insert("b".into(), BackendSection::new(BackendKind::Bos, "ftp://x"));
        let mut q = BackendSection::new(BackendKind::Qumulo, "https://q:8000");
        q.region = Some("eu".into());
        c.backends.insert("q".into(), q);
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
            "backends.q.region does not apply to a qumulo backend",
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
            secret_key: dragoman_model::Secret::new("short"),
            buckets: vec![],
            password: Some(dragoman_model::Secret::new("short")),
            access_tokens: vec![dragoman_model::Secret::new("not-a-token")],
        });
        c.qumulo.token_key = dragoman_model::Secret::new("too short");
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

    #[test]
    fn a_name_or_token_names_one_caller() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/dragoman.toml");
        let mut c = Config::load(Some(&path)).unwrap_or_else(|e| panic!("{e}"));
        let mut twin = c.credentials[0].clone();
        twin.access_key = "ANOTHERKEY0000000001".into();
        twin.access_tokens = vec![dragoman_model::Secret::new("access-v1:shared-token-0001")];
        c.credentials[0].access_tokens = twin.access_tokens.clone();
        c.credentials.push(twin);
        let err = c.validate().err().unwrap_or_default();
        assert!(err.contains("is configured twice"), "{err}");
        assert!(err.contains("an access token is configured twice"), "{err}");
    }

    #[test]
    fn check_config_prints_every_default_and_no_secret() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/s3-backend.toml");
        let c = Config::load(Some(&path)).unwrap_or_else(|e| panic!("{e}"));
        let printed = c.to_masked_toml();
        for key in [
            "body_read_timeout_secs = 30",
            "max_retries = 2",
            "breaker_failures = 5",
            "breaker_cooldown_secs = 5",
            "max_concurrency = 256",
            "connect_timeout_secs = 5",
            "format = \"text\"",
            "listen = \"127.0.0.1:9001\"",
            "secret_key = \"****\"",
        ] {
            assert!(printed.contains(key), "{key} missing from:\n{printed}");
        }
        // What is printed loads again, unchanged but for the masked secrets.
        let again: Config = toml::from_str(&printed).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            again.server.backend_timeout_secs,
            c.server.backend_timeout_secs
        );
    }
}
