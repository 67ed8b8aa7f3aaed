//! `[backends.<name>]`: one remote backend. The file format is flat (every key beside
//! `kind`); [`BackendSection::remote`] checks the keys against the kind and turns the
//! section into the typed client configuration of that kind.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dragoman_backend::http::HttpOptions;
use dragoman_backend::{
    BosClient, BosClientConfig, Client, OutboundConfig, QumuloAuth, QumuloClient,
    QumuloClientConfig, S3Client, S3ClientConfig, SnapshotConfig,
};
use dragoman_model::Secret;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    S3,
    Bos,
    Qumulo,
}

impl BackendKind {
    fn name(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::Bos => "bos",
            Self::Qumulo => "qumulo",
        }
    }
}

/// How an S3 or BOS backend names the bucket: `/<bucket>` or `<bucket>.<endpoint host>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Addressing {
    #[default]
    Path,
    Virtual,
}

/// One remote backend as configured. `None` means the documented default, filled in by
/// [`BackendSection::with_defaults`] so that `check-config` prints what is in force.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSection {
    pub kind: BackendKind,
    /// `http(s)://host[:port]`: an S3 or BOS endpoint, or a Qumulo cluster's REST API.
    pub endpoint: String,
    /// S3 and BOS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addressing: Option<Addressing>,
    /// S3: the region requests are signed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// S3 and BOS credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<Secret>,
    /// BOS: the service honours `uploadIdMarker` (undocumented for live BOS; off by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honours_upload_id_marker: Option<bool>,
    /// Qumulo: log in with these, or use `token` (`access-v1:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// Qumulo: `limit` per page (unset: the cluster's choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_limit: Option<u16>,
    /// Qumulo: the most uploads a listing may read from one bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uploads: Option<usize>,
    /// Qumulo: how long a bucket's sorted snapshot serves the pages after a listing's first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_ttl_secs: Option<u64>,
    /// Qumulo: the most uploads all cached snapshots of this backend hold together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_cache_uploads: Option<usize>,
    /// How long one try may take (default: `server.backend_timeout_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_idle_per_host: Option<usize>,
    /// A PEM file of CA certificates to trust besides the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate (self-signed test clusters only; logged as a warning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
    /// The largest answer body read from this backend (a larger one is a 502).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_response_bytes: Option<usize>,
    /// Calls in flight to this backend at once; more wait for a slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<usize>,
    /// Retries of a failed idempotent read, within a budget of 20 % of calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Consecutive failed calls that open the circuit breaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker_failures: Option<u32>,
    /// How long an open breaker refuses calls before one probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker_cooldown_secs: Option<u64>,
}

/// A backend of one kind, with exactly that kind's settings.
#[derive(Clone, Debug)]
pub enum Remote {
    S3(S3ClientConfig),
    Bos(BosClientConfig),
    Qumulo(QumuloClientConfig),
}

impl Remote {
    pub fn client(self) -> Result<Arc<dyn Client>, dragoman_model::Error> {
        Ok(match self {
            Self::S3(c) => Arc::new(S3Client::new(c)?),
            Self::Bos(c) => Arc::new(BosClient::new(c)?),
            Self::Qumulo(c) => Arc::new(QumuloClient::new(c)?),
        })
    }
}

/// The keys only some kinds use, for telling an operator that a key does nothing.
const KIND_KEYS: &[(&str, &[BackendKind])] = &[
    ("addressing", &[BackendKind::S3, BackendKind::Bos]),
    ("region", &[BackendKind::S3]),
    ("access_key", &[BackendKind::S3, BackendKind::Bos]),
    ("secret_key", &[BackendKind::S3, BackendKind::Bos]),
    ("honours_upload_id_marker", &[BackendKind::Bos]),
    ("username", &[BackendKind::Qumulo]),
    ("password", &[BackendKind::Qumulo]),
    ("token", &[BackendKind::Qumulo]),
    ("page_limit", &[BackendKind::Qumulo]),
    ("max_uploads", &[BackendKind::Qumulo]),
    ("snapshot_ttl_secs", &[BackendKind::Qumulo]),
    ("snapshot_cache_uploads", &[BackendKind::Qumulo]),
];

impl BackendSection {
    #[cfg(test)]
    pub fn new(kind: BackendKind, endpoint: &str) -> Self {
        Self {
            kind,
            endpoint: endpoint.to_owned(),
            addressing: None,
            region: None,
            access_key: None,
            secret_key: None,
            honours_upload_id_marker: None,
            username: None,
            password: None,
            token: None,
            page_limit: None,
            max_uploads: None,
            snapshot_ttl_secs: None,
            snapshot_cache_uploads: None,
            timeout_secs: None,
            connect_timeout_secs: None,
            pool_idle_per_host: None,
            ca_file: None,
            insecure_skip_verify: None,
            max_response_bytes: None,
            max_concurrency: None,
            max_retries: None,
            breaker_failures: None,
            breaker_cooldown_secs: None,
        }
    }

    fn set(&self, key: &str) -> bool {
        match key {
            "addressing" => self.addressing.is_some(),
            "region" => self.region.is_some(),
            "access_key" => self.access_key.is_some(),
            "secret_key" => self.secret_key.is_some(),
            "honours_upload_id_marker" => self.honours_upload_id_marker.is_some(),
            "username" => self.username.is_some(),
            "password" => self.password.is_some(),
            "token" => self.token.is_some(),
            "page_limit" => self.page_limit.is_some(),
            "max_uploads" => self.max_uploads.is_some(),
            "snapshot_ttl_secs" => self.snapshot_ttl_secs.is_some(),
            "snapshot_cache_uploads" => self.snapshot_cache_uploads.is_some(),
            _ => false,
        }
    }

    /// Every default in force written out, for `check-config` and for building.
    pub fn with_defaults(mut self, backend_timeout_secs: u64) -> Self {
        let http = HttpOptions::default();
        let out = OutboundConfig::default();
        let snap = SnapshotConfig::default();
        let kind = self.kind;
        let only = |k: &[BackendKind]| k.contains(&kind);
        if only(&[BackendKind::S3, BackendKind::Bos]) {
            self.addressing.get_or_insert(Addressing::Path);
        }
        if kind == BackendKind::S3 {
            self.region.get_or_insert_with(|| "us-east-1".into());
        }
        if kind == BackendKind::Bos {
            self.honours_upload_id_marker.get_or_insert(false);
        }
        if kind == BackendKind::Qumulo {
            self.max_uploads.get_or_insert(snap.max_uploads);
            self.snapshot_ttl_secs.get_or_insert(snap.ttl.as_secs());
            self.snapshot_cache_uploads
                .get_or_insert(snap.max_cached_uploads);
        }
        self.timeout_secs.get_or_insert(backend_timeout_secs);
        self.connect_timeout_secs
            .get_or_insert(http.connect_timeout.as_secs());
        self.pool_idle_per_host
            .get_or_insert(http.pool_idle_per_host);
        self.insecure_skip_verify.get_or_insert(false);
        self.max_response_bytes
            .get_or_insert(http.max_response_bytes);
        self.max_concurrency.get_or_insert(out.max_concurrency);
        self.max_retries.get_or_insert(out.max_retries);
        self.breaker_failures.get_or_insert(out.breaker_failures);
        self.breaker_cooldown_secs
            .get_or_insert(out.breaker_cooldown.as_secs());
        self
    }

    /// What is wrong with the section, each problem named by its key.
    pub fn problems(&self, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let kind = self.kind.name();
        for (key, kinds) in KIND_KEYS {
            if self.set(key) && !kinds.contains(&self.kind) {
                problems.push(format!("{at}.{key} does not apply to a {kind} backend"));
            }
        }
        let mut needs = |what: &str, missing: bool| {
            if missing {
                problems.push(format!("{at}: a {kind} backend needs {what}"));
            }
        };
        match self.kind {
            BackendKind::S3 | BackendKind::Bos => {
                needs(
                    "access_key",
                    self.access_key.as_deref().is_none_or(str::is_empty),
                );
                needs(
                    "secret_key",
                    self.secret_key.as_ref().is_none_or(Secret::is_empty),
                );
            }
            BackendKind::Qumulo => needs(
                "username and password, or token",
                self.token.is_none() && (self.username.is_none() || self.password.is_none()),
            ),
        }
        if let Err(e) = self.endpoint() {
            problems.push(format!("{at}: {e}"));
        }
        if self.max_concurrency == Some(0) || self.breaker_failures == Some(0) {
            problems.push(format!(
                "{at}: max_concurrency and breaker_failures must be at least 1"
            ));
        }
        if self.timeout_secs == Some(0) {
            problems.push(format!("{at}.timeout_secs must be at least 1"));
        }
        problems
    }

    /// `(scheme, authority)` of the endpoint, which must be `http(s)://host[:port]` and
    /// nothing more.
    fn endpoint(&self) -> Result<(String, String), String> {
        let uri: http::Uri = self
            .endpoint
            .parse()
            .map_err(|e| format!("endpoint {:?}: {e}", self.endpoint))?;
        let scheme = uri.scheme_str().unwrap_or_default();
        if scheme != "http" && scheme != "https" {
            return Err(format!(
                "endpoint {:?} must start with http:// or https://",
                self.endpoint
            ));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("endpoint {:?} has no host", self.endpoint))?;
        Ok((scheme.to_owned(), authority.to_string()))
    }

    fn http(&self) -> HttpOptions {
        let d = HttpOptions::default();
        // The outbound stack's timeout bounds each try; the client only bounds connecting.
        HttpOptions {
            connect_timeout: self
                .connect_timeout_secs
                .map_or(d.connect_timeout, Duration::from_secs),
            pool_idle_per_host: self.pool_idle_per_host.unwrap_or(d.pool_idle_per_host),
            ca_file: self.ca_file.clone(),
            insecure_skip_verify: self.insecure_skip_verify.unwrap_or(false),
            max_response_bytes: self.max_response_bytes.unwrap_or(d.max_response_bytes),
        }
    }

    pub fn outbound(&self, backend_timeout_secs: u64) -> OutboundConfig {
        let d = OutboundConfig::default();
        OutboundConfig {
            timeout: Duration::from_secs(self.timeout_secs.unwrap_or(backend_timeout_secs)),
            max_concurrency: self.max_concurrency.unwrap_or(d.max_concurrency),
            max_retries: self.max_retries.unwrap_or(d.max_retries),
            breaker_failures: self.breaker_failures.unwrap_or(d.breaker_failures),
            breaker_cooldown: self
                .breaker_cooldown_secs
                .map_or(d.breaker_cooldown, Duration::from_secs),
            ..d
        }
    }

    pub fn snapshot(&self) -> SnapshotConfig {
        let d = SnapshotConfig::default();
        SnapshotConfig {
            max_uploads: self.max_uploads.unwrap_or(d.max_uploads),
            ttl: self.snapshot_ttl_secs.map_or(d.ttl, Duration::from_secs),
            max_cached_uploads: self.snapshot_cache_uploads.unwrap_or(d.max_cached_uploads),
        }
    }

    /// The typed configuration of this backend's kind.
    pub fn remote(&self, name: &str) -> Result<Remote, String> {
        let problems = self.problems(&format!("backends.{name}"));
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        let (scheme, authority) = self.endpoint()?;
        let virtual_hosted = self.addressing == Some(Addressing::Virtual);
        let access_key = self.access_key.clone().unwrap_or_default();
        let secret_key = self.secret_key.clone().unwrap_or_default();
        Ok(match self.kind {
            BackendKind::S3 => Remote::S3(S3ClientConfig {
                name: name.to_owned(),
                endpoint: dragoman_dialect_s3::client::Endpoint {
                    scheme,
                    authority,
                    virtual_hosted,
                    region: self.region.clone().unwrap_or_else(|| "us-east-1".into()),
                },
                access_key,
                secret_key,
                http: self.http(),
            }),
            BackendKind::Bos => Remote::Bos(BosClientConfig {
                name: name.to_owned(),
                endpoint: dragoman_dialect_bos::client::Endpoint {
                    scheme,
                    authority,
                    virtual_hosted,
                },
                access_key,
                secret_key,
                honours_upload_id_marker: self.honours_upload_id_marker.unwrap_or(false),
                http: self.http(),
            }),
            BackendKind::Qumulo => {
                let auth = match (&self.token, &self.username, &self.password) {
                    (Some(t), _, _) => QumuloAuth::Token(t.expose().to_owned()),
                    (None, Some(u), Some(p)) => QumuloAuth::Login {
                        username: u.clone(),
                        password: p.expose().to_owned(),
                    },
                    _ => return Err(format!("backends.{name}: no credentials")),
                };
                Remote::Qumulo(QumuloClientConfig {
                    name: name.to_owned(),
                    base_url: format!("{scheme}://{authority}"),
                    auth,
                    http: self.http(),
                    page_limit: self.page_limit,
                })
            }
        })
    }
}
