//! Builds the backends and the router the configuration describes.

use std::collections::HashMap;
use std::sync::Arc;

use dragoman_backend::{Backend, Breaker, Route, Router};
use dragoman_metrics::Metrics;

use crate::config::Config;

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
        let client = b
            .remote(name)?
            .client()
            .map_err(|e| format!("backends.{name}: {e}"))?;
        let (backend, breaker) = dragoman_backend::backend(
            name,
            client,
            &b.outbound(config.server.backend_timeout_secs),
            b.snapshot(),
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
