//! Builds the backends and the router the configuration describes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dragoman_backend::http::HttpOptions;
use dragoman_backend::{
    Backend, BosBackend, BosBackendConfig, Planner, QumuloAuth, QumuloBackend, QumuloBackendConfig,
    Route, Router, S3BackendConfig, s3_backend,
};
use dragoman_dialect_bos::client::Endpoint;

use crate::config::{BackendSection, Config};

fn http_options(b: &BackendSection) -> HttpOptions {
    let d = HttpOptions::default();
    HttpOptions {
        timeout: b.timeout_secs.map_or(d.timeout, Duration::from_secs),
        connect_timeout: b
            .connect_timeout_secs
            .map_or(d.connect_timeout, Duration::from_secs),
        pool_idle_per_host: b.pool_idle_per_host.unwrap_or(d.pool_idle_per_host),
        ca_file: b.ca_file.clone(),
        insecure_skip_verify: b.insecure_skip_verify,
    }
}

fn remote(name: &str, b: &BackendSection) -> Result<Arc<dyn Backend>, String> {
    let failed = |e: dragoman_model::Error| format!("backends.{name}: {e}");
    Ok(match b.kind.as_str() {
        "bos" => {
            let uri: http::Uri = b
                .endpoint
                .parse()
                .map_err(|e| format!("backends.{name}.endpoint: {e}"))?;
            let endpoint = Endpoint {
                scheme: uri.scheme_str().unwrap_or("https").to_owned(),
                authority: uri
                    .authority()
                    .map(|a| a.to_string())
                    .ok_or_else(|| format!("backends.{name}.endpoint has no host"))?,
                virtual_hosted: b.addressing.as_deref() == Some("virtual"),
            };
            Arc::new(
                BosBackend::new(BosBackendConfig {
                    name: name.to_owned(),
                    endpoint,
                    access_key: b.access_key.clone().unwrap_or_default(),
                    secret_key: b.secret_key.clone().unwrap_or_default(),
                    honours_upload_id_marker: b.honours_upload_id_marker,
                    http: http_options(b),
                })
                .map_err(failed)?,
            )
        }
        "s3" => {
            let uri: http::Uri = b
                .endpoint
                .parse()
                .map_err(|e| format!("backends.{name}.endpoint: {e}"))?;
            let endpoint = dragoman_dialect_s3::client::Endpoint {
                scheme: uri.scheme_str().unwrap_or("https").to_owned(),
                authority: uri
                    .authority()
                    .map(|a| a.to_string())
                    .ok_or_else(|| format!("backends.{name}.endpoint has no host"))?,
                virtual_hosted: b.addressing.as_deref() == Some("virtual"),
                region: b.region.clone().unwrap_or_else(|| "us-east-1".into()),
            };
            Arc::new(
                s3_backend(S3BackendConfig {
                    name: name.to_owned(),
                    endpoint,
                    access_key: b.access_key.clone().unwrap_or_default(),
                    secret_key: b.secret_key.clone().unwrap_or_default(),
                    http: http_options(b),
                })
                .map_err(failed)?,
            )
        }
        "qumulo" => {
            let auth = match (&b.token, &b.username, &b.password) {
                (Some(t), _, _) => QumuloAuth::Token(t.clone()),
                (None, Some(u), Some(p)) => QumuloAuth::Login {
                    username: u.clone(),
                    password: p.clone(),
                },
                _ => {
                    return Err(format!(
                        "backends.{name}: a qumulo backend needs username and password, or token"
                    ));
                }
            };
            Arc::new(
                QumuloBackend::new(QumuloBackendConfig {
                    name: name.to_owned(),
                    base_url: b.endpoint.trim_end_matches('/').to_owned(),
                    auth,
                    http: http_options(b),
                    page_limit: b.page_limit,
                    max_uploads: b.max_uploads.unwrap_or(100_000),
                    snapshot_ttl: Duration::from_secs(b.snapshot_ttl_secs.unwrap_or(5)),
                })
                .map_err(failed)?,
            )
        }
        other => return Err(format!("backends.{name}: kind {other:?} is not available")),
    })
}

/// The backend the gateway talks to: a router over every configured backend, each behind a
/// planner that emulates what it lacks.
pub fn build(config: &Config, embedded: Arc<dyn Backend>) -> Result<Arc<dyn Backend>, String> {
    let mut named: HashMap<&str, Arc<dyn Backend>> = HashMap::new();
    named.insert("embedded", Arc::new(Planner::new(embedded)));
    for (name, b) in &config.backends {
        named.insert(name, Arc::new(Planner::new(remote(name, b)?)));
    }
    let lookup = |name: &str| {
        named
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no backend named {name:?}"))
    };
    let routes = config
        .routes
        .iter()
        .map(|r| {
            Ok(Route {
                buckets: r.buckets.clone(),
                backend: lookup(&r.backend)?,
                rename: r.rename.clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    for r in &routes {
        tracing::info!(buckets = %r.buckets, backend = r.backend.name(), rename = ?r.rename, "route");
    }
    Ok(Arc::new(Router::new(
        routes,
        lookup(&config.server.default_backend)?,
    )))
}
