//! The planner: turns a canonical query into what a backend can answer natively, and emulates
//! the rest in the gateway.

use std::sync::Arc;

use async_trait::async_trait;
use dragoman_model::{Error, Operation, Outcome, end_at_key_boundary};

use crate::Backend;

/// Wraps a backend and serves every query feature it lacks. So far: pages that end at key
/// boundaries (`whole_keys`), by asking for one entry of lookahead.
pub struct Planner {
    inner: Arc<dyn Backend>,
}

impl Planner {
    pub fn new(inner: Arc<dyn Backend>) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl Backend for Planner {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn execute(&self, op: Operation) -> Result<Outcome, Error> {
        match op {
            Operation::ListUploads(q) if q.whole_keys && q.max > 0 => {
                let max = q.max;
                let ahead = dragoman_model::ListUploads {
                    max: max + 1,
                    whole_keys: false,
                    ..q
                };
                match self.inner.execute(Operation::ListUploads(ahead)).await? {
                    Outcome::Page(page) => Ok(Outcome::Page(end_at_key_boundary(page, max))),
                    other => Err(Error::internal(format!("a listing answered {other:?}"))),
                }
            }
            op => self.inner.execute(op).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EmbeddedBackend;
    use dragoman_model::{Cursor, ListUploads, NewUpload};
    use dragoman_store::Store;

    #[tokio::test]
    async fn whole_key_pages_never_split_a_key_that_fits() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Arc::new(Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}")));
        let planner = Planner::new(Arc::new(EmbeddedBackend::new(store)));
        planner
            .execute(Operation::CreateBucket { bucket: "b".into() })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for key in ["a", "b", "b", "b", "c"] {
            let new = NewUpload {
                bucket: "b".into(),
                key: key.into(),
                storage_class: None,
                checksum_algorithm: None,
                checksum_type: None,
                initiator: None,
            };
            planner
                .execute(Operation::CreateUpload(new))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let mut keys = Vec::new();
        let mut after = None;
        loop {
            let q = ListUploads {
                after: after.clone(),
                max: 3,
                whole_keys: true,
                ..ListUploads::bucket("b")
            };
            let Ok(Outcome::Page(page)) = planner.execute(Operation::ListUploads(q)).await else {
                panic!("list failed")
            };
            keys.push(
                page.uploads()
                    .map(|u| u.key.clone())
                    .collect::<Vec<_>>()
                    .join(""),
            );
            if !page.truncated {
                break;
            }
            after = page.entries.last().map(|e| Cursor::Key(e.key().to_owned()));
        }
        assert_eq!(keys, ["a", "bbb", "c"]);
    }
}
