//! `dragoman sweep`: find the multipart uploads abandoned across every backend and, when asked,
//! abort them.
//!
//! Safe by construction:
//! - the cutoff is never later than the moment the sweep started, so an upload created while
//!   it runs is never a candidate;
//! - a bucket is listed to its end before any of its uploads is aborted, so the sweep's own
//!   aborts cannot move a listing's pages (nothing skipped, nothing visited twice);
//! - an upload already gone counts as gone, not as a failure;
//! - a bucket or a backend that fails is reported and the others go on; a backend whose
//!   breaker opens is left alone for the rest of the sweep;
//! - with `--state`, finished buckets and aborted uploads are written down as they happen,
//!   so an interrupted sweep resumes without repeating work.

pub mod cli;
pub mod http;
mod report;
mod state;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use dragoman_backend::{Backend, Router};
use dragoman_model::{Cursor, Error, ListUploads, Operation, Outcome, Timestamp, Upload};
use futures_util::StreamExt;

pub use report::{BucketReport, Format, Report};
pub use state::State;

/// What to sweep and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// Uploads initiated before this are abandoned (never later than the sweep's start).
    pub cutoff: Timestamp,
    /// Only buckets whose caller name matches this glob.
    pub buckets: Option<String>,
    /// Only buckets on this backend.
    pub backend: Option<String>,
    pub prefix: String,
    /// Abort what is found (otherwise a dry run).
    pub abort: bool,
    /// Aborts (and part listings) in flight at once.
    pub concurrency: usize,
    /// Ask S3 and BOS backends what each upload's parts hold (ListParts per upload).
    pub sizes: bool,
}

/// Parses `--older-than` (`90s`, `30m`, `12h`, `7d`, `2w`).
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} needs a unit: s, m, h, d or w"))?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{text:?} is not a number followed by s, m, h, d or w"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: s, m, h, d or w"
            ));
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

/// The cutoff from `--older-than` or `--before`, never later than `started`.
pub fn cutoff(
    started: Timestamp,
    older_than: Option<&str>,
    before: Option<&str>,
) -> Result<Timestamp, String> {
    let at = match (older_than, before) {
        (Some(age), None) => {
            let age = i64::try_from(parse_age(age)?.as_nanos()).unwrap_or(i64::MAX);
            Timestamp::from_nanos(started.as_nanos().saturating_sub(age))
        }
        (None, Some(when)) => Timestamp::parse_rfc3339(when)
            .ok_or_else(|| format!("--before {when:?} is not an RFC 3339 time"))?,
        (Some(_), Some(_)) => return Err("give --older-than or --before, not both".into()),
        (None, None) => {
            return Err(
                "say which uploads are abandoned: --older-than 7d or --before <time>".into(),
            );
        }
    };
    Ok(at.min(started))
}

/// Sweeps every selected bucket. `progress` hears of each bucket as it starts.
pub async fn run(
    router: &Arc<Router>,
    opts: &Options,
    state: &mut State,
    progress: &(dyn Fn(&str) + Sync),
) -> Report {
    let mut report = Report::new(opts.cutoff, !opts.abort);
    let mut buckets: Vec<String> = Vec::new();
    for (backend, found) in router.buckets_by_backend().await {
        if opts.backend.as_deref().is_some_and(|b| b != backend) {
            continue;
        }
        match found {
            Ok(found) => buckets.extend(found.into_iter().map(|b| b.name)),
            Err(e) => {
                let mut line = BucketReport::new(&backend, "*");
                line.error = Some(format!("listing its buckets failed: {e}"));
                report.push(line);
            }
        }
    }
    buckets.sort();
    buckets.dedup();
    let mut broken: HashSet<String> = HashSet::new();
    for name in buckets {
        let backend = router.backend_of(Some(&name)).to_owned();
        if opts
            .buckets
            .as_deref()
            .is_some_and(|g| !dragoman_model::bucket_matches(g, &name))
            || opts.backend.as_deref().is_some_and(|b| b != backend)
        {
            continue;
        }
        if state.finished(&name) {
            report.push(BucketReport::resumed(&backend, &name));
            continue;
        }
        progress(&name);
        let mut line = BucketReport::new(&backend, &name);
        if broken.contains(&backend) {
            line.error = Some(format!(
                "skipped: {backend} stopped answering earlier in this sweep"
            ));
            report.push(line);
            continue;
        }
        match abandoned(router.as_ref(), &name, opts).await {
            Err(e) => {
                if is_backend_down(&e) {
                    broken.insert(backend.clone());
                }
                line.error = Some(format!("listing failed: {e}"));
            }
            Ok(found) => {
                line.record_found(&found);
                if opts.sizes {
                    line.bytes = sizes(router, &name, &found, opts.concurrency).await;
                }
                if opts.abort {
                    let down =
                        abort_all(router, &name, found, opts.concurrency, state, &mut line).await;
                    if down {
                        broken.insert(backend.clone());
                    }
                }
            }
        }
        if line.error.is_none() && line.failed == 0 {
            state.finish(&name);
        }
        state.save();
        report.push(line);
    }
    report
}

/// Every upload of the bucket (under the prefix) initiated before the cutoff, read to the end
/// of the listing before anything is aborted.
async fn abandoned(
    router: &dyn Backend,
    bucket: &str,
    opts: &Options,
) -> Result<Vec<Upload>, Error> {
    let mut found = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let q = ListUploads {
            bucket: bucket.to_owned(),
            prefix: opts.prefix.clone(),
            delimiter: None,
            after: after.take(),
            max: dragoman_model::MAX_PAGE,
            encode_keys: false,
            whole_keys: false,
        };
        let Outcome::Page(page) = router.execute(Operation::ListUploads(q)).await? else {
            return Err(Error::internal("a listing answered with something else"));
        };
        found.extend(
            page.uploads()
                .filter(|u| u.initiated < opts.cutoff)
                .cloned(),
        );
        match (page.truncated, page.next) {
            (true, Some(next)) => after = Some(next),
            _ => return Ok(found),
        }
    }
}

/// The bytes the uploads hold: Qumulo's block counts where the listing has them, ListParts
/// for the rest; `None` if the backend cannot say for some upload.
async fn sizes(
    router: &Arc<Router>,
    bucket: &str,
    found: &[Upload],
    concurrency: usize,
) -> Option<u64> {
    if found.is_empty() {
        return None;
    }
    let mut lookups = Vec::with_capacity(found.len());
    for u in found {
        let (router, bucket) = (Arc::clone(router), bucket.to_owned());
        let (key, upload_id, blocks) = (u.key.clone(), u.upload_id.clone(), u.state.total_blocks);
        lookups.push(async move {
            if let Some(blocks) = blocks {
                return Some(blocks.saturating_mul(4096));
            }
            match router.upload_size(&bucket, &key, &upload_id).await {
                Ok(size) => size,
                // Gone since it was listed: it holds nothing any more.
                Err(Error::NoSuchUpload { .. }) => Some(0),
                Err(e) => {
                    tracing::warn!(%bucket, %upload_id, error = %e, "cannot list the parts of an upload");
                    None
                }
            }
        });
    }
    let each = futures_util::stream::iter(lookups).buffer_unordered(concurrency.max(1));
    let all: Vec<Option<u64>> = each.collect().await;
    all.into_iter()
        .try_fold(0u64, |sum, size| size.map(|s| sum.saturating_add(s)))
}

fn is_backend_down(e: &Error) -> bool {
    matches!(e, Error::BackendUnavailable { .. } | Error::BackendTimeout)
}

/// Aborts `found` with at most `concurrency` in flight; throttling is retried with backoff.
/// Returns whether the backend went down (its breaker opened).
async fn abort_all(
    router: &Arc<Router>,
    bucket: &str,
    found: Vec<Upload>,
    concurrency: usize,
    state: &mut State,
    line: &mut BucketReport,
) -> bool {
    let todo: Vec<Upload> = found
        .into_iter()
        .filter(|u| {
            let done = state.aborted(bucket, &u.upload_id);
            if done {
                line.aborted += 1;
            }
            !done
        })
        .collect();
    let mut results = futures_util::stream::iter(todo.into_iter().map(|u| {
        let router = Arc::clone(router);
        let bucket = bucket.to_owned();
        async move {
            let outcome = abort_one(&router, &bucket, &u).await;
            (u.upload_id, outcome)
        }
    }))
    .buffer_unordered(concurrency.max(1));
    let mut down = false;
    while let Some((upload_id, outcome)) = results.next().await {
        match outcome {
            Ok(()) => {
                line.aborted += 1;
                state.record_abort(bucket, &upload_id);
            }
            Err(Error::NoSuchUpload { .. }) => {
                line.gone += 1;
                state.record_abort(bucket, &upload_id);
            }
            Err(e) => {
                down |= is_backend_down(&e);
                line.failed += 1;
                if line.error.is_none() {
                    line.error = Some(format!("abort of {upload_id} failed: {e}"));
                }
            }
        }
    }
    down
}

async fn abort_one(router: &Router, bucket: &str, u: &Upload) -> Result<(), Error> {
    let mut wait = Duration::from_millis(200);
    for attempt in 0..5 {
        let op = Operation::AbortUpload {
            bucket: bucket.to_owned(),
            key: Some(u.key.clone()),
            upload_id: u.upload_id.clone(),
        };
        match router.execute(op).await {
            Ok(_) => return Ok(()),
            Err(Error::Throttled { .. }) if attempt < 4 => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::Throttled {
        message: "the backend kept throttling".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_cutoffs() {
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("90s"), Ok(Duration::from_secs(90)));
        assert!(parse_age("7").is_err() && parse_age("d").is_err() && parse_age("3y").is_err());
        let start = Timestamp::parse_rfc3339("2026-12-01T00:00:00Z").unwrap_or_default();
        assert_eq!(
            cutoff(start, Some("1d"), None).ok(),
            Timestamp::parse_rfc3339("2026-11-30T00:00:00Z")
        );
        // A cutoff in the future is the sweep's start: nothing newer than the sweep is touched.
        assert_eq!(
            cutoff(start, None, Some("2030-01-01T00:00:00Z")).ok(),
            Some(start)
        );
        assert!(cutoff(start, None, None).is_err());
        assert!(cutoff(start, Some("1d"), Some("2026-01-01T00:00:00Z")).is_err());
        assert!(cutoff(start, None, Some("yesterday")).is_err());
    }
}
