use std::sync::Arc;

use async_trait::async_trait;
use dragoman_model::{Error, Operation, Outcome};
use dragoman_store::Store;

use crate::Backend;

/// The embedded store as a backend. SQLite calls block, so they run on tokio's blocking pool.
#[derive(Clone)]
pub struct EmbeddedBackend {
    store: Arc<Store>,
}

impl EmbeddedBackend {
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }

    fn run(store: &Store, op: Operation) -> Result<Outcome, Error> {
        match op {
            Operation::ListUploads(q) => store.list_uploads(&q).map(Outcome::Page),
            Operation::CreateUpload(new) => {
                store.create_upload(&new).map(|upload| Outcome::Created {
                    bucket: new.bucket,
                    upload,
                })
            }
            Operation::AbortUpload {
                bucket,
                key,
                upload_id,
            } => store
                .abort_upload(&bucket, key.as_deref(), &upload_id)
                .map(|()| Outcome::Aborted),
            Operation::CreateBucket { bucket } => store
                .create_bucket(&bucket)
                .map(|b| Outcome::BucketCreated { bucket: b.name }),
            Operation::DeleteBucket { bucket } => store
                .delete_bucket(&bucket)
                .map(|()| Outcome::BucketDeleted),
            Operation::HeadBucket { bucket } => {
                store.head_bucket(&bucket).map(|()| Outcome::BucketExists)
            }
            Operation::ListBuckets => store.list_buckets().map(Outcome::Buckets),
            Operation::Login { .. } => Err(Error::internal("a login reached a backend")),
        }
    }
}

#[async_trait]
impl Backend for EmbeddedBackend {
    fn name(&self) -> &str {
        "embedded"
    }

    async fn execute(&self, op: Operation) -> Result<Outcome, Error> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || Self::run(&store, op))
            .await
            .map_err(|e| Error::internal(format!("embedded store task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragoman_model::{ListUploads, NewUpload};

    #[tokio::test]
    async fn answers_operations_through_the_blocking_pool() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Arc::new(Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}")));
        let b = EmbeddedBackend::new(store);
        let created = b
            .execute(Operation::CreateBucket { bucket: "b".into() })
            .await;
        assert_eq!(created, Ok(Outcome::BucketCreated { bucket: "b".into() }));
        let new = NewUpload {
            bucket: "b".into(),
            key: "k".into(),
            storage_class: None,
            checksum_algorithm: None,
            checksum_type: None,
            initiator: None,
        };
        let Ok(Outcome::Created { upload, .. }) = b.execute(Operation::CreateUpload(new)).await
        else {
            panic!("create failed")
        };
        let page = b
            .execute(Operation::ListUploads(ListUploads::bucket("b")))
            .await;
        let Ok(Outcome::Page(page)) = page else {
            panic!("list failed")
        };
        assert_eq!(page.uploads().next(), Some(&upload));
        let missing = b
            .execute(Operation::HeadBucket {
                bucket: "nope".into(),
            })
            .await;
        assert_eq!(
            missing,
            Err(Error::NoSuchBucket {
                bucket: "nope".into()
            })
        );
    }
}
