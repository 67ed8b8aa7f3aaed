//! dragoman's embedded store: buckets and in-progress multipart uploads in one SQLite file.
//!
//! Uploads live in a `WITHOUT ROWID` table whose primary key is the canonical order
//! `(bucket, key, initiated, upload_id)`, so a page is a range scan of the index: it costs
//! O(page · log n), never O(bucket). The API is synchronous; async callers run it on a
//! blocking thread.

mod ids;
mod listing;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use dragoman_model::{
    Bucket, Error, Identity, ListUploads, NewUpload, StorageClass, Timestamp, Upload, UploadState,
    UploadsPage,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

pub use ids::{initiated_of, new_upload_id};

/// What the embedded store knows of every upload's progress: it stores no parts, so no data
/// arrived after initiation, nothing is completing, and every upload is a caller's.
pub fn embedded_state(initiated: Timestamp) -> UploadState {
    UploadState {
        last_modified: Some(initiated),
        total_blocks: Some(0),
        datablocks: Some(0),
        metablocks: Some(0),
        completing: Some(false),
        system_initiated: Some(false),
    }
}

/// The file name of the database inside the data directory.
pub const DB_FILE: &str = "dragoman.sqlite3";

/// The embedded store. Safe to share between threads: one writer connection behind a mutex,
/// and a pool of reader connections that WAL mode lets run beside the writer.
pub struct Store {
    path: PathBuf,
    writer: Mutex<Writer>,
    readers: Mutex<Readers>,
    /// Signalled when a reader connection goes back to the pool.
    reader_returned: std::sync::Condvar,
}

/// The most reader connections open at once. Reads beyond it wait for one: a burst of
/// requests must not open a database connection (three file descriptors in WAL mode) per
/// blocking thread. Two cores gain nothing past a handful of concurrent SQLite readers.
pub const MAX_READERS: usize = 8;

#[derive(Default)]
struct Readers {
    idle: Vec<Connection>,
    open: usize,
}

struct Writer {
    conn: Connection,
    /// The last initiation time handed out: new uploads get a strictly later one, so upload
    /// ids (which start with it) sort in initiation order even if the clock steps back.
    last_initiated: i64,
}

fn db_err(e: rusqlite::Error) -> Error {
    Error::internal(format!("embedded store: {e}"))
}

fn lock_err<T>(_: T) -> Error {
    Error::internal("embedded store: a lock was poisoned by an earlier panic")
}

fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Store {
    /// Opens (or creates) the store in `dir`, creating the directory if needed.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::internal(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(DB_FILE);
        let conn = schema::open(&path).map_err(db_err)?;
        schema::migrate(&conn).map_err(db_err)?;
        let last_initiated: i64 = conn
            .query_row("SELECT COALESCE(MAX(initiated), 0) FROM uploads", [], |r| {
                r.get(0)
            })
            .map_err(db_err)?;
        tracing::info!(path = %path.display(), "embedded store open");
        Ok(Self {
            path,
            writer: Mutex::new(Writer {
                conn,
                last_initiated,
            }),
            readers: Mutex::new(Readers::default()),
            reader_returned: std::sync::Condvar::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a pooled reader connection.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let conn = {
            let mut pool = self.readers.lock().map_err(lock_err)?;
            loop {
                if let Some(c) = pool.idle.pop() {
                    break Some(c);
                }
                if pool.open < MAX_READERS {
                    pool.open += 1;
                    break None;
                }
                pool = self.reader_returned.wait(pool).map_err(lock_err)?;
            }
        };
        let conn = match conn {
            Some(c) => c,
            None => match schema::open(&self.path) {
                Ok(c) => c,
                Err(e) => {
                    self.readers.lock().map_err(lock_err)?.open -= 1;
                    self.reader_returned.notify_one();
                    return Err(db_err(e));
                }
            },
        };
        let out = f(&conn);
        self.readers.lock().map_err(lock_err)?.idle.push(conn);
        self.reader_returned.notify_one();
        out
    }

    /// How many reader connections are open (for tests and metrics).
    pub fn open_readers(&self) -> usize {
        self.readers.lock().map_or(0, |p| p.open)
    }

    /// Runs `f` with the writer. Its transactions begin `IMMEDIATE`: they take the write lock
    /// first, waiting on the busy timeout for another process (`dragoman sweep` beside a
    /// running gateway); a deferred one that read first could not be upgraded once another
    /// connection had written, and failed at once.
    fn write<T>(&self, f: impl FnOnce(&mut Writer) -> Result<T, Error>) -> Result<T, Error> {
        let mut w = self.writer.lock().map_err(lock_err)?;
        f(&mut w)
    }

    pub fn create_bucket(&self, name: &str) -> Result<Bucket, Error> {
        let created = Timestamp::from_nanos(now_nanos());
        self.write(|w| {
            let n = w
                .conn
                .execute(
                    "INSERT OR IGNORE INTO buckets(name, created) VALUES (?1, ?2)",
                    params![name, created.as_nanos()],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(Error::BucketAlreadyExists {
                    bucket: name.to_owned(),
                });
            }
            Ok(Bucket {
                name: name.to_owned(),
                created,
            })
        })
    }

    /// Deletes an empty bucket; refuses while it holds uploads.
    pub fn delete_bucket(&self, name: &str) -> Result<(), Error> {
        self.write(|w| {
            let tx = w
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            if !bucket_exists(&tx, name)? {
                return Err(Error::NoSuchBucket {
                    bucket: name.to_owned(),
                });
            }
            let busy: bool = tx
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM uploads WHERE bucket = ?1)",
                    [name],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            if busy {
                return Err(Error::BucketNotEmpty {
                    bucket: name.to_owned(),
                });
            }
            tx.execute("DELETE FROM buckets WHERE name = ?1", [name])
                .map_err(db_err)?;
            tx.commit().map_err(db_err)
        })
    }

    /// Whether the database answers a trivial query (for readiness checks).
    pub fn ping(&self) -> Result<(), Error> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(db_err))
    }

    pub fn head_bucket(&self, name: &str) -> Result<(), Error> {
        self.read(|c| {
            if bucket_exists(c, name)? {
                Ok(())
            } else {
                Err(Error::NoSuchBucket {
                    bucket: name.to_owned(),
                })
            }
        })
    }

    pub fn list_buckets(&self) -> Result<Vec<Bucket>, Error> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT name, created FROM buckets ORDER BY name")
                .map_err(db_err)?;
            let rows = st
                .query_map([], |r| {
                    Ok(Bucket {
                        name: r.get(0)?,
                        created: Timestamp::from_nanos(r.get(1)?),
                    })
                })
                .map_err(db_err)?;
            rows.collect::<Result<_, _>>().map_err(db_err)
        })
    }

    /// Starts an upload. Its initiation time is strictly after every earlier one.
    pub fn create_upload(&self, new: &NewUpload) -> Result<Upload, Error> {
        self.write(|w| {
            let initiated = now_nanos().max(w.last_initiated.saturating_add(1));
            let upload = Upload {
                key: new.key.clone(),
                upload_id: new_upload_id(Timestamp::from_nanos(initiated)),
                initiated: Timestamp::from_nanos(initiated),
                owner: new.initiator.clone().map(Arc::new),
                initiator: new.initiator.clone().map(Arc::new),
                storage_class: Some(new.storage_class.clone().unwrap_or(StorageClass::Standard)),
                checksum_algorithm: new.checksum_algorithm.clone(),
                checksum_type: new.checksum_type.clone(),
                state: embedded_state(Timestamp::from_nanos(initiated)),
            };
            let tx = w
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            if !bucket_exists(&tx, &new.bucket)? {
                return Err(Error::NoSuchBucket {
                    bucket: new.bucket.clone(),
                });
            }
            insert_upload(&tx, &new.bucket, &upload)?;
            tx.commit().map_err(db_err)?;
            w.last_initiated = initiated;
            Ok(upload)
        })
    }

    /// Inserts uploads as they are (ids and times included), in one transaction: for seeding
    /// a store from another system and for benchmarks.
    pub fn import(
        &self,
        bucket: &str,
        uploads: impl IntoIterator<Item = Upload>,
    ) -> Result<(), Error> {
        self.write(|w| {
            let tx = w
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            if !bucket_exists(&tx, bucket)? {
                return Err(Error::NoSuchBucket {
                    bucket: bucket.to_owned(),
                });
            }
            let mut last = w.last_initiated;
            for u in uploads {
                last = last.max(u.initiated.as_nanos());
                insert_upload(&tx, bucket, &u)?;
            }
            tx.commit().map_err(db_err)?;
            w.last_initiated = last;
            Ok(())
        })
    }

    /// Aborts an upload. With `key`, the upload must belong to that key (as S3 requires).
    pub fn abort_upload(
        &self,
        bucket: &str,
        key: Option<&str>,
        upload_id: &str,
    ) -> Result<(), Error> {
        self.write(|w| {
            let tx = w
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            if !bucket_exists(&tx, bucket)? {
                return Err(Error::NoSuchBucket {
                    bucket: bucket.to_owned(),
                });
            }
            let n = match key {
                Some(k) => tx.execute(
                    "DELETE FROM uploads WHERE bucket = ?1 AND upload_id = ?2 AND key = ?3",
                    params![bucket, upload_id, k.as_bytes()],
                ),
                None => tx.execute(
                    "DELETE FROM uploads WHERE bucket = ?1 AND upload_id = ?2",
                    params![bucket, upload_id],
                ),
            }
            .map_err(db_err)?;
            if n == 0 {
                return Err(Error::NoSuchUpload {
                    upload_id: upload_id.to_owned(),
                });
            }
            tx.commit().map_err(db_err)
        })
    }

    /// Lists one page in canonical order. Same answer as `dragoman_model::paginate`.
    pub fn list_uploads(&self, query: &ListUploads) -> Result<UploadsPage, Error> {
        self.read(|c| {
            let tx = ReadTransaction::begin(c)?;
            if !bucket_exists(tx.0, &query.bucket)? {
                return Err(Error::NoSuchBucket {
                    bucket: query.bucket.clone(),
                });
            }
            listing::list(tx.0, query)
        })
    }

    /// Checkpoints the write-ahead log so the database file stands alone, and closes.
    pub fn close(self) -> Result<(), Error> {
        let writer = self.writer.into_inner().map_err(lock_err)?;
        writer
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(db_err)?;
        writer.conn.close().map_err(|(_, e)| db_err(e))?;
        tracing::info!(path = %self.path.display(), "embedded store closed");
        Ok(())
    }
}

/// A read transaction, so that a page's seeks see one state of the store, begun and ended by
/// cached statements: rusqlite's `Transaction` prepares `BEGIN` and `ROLLBACK` afresh each
/// time, which was 3 % of a page-10 request's instructions. Ended by rolling back, as an
/// unfinished `Transaction` is: a read has nothing to commit.
struct ReadTransaction<'c>(&'c Connection);

impl<'c> ReadTransaction<'c> {
    fn begin(c: &'c Connection) -> Result<Self, Error> {
        c.prepare_cached("BEGIN")
            .and_then(|mut s| s.execute([]))
            .map_err(db_err)?;
        Ok(Self(c))
    }
}

impl Drop for ReadTransaction<'_> {
    fn drop(&mut self) {
        let ended = self
            .0
            .prepare_cached("ROLLBACK")
            .and_then(|mut s| s.execute([]));
        // A connection left inside a transaction would fail every later read on it.
        if let Err(e) = ended
            && !self.0.is_autocommit()
        {
            tracing::warn!("ending a read transaction: {e}");
            let _ = self.0.execute_batch("ROLLBACK");
        }
    }
}

fn bucket_exists(c: &Connection, name: &str) -> Result<bool, Error> {
    c.prepare_cached("SELECT 1 FROM buckets WHERE name = ?1")
        .and_then(|mut st| st.query_row([name], |_| Ok(())).optional())
        .map(|found| found.is_some())
        .map_err(db_err)
}

fn insert_upload(c: &Connection, bucket: &str, u: &Upload) -> Result<(), Error> {
    let id = |i: &Option<Arc<Identity>>| i.as_ref().and_then(|i| i.id.clone());
    let name = |i: &Option<Arc<Identity>>| i.as_ref().and_then(|i| i.display_name.clone());
    c.prepare_cached(
        "INSERT INTO uploads(bucket, key, initiated, upload_id, owner_id, owner_name,
             initiator_id, initiator_name, storage_class, checksum_algorithm, checksum_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .and_then(|mut st| {
        st.execute(params![
            bucket,
            u.key.as_bytes(),
            u.initiated.as_nanos(),
            u.upload_id,
            id(&u.owner),
            name(&u.owner),
            id(&u.initiator),
            name(&u.initiator),
            u.storage_class.as_ref().map(StorageClass::canonical_name),
            u.checksum_algorithm,
            u.checksum_type,
        ])
    })
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Error::internal(format!("upload id {} already exists", u.upload_id))
        }
        other => db_err(other),
    })?;
    Ok(())
}
