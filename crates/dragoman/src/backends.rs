//! Builds the backends and the router the configuration describes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dragoman_backend::http::HttpOptions;
use dragoman_backend::{
    Backend, BosClient, BosClientConfig, Breaker, Client, OutboundConfig, QumuloAuth, QumuloClient,
    QumuloClientConfig, Route, Router, S3Client, S3ClientConfig, SnapshotConfig,
};
use dragoman_dialect_bos::client::Endpoint;
use dragoman_metrics::Metrics;

use crate::config::{BackendSection, Config};

fn http_options(b: &BackendSection) -> HttpOptions {
    let d = HttpOptions::default();
    HttpOptions {
        // The outbound stack's timeout bounds each try; the client only bounds connecting.
        timeout: None,
        connect_timeout: b
            .connect_timeout_secs
            .map_or(d.connect_timeout, Duration::from_secs),
        pool_idle_per_host: b.pool_idle_per_host.unwrap_or(d.pool_idle_per_host),
        ca_file: b.ca_file.clone(),
        insecure_skip_verify: b.insecure_skip_verify,
    }
}

fn client(name: &str, b: &BackendSection) -> Result<Arc<dyn Client>, String> {
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
                BosClient::new(BosClientConfig {
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
                S3Client::new(S3ClientConfig {
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
                QumuloClient::new(QumuloClientConfig {
                    name: name.to_owned(),
                    base_url: b.endpoint.trim_end_matches('/').to_owned(),
                    auth,
                    http: http_options(b),
                    page_limit: b.page_limit,
                })
                .map_err(failed)?,
            )
        }
        other => return Err(format!("backends.{name}: kind {other:?} is not available")),
    })
}

fn outbound(config: &Config, b: &BackendSection) -> OutboundConfig {
    let d = OutboundConfig::default();
    OutboundConfig {
        timeout: Duration::from_secs(b.timeout_secs.unwrap_or(config.server.backend_timeout_secs)),
        max_concurrency: b.max_concurrency.unwrap_or(d.max_concurrency),
        max_retries: b.max_retries.unwrap_or(d.max_retries),
        breaker_failures: b.breaker_failures.unwrap_or(d.breaker_failures),
        breaker_cooldown: b
            .breaker_cooldown_secs
            .map_or(d.breaker_cooldown, Duration::from_secs),
        ..d
    }
}

/// The router over every configured backend (each a client behind its outbound stack and a
/// planner), and every backend's breaker for `/readyz`.
pub fn build(
    config: &Config,
    embedded: (Arc<dyn Backend>, Arc<Breaker>),
    metrics: &Metrics,
) -> Result<(Arc<Router>, Vec<Arc<Breaker>>), String> {
    let mut named: HashMap<&str, Arc<dyn Backend>> = HashMap::new();
    let mut breakers = vec![embedded.1];
    named.insert("embedded", embedded.0);
    for (name, b) in &config.backends {
        let snapshot = SnapshotConfig {
            max_uploads: b.max_uploads.unwrap_or(100_000),
            ttl: Duration::from_secs(b.snapshot_ttl_secs.unwrap_or(5)),
        };
        let (backend, breaker) = dragoman_backend::backend(
            name,
            client(name, b)?,
            &outbound(config, b),
            snapshot,
            metrics,
        );
        named.insert(name, backend);
        breakers.push(breaker);
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
    let router = Router::new(routes, lookup(&config.server.default_backend)?);
    Ok((Arc::new(router), breakers))
}
