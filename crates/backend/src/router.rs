//! The router: which backend owns a bucket, and what the bucket is called there.
//!
//! Routes are tried in order; the first whose pattern matches the caller's bucket name wins,
//! and buckets no route matches go to the default backend. A route may rename the bucket on
//! its backend with a template (`prod-{bucket}`); names in answers and errors are turned back
//! into the caller's, so a caller never sees a backend's naming.

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use dragoman_model::{Bucket, Error, Operation, Outcome};

use dragoman_dialect::{StreamBody, Target};

use crate::{Backend, ForwardCall};

/// One route: a bucket pattern, the backend that owns matching buckets, and their name there.
#[derive(Clone)]
pub struct Route {
    /// A bucket name or glob (`logs-*`, `{a,b}-data`).
    pub buckets: String,
    pub backend: Arc<dyn Backend>,
    /// The bucket's name on the backend; `{bucket}` stands for the caller's name. `None`: same.
    pub rename: Option<String>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("buckets", &self.buckets)
            .field("backend", &self.backend.name())
            .field("rename", &self.rename)
            .finish()
    }
}

impl Route {
    fn matches(&self, bucket: &str) -> bool {
        dragoman_model::bucket_matches(&self.buckets, bucket)
    }

    fn backend_name<'a>(&self, bucket: &'a str) -> Cow<'a, str> {
        match &self.rename {
            Some(t) => Cow::Owned(t.replace("{bucket}", bucket)),
            None => Cow::Borrowed(bucket),
        }
    }

    /// The caller's name of a backend bucket, if this route could have produced it.
    fn caller_name(&self, backend_bucket: &str) -> Option<String> {
        let name = match &self.rename {
            None => backend_bucket.to_owned(),
            Some(t) => match t.split_once("{bucket}") {
                Some((pre, post)) => backend_bucket
                    .strip_prefix(pre)?
                    .strip_suffix(post)?
                    .to_owned(),
                // A fixed name: only a route for one literal bucket can be reversed.
                None if t == backend_bucket
                    && dragoman_model::is_literal_pattern(&self.buckets) =>
                {
                    self.buckets.clone()
                }
                None => return None,
            },
        };
        (!name.is_empty() && self.matches(&name)).then_some(name)
    }
}

pub struct Router {
    routes: Vec<Route>,
    default: Arc<dyn Backend>,
}

impl Router {
    pub fn new(routes: Vec<Route>, default: Arc<dyn Backend>) -> Self {
        Self { routes, default }
    }

    /// The backend for a caller's bucket and the bucket's name there (borrowed when the
    /// route does not rename it).
    fn resolve<'a>(&self, bucket: &'a str) -> (&Arc<dyn Backend>, Cow<'a, str>) {
        match self.route_of(bucket) {
            Some(r) => (&r.backend, r.backend_name(bucket)),
            None => (&self.default, Cow::Borrowed(bucket)),
        }
    }

    fn route_of(&self, bucket: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.matches(bucket))
    }

    /// The backend for a caller's bucket, without the bucket's name there (which a renaming
    /// route writes anew each time).
    fn backend_for(&self, bucket: &str) -> &Arc<dyn Backend> {
        self.route_of(bucket).map_or(&self.default, |r| &r.backend)
    }

    /// The name of the backend that serves a bucket (the default backend without one).
    pub fn backend_of(&self, bucket: Option<&str>) -> &str {
        match bucket {
            Some(b) => self.backend_for(b).name(),
            None => self.default.name(),
        }
    }

    /// Whether a `dialect` caller's request for `target`, one the gateway does not decode,
    /// can be forwarded: the bucket's backend takes that dialect's requests as they are, and a
    /// copy reads from a bucket on the same backend. Checked before the body is read.
    pub fn check_forward(
        &self,
        dialect: &str,
        target: &Target,
        method: &http::Method,
    ) -> Result<(), Error> {
        let backend = self.backend_for(&target.bucket);
        if backend.forwards() != Some(dialect) {
            let what = if target.key.is_some() {
                "object"
            } else {
                "bucket"
            };
            return Err(Error::NotImplemented {
                what: format!(
                    "This {what} operation ({method}) reaches a {} backend, which does not take {dialect} requests; \
                     only the multipart-upload listing and the bucket and upload operations are translated",
                    backend.kind()
                ),
            });
        }
        if let Some(source) = &target.copy_source_bucket
            && !self.owned_by(source, backend)
        {
            return Err(Error::NotImplemented {
                what: "Copying between buckets of different backends".into(),
            });
        }
        Ok(())
    }

    /// Forwards a request for the caller's bucket `call.bucket` to its backend under the
    /// backend's names. Returns the answer and, when the route renames the bucket, the pair
    /// (name there, caller's name) for the answer's documents.
    pub async fn forward(
        &self,
        dialect: &'static str,
        target: Target,
        mut call: ForwardCall,
    ) -> Result<(http::Response<StreamBody>, Option<(String, String)>), Error> {
        self.check_forward(dialect, &target, &call.method)?;
        let (backend, there) = self.resolve(&target.bucket);
        call.bucket.clear();
        call.bucket.push_str(&there);
        call.copy_source_bucket = target
            .copy_source_bucket
            .as_deref()
            .map(|b| self.resolve(b).1.into_owned());
        let answer = backend.forward(call).await;
        let renamed = (there != target.bucket).then(|| (there.into_owned(), target.bucket.clone()));
        match answer {
            Ok(resp) => Ok((resp, renamed)),
            Err(e) => Err(rename_error(e, &target.bucket)),
        }
    }

    /// Whether the caller's name `bucket` routes to `backend`.
    fn owned_by(&self, bucket: &str, backend: &Arc<dyn Backend>) -> bool {
        Arc::ptr_eq(self.backend_for(bucket), backend)
    }

    /// Every backend's buckets, under the caller's names, each listed by the backend it routes to.
    async fn list_buckets(&self) -> Result<Outcome, Error> {
        let mut all: Vec<Bucket> = Vec::new();
        for (_, found) in self.buckets_by_backend().await {
            for b in found? {
                if !all.iter().any(|x| x.name == b.name) {
                    all.push(b);
                }
            }
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Outcome::Buckets(all))
    }

    /// Each backend's buckets under the caller's names, or the error that backend answered:
    /// for a fleet-wide walk that goes on past a backend that is down.
    pub async fn buckets_by_backend(&self) -> Vec<(String, Result<Vec<Bucket>, Error>)> {
        let mut backends: Vec<&Arc<dyn Backend>> = vec![&self.default];
        for r in &self.routes {
            if !backends.iter().any(|b| Arc::ptr_eq(b, &r.backend)) {
                backends.push(&r.backend);
            }
        }
        let mut out = Vec::with_capacity(backends.len());
        for backend in backends {
            let found = match backend.execute(Operation::ListBuckets).await {
                Ok(Outcome::Buckets(found)) => Ok(self.caller_names(backend, found)),
                // A backend whose API cannot list buckets shows none: naming the routes'
                // literal patterns would show buckets whether or not they exist.
                Err(Error::NotImplemented { .. }) => {
                    tracing::warn!(backend = backend.name(), "backend cannot list its buckets");
                    Ok(Vec::new())
                }
                Ok(_) => Err(Error::internal(format!(
                    "{} answered a bucket listing with something else",
                    backend.name()
                ))),
                Err(e) => Err(e),
            };
            out.push((backend.name().to_owned(), found));
        }
        out
    }

    /// A backend's buckets under the names callers use for them: through any route to the
    /// backend, or as themselves when it is the default backend, if that name routes back.
    fn caller_names(&self, backend: &Arc<dyn Backend>, found: Vec<Bucket>) -> Vec<Bucket> {
        let mut all: Vec<Bucket> = Vec::new();
        for b in found {
            let mut names: Vec<String> = self
                .routes
                .iter()
                .filter(|r| Arc::ptr_eq(&r.backend, backend))
                .filter_map(|r| r.caller_name(&b.name))
                .collect();
            names.push(b.name.clone());
            for name in names {
                if self.owned_by(&name, backend)
                    && self.resolve(&name).1 == b.name
                    && !all.iter().any(|x| x.name == name)
                {
                    all.push(Bucket {
                        name,
                        created: b.created,
                    });
                }
            }
        }
        all
    }
}

fn rename_op(op: Operation, to: String) -> Operation {
    match op {
        Operation::ListUploads(q) => {
            Operation::ListUploads(dragoman_model::ListUploads { bucket: to, ..q })
        }
        Operation::CreateUpload(n) => {
            Operation::CreateUpload(dragoman_model::NewUpload { bucket: to, ..n })
        }
        Operation::AbortUpload { key, upload_id, .. } => Operation::AbortUpload {
            bucket: to,
            key,
            upload_id,
        },
        Operation::CreateBucket { .. } => Operation::CreateBucket { bucket: to },
        Operation::DeleteBucket { .. } => Operation::DeleteBucket { bucket: to },
        Operation::HeadBucket { .. } => Operation::HeadBucket { bucket: to },
        other => other,
    }
}

/// Names the caller's bucket wherever the backend named its own.
fn rename_back(result: Result<Outcome, Error>, caller: &str) -> Result<Outcome, Error> {
    match result {
        Ok(Outcome::Created { upload, .. }) => Ok(Outcome::Created {
            bucket: caller.to_owned(),
            upload,
        }),
        Ok(Outcome::BucketCreated { .. }) => Ok(Outcome::BucketCreated {
            bucket: caller.to_owned(),
        }),
        Ok(other) => Ok(other),
        Err(e) => Err(rename_error(e, caller)),
    }
}

fn rename_error(e: Error, caller: &str) -> Error {
    let caller = caller.to_owned();
    match e {
        Error::NoSuchBucket { .. } => Error::NoSuchBucket { bucket: caller },
        Error::BucketAlreadyExists { .. } => Error::BucketAlreadyExists { bucket: caller },
        Error::BucketNotEmpty { .. } => Error::BucketNotEmpty { bucket: caller },
        Error::InvalidBucketName { message, .. } => Error::InvalidBucketName {
            bucket: caller,
            message,
        },
        other => other,
    }
}

#[async_trait]
impl Backend for Router {
    fn name(&self) -> &str {
        "router"
    }

    fn kind(&self) -> &str {
        "router"
    }

    async fn upload_size(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<u64>, Error> {
        let (backend, there) = self.resolve(bucket);
        backend
            .upload_size(&there, key, upload_id)
            .await
            .map_err(|e| rename_error(e, bucket))
    }

    async fn execute(&self, op: Operation) -> Result<Outcome, Error> {
        let Some(bucket) = op.bucket() else {
            return match op {
                Operation::ListBuckets => self.list_buckets().await,
                other => self.default.execute(other).await,
            };
        };
        let (backend, there) = self.resolve(bucket);
        match there {
            // Not renamed: the operation goes as it is, and nothing needs its name back.
            Cow::Borrowed(_) => backend.execute(op).await,
            Cow::Owned(there) => {
                let bucket = bucket.to_owned();
                rename_back(backend.execute(rename_op(op, there)).await, &bucket)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragoman_model::{ListUploads, NewUpload};
    use dragoman_store::Store;

    fn store(dir: &tempfile::TempDir, name: &str) -> Arc<dyn Backend> {
        let store = Store::open(&dir.path().join(name)).unwrap_or_else(|e| panic!("{e}"));
        crate::embedded(Arc::new(store), &dragoman_metrics::Metrics::new()).0
    }

    fn new_upload(bucket: &str) -> Operation {
        Operation::CreateUpload(NewUpload {
            bucket: bucket.into(),
            key: "k".into(),
            storage_class: None,
            checksum_algorithm: None,
            checksum_type: None,
            initiator: None,
        })
    }

    #[tokio::test]
    async fn routes_rename_and_answer_under_the_callers_names() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (local, remote) = (store(&dir, "local"), store(&dir, "remote"));
        let router = Router::new(
            vec![Route {
                buckets: "logs-*".into(),
                backend: Arc::clone(&remote),
                rename: Some("prod-{bucket}".into()),
            }],
            Arc::clone(&local),
        );
        for b in ["logs-a", "plain"] {
            assert_eq!(
                router
                    .execute(Operation::CreateBucket { bucket: b.into() })
                    .await,
                Ok(Outcome::BucketCreated { bucket: b.into() })
            );
        }
        // The remote store holds prod-logs-a; the local one holds plain.
        assert_eq!(
            remote
                .execute(Operation::HeadBucket {
                    bucket: "prod-logs-a".into()
                })
                .await,
            Ok(Outcome::BucketExists)
        );
        assert!(
            local
                .execute(Operation::HeadBucket {
                    bucket: "logs-a".into()
                })
                .await
                .is_err()
        );
        let Ok(Outcome::Created { bucket, upload }) = router.execute(new_upload("logs-a")).await
        else {
            panic!("create")
        };
        assert_eq!(bucket, "logs-a");
        let Ok(Outcome::Page(page)) = router
            .execute(Operation::ListUploads(ListUploads::bucket("logs-a")))
            .await
        else {
            panic!("list")
        };
        assert_eq!(page.uploads().next(), Some(&upload));
        assert_eq!(
            router
                .execute(Operation::ListUploads(ListUploads::bucket("logs-missing")))
                .await,
            Err(Error::NoSuchBucket {
                bucket: "logs-missing".into()
            })
        );
        let Ok(Outcome::Buckets(all)) = router.execute(Operation::ListBuckets).await else {
            panic!("buckets")
        };
        assert_eq!(
            all.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
            ["logs-a", "plain"]
        );
    }

    #[test]
    fn reverse_renaming() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let r = Route {
            buckets: "logs-*".into(),
            backend: store(&dir, "x"),
            rename: Some("prod-{bucket}-eu".into()),
        };
        assert_eq!(r.backend_name("logs-a"), "prod-logs-a-eu");
        assert_eq!(r.caller_name("prod-logs-a-eu").as_deref(), Some("logs-a"));
        assert_eq!(r.caller_name("prod-other-eu"), None);
        assert_eq!(r.caller_name("logs-a"), None);
        // A fixed name reverses only for a route of one literal bucket; "!logs" is every
        // bucket but one.
        let fixed = |buckets: &str| Route {
            buckets: buckets.into(),
            backend: store(&dir, "x"),
            rename: Some("archive".into()),
        };
        assert_eq!(
            fixed("logs").caller_name("archive").as_deref(),
            Some("logs")
        );
        assert_eq!(fixed("!logs").caller_name("archive"), None);
    }
}
