//! The sweep's report: one line per bucket, as a table for people or JSON for machines.

use std::fmt::Write;

use dragoman_model::{Timestamp, Upload};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// What a sweep found and did in one bucket.
#[derive(Debug, Serialize)]
pub struct BucketReport {
    pub backend: String,
    pub bucket: String,
    /// Uploads initiated before the cutoff.
    pub found: usize,
    pub aborted: usize,
    /// Already gone when the sweep came to abort them.
    pub gone: usize,
    pub failed: usize,
    /// The oldest initiation among them (RFC 3339).
    pub oldest: Option<String>,
    /// Bytes they hold, where the backend says (Qumulo's block counts).
    pub bytes: Option<u64>,
    /// Finished by an earlier run of a resumed sweep.
    pub resumed: bool,
    pub error: Option<String>,
}

impl BucketReport {
    pub fn new(backend: &str, bucket: &str) -> Self {
        Self {
            backend: backend.to_owned(),
            bucket: bucket.to_owned(),
            found: 0,
            aborted: 0,
            gone: 0,
            failed: 0,
            oldest: None,
            bytes: None,
            resumed: false,
            error: None,
        }
    }

    pub fn resumed(backend: &str, bucket: &str) -> Self {
        Self {
            resumed: true,
            ..Self::new(backend, bucket)
        }
    }

    pub fn record_found(&mut self, found: &[Upload]) {
        self.found = found.len();
        self.oldest = found
            .iter()
            .map(|u| u.initiated)
            .min()
            .map(Timestamp::to_millis_z);
        let blocks: Option<u64> = found
            .iter()
            .map(|u| u.state.total_blocks)
            .try_fold(0u64, |sum, b| b.map(|b| sum.saturating_add(b)));
        self.bytes = blocks
            .filter(|_| !found.is_empty())
            .map(|b| b.saturating_mul(4096));
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub cutoff: String,
    pub dry_run: bool,
    pub buckets: Vec<BucketReport>,
}

impl Report {
    pub fn new(cutoff: Timestamp, dry_run: bool) -> Self {
        Self {
            cutoff: cutoff.to_millis_z(),
            dry_run,
            buckets: Vec::new(),
        }
    }

    pub fn push(&mut self, line: BucketReport) {
        self.buckets.push(line);
    }

    /// Whether anything failed: a backend, a bucket or an abort.
    pub fn failed(&self) -> bool {
        self.buckets
            .iter()
            .any(|b| b.error.is_some() || b.failed > 0)
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            Format::Table => self.table(),
        }
    }

    fn table(&self) -> String {
        let mut out = String::new();
        let mode = if self.dry_run {
            "dry run (nothing aborted; --abort to abort)"
        } else {
            "abort"
        };
        let _ = writeln!(out, "uploads initiated before {}: {mode}\n", self.cutoff);
        let head = [
            "BACKEND", "BUCKET", "FOUND", "ABORTED", "GONE", "FAILED", "OLDEST", "BYTES", "NOTE",
        ];
        let rows: Vec<[String; 9]> = self
            .buckets
            .iter()
            .map(|b| {
                [
                    b.backend.clone(),
                    b.bucket.clone(),
                    b.found.to_string(),
                    b.aborted.to_string(),
                    b.gone.to_string(),
                    b.failed.to_string(),
                    b.oldest.clone().unwrap_or_else(|| "-".into()),
                    b.bytes.map_or_else(|| "-".into(), |n| n.to_string()),
                    match (&b.error, b.resumed) {
                        (Some(e), _) => e.clone(),
                        (None, true) => "done in an earlier run".into(),
                        (None, false) => String::new(),
                    },
                ]
            })
            .collect();
        let width = |i: usize| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..9).map(width).collect();
        let line = |cells: &[&str]| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                let _ = write!(l, "{c:<w$}  ", w = widths[i]);
            }
            l.trim_end().to_owned() + "\n"
        };
        out.push_str(&line(&head));
        for r in &rows {
            out.push_str(&line(&r.iter().map(String::as_str).collect::<Vec<_>>()));
        }
        let total = |f: fn(&BucketReport) -> usize| self.buckets.iter().map(f).sum::<usize>();
        let _ = writeln!(
            out,
            "\n{} buckets: {} found, {} aborted, {} gone, {} failed",
            self.buckets.len(),
            total(|b| b.found),
            total(|b| b.aborted),
            total(|b| b.gone),
            total(|b| b.failed)
        );
        out
    }
}
