//! `POST /admin/sweep` on the admin listener: the same sweep as the command line, over the
//! running gateway's backends, its report as JSON, and metrics. One sweep at a time; a dry
//! run unless `abort=true`.

use std::collections::HashMap;
use std::sync::Arc;

use dragoman_backend::Router;
use dragoman_gateway::SweepHook;
use dragoman_metrics::Metrics;
use dragoman_model::Timestamp;
use http::StatusCode;

use super::{Options, State};

fn refused(status: StatusCode, message: &str) -> (StatusCode, String) {
    (
        status,
        format!("{}\n", serde_json::json!({ "error": message })),
    )
}

/// The options a query asks for: `older_than` or `before`, and optionally `abort`,
/// `buckets`, `backend`, `prefix`, `concurrency`.
fn options(query: &str, started: Timestamp) -> Result<Options, String> {
    let q: HashMap<String, String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                String::from_utf8_lossy(&dragoman_wire::decode_bytes(&s.replace('+', " ")))
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect();
    let cutoff = super::cutoff(
        started,
        q.get("older_than").map(String::as_str),
        q.get("before").map(String::as_str),
    )?;
    let abort = match q.get("abort").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(format!("abort must be true or false, not {other:?}")),
    };
    let concurrency = match q.get("concurrency") {
        None => 8,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=256).contains(n))
            .ok_or("concurrency must be a number from 1 to 256")?,
    };
    Ok(Options {
        cutoff,
        buckets: q.get("buckets").cloned(),
        backend: q.get("backend").cloned(),
        prefix: q.get("prefix").cloned().unwrap_or_default(),
        abort,
        concurrency,
        sizes: q.get("sizes").is_some_and(|v| v == "true"),
    })
}

/// The hook over the gateway's router, held weakly: a sweep needs it alive, shutdown needs
/// to find the store behind it unshared.
pub fn hook(router: std::sync::Weak<Router>, metrics: Metrics) -> SweepHook {
    let running = Arc::new(tokio::sync::Mutex::new(()));
    Arc::new(move |query: String| {
        let (router, metrics, running) = (router.upgrade(), metrics.clone(), Arc::clone(&running));
        Box::pin(async move {
            let Some(router) = router else {
                return refused(StatusCode::SERVICE_UNAVAILABLE, "dragoman is shutting down");
            };
            let Ok(_one) = running.try_lock() else {
                return refused(StatusCode::CONFLICT, "a sweep is already running");
            };
            let started = dragoman_backend::http::now();
            let opts = match options(&query, started) {
                Ok(o) => o,
                Err(e) => return refused(StatusCode::BAD_REQUEST, &e),
            };
            let report = super::run(&router, &opts, &mut State::none(), &|_| {}).await;
            let mut oldest: HashMap<&str, i64> = HashMap::new();
            for b in &report.buckets {
                metrics.sweep(&b.backend, b.found as u64, b.aborted as u64);
                let age = b
                    .oldest
                    .as_deref()
                    .and_then(Timestamp::parse_rfc3339)
                    .map_or(0, |t| (started.as_secs() - t.as_secs()).max(0));
                let entry = oldest.entry(&b.backend).or_insert(0);
                *entry = (*entry).max(age);
            }
            for (backend, age) in oldest {
                metrics.sweep_oldest(backend, age);
            }
            let status = if report.failed() {
                StatusCode::MULTI_STATUS
            } else {
                StatusCode::OK
            };
            (status, report.render(super::Format::Json))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_options() {
        let start = Timestamp::parse_rfc3339("2026-12-01T00:00:00Z").unwrap_or_default();
        let o = options(
            "older_than=7d&abort=true&buckets=logs-*&prefix=a%20b&concurrency=4",
            start,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.abort && o.concurrency == 4);
        assert_eq!(
            (o.buckets.as_deref(), o.prefix.as_str()),
            (Some("logs-*"), "a b")
        );
        assert!(options("", start).is_err());
        assert!(options("older_than=1d&abort=yes", start).is_err());
        assert!(options("older_than=1d&concurrency=0", start).is_err());
        assert!(
            !options("older_than=1d", start)
                .map(|o| o.abort)
                .unwrap_or(true)
        );
    }
}
