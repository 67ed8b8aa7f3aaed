//! `--state FILE`: what a sweep has finished, so that an interrupted one resumes without
//! repeating work. Written after every bucket and every hundred aborts, atomically (a
//! temporary file renamed over the old one).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    /// The cutoff the state belongs to (a resumed sweep must use the same).
    cutoff: String,
    finished: BTreeSet<String>,
    aborted: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Default)]
pub struct State {
    path: Option<PathBuf>,
    saved: Saved,
    unsaved: usize,
}

impl State {
    /// No file: nothing is remembered.
    pub fn none() -> Self {
        Self::default()
    }

    /// The state in `path` for a sweep with this cutoff (RFC 3339), or a fresh one if the
    /// file does not exist. A file for another cutoff is refused rather than mixed in.
    pub fn load(path: PathBuf, cutoff: &str) -> Result<Self, String> {
        let saved = match std::fs::read(&path) {
            Ok(bytes) => {
                let saved: Saved = serde_json::from_slice(&bytes)
                    .map_err(|e| format!("{}: not a sweep state file: {e}", path.display()))?;
                if saved.cutoff != cutoff {
                    return Err(format!(
                        "{} belongs to a sweep with cutoff {}, not {cutoff}: resume with --before {} or use another file",
                        path.display(),
                        saved.cutoff,
                        saved.cutoff
                    ));
                }
                saved
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Saved {
                cutoff: cutoff.to_owned(),
                ..Saved::default()
            },
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Ok(Self {
            path: Some(path),
            saved,
            unsaved: 0,
        })
    }

    pub fn finished(&self, bucket: &str) -> bool {
        self.saved.finished.contains(bucket)
    }

    pub fn finish(&mut self, bucket: &str) {
        self.saved.finished.insert(bucket.to_owned());
        self.saved.aborted.remove(bucket);
        self.unsaved += 1;
    }

    pub fn aborted(&self, bucket: &str, upload_id: &str) -> bool {
        self.saved
            .aborted
            .get(bucket)
            .is_some_and(|ids| ids.contains(upload_id))
    }

    pub fn record_abort(&mut self, bucket: &str, upload_id: &str) {
        self.saved
            .aborted
            .entry(bucket.to_owned())
            .or_default()
            .insert(upload_id.to_owned());
        self.unsaved += 1;
        if self.unsaved >= 100 {
            self.save();
        }
    }

    /// Writes the state if there is a file and something changed. A failure to write is
    /// logged: the sweep goes on, and a resume would only repeat work.
    pub fn save(&mut self) {
        let Some(path) = &self.path else { return };
        if self.unsaved == 0 {
            return;
        }
        let tmp = path.with_extension("tmp");
        let written = serde_json::to_vec_pretty(&self.saved)
            .map_err(|e| e.to_string())
            .and_then(|bytes| std::fs::write(&tmp, bytes).map_err(|e| e.to_string()))
            .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| e.to_string()));
        match written {
            Ok(()) => self.unsaved = 0,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot write the sweep state")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_state_resumes_and_refuses_another_cutoff() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("sweep.json");
        let mut s =
            State::load(path.clone(), "2026-01-01T00:00:00Z").unwrap_or_else(|e| panic!("{e}"));
        s.record_abort("a", "u1");
        s.finish("b");
        s.save();
        let again =
            State::load(path.clone(), "2026-01-01T00:00:00Z").unwrap_or_else(|e| panic!("{e}"));
        assert!(again.aborted("a", "u1") && !again.aborted("a", "u2"));
        assert!(again.finished("b") && !again.finished("a"));
        let other = State::load(path, "2026-02-01T00:00:00Z");
        assert!(
            other
                .err()
                .unwrap_or_default()
                .contains("belongs to a sweep with cutoff")
        );
    }
}
