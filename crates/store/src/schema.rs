use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// The schema version this code writes; `PRAGMA user_version` holds the file's.
const VERSION: i64 = 1;

pub(crate) fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // WAL lets readers run beside the one writer; NORMAL sync is durable across process
    // crashes (the WAL is fsynced at checkpoints), which is the promise the store makes.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;",
    )?;
    Ok(conn)
}

pub(crate) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > VERSION {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "the database has schema version {version}, newer than this dragoman ({VERSION})"
        )));
    }
    // Keys are BLOBs: SQLite compares BLOBs with memcmp, which is the canonical UTF-8 byte
    // order, and a BLOB bound lets the listing seek to a byte-string successor that is not
    // valid UTF-8.
    conn.execute_batch(
        "BEGIN;
         CREATE TABLE IF NOT EXISTS buckets (
             name    TEXT PRIMARY KEY,
             created INTEGER NOT NULL
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS uploads (
             bucket             TEXT NOT NULL REFERENCES buckets(name),
             key                BLOB NOT NULL,
             initiated          INTEGER NOT NULL,
             upload_id          TEXT NOT NULL,
             owner_id           TEXT,
             owner_name         TEXT,
             initiator_id       TEXT,
             initiator_name     TEXT,
             storage_class      TEXT,
             checksum_algorithm TEXT,
             checksum_type      TEXT,
             PRIMARY KEY (bucket, key, initiated, upload_id)
         ) WITHOUT ROWID;
         CREATE UNIQUE INDEX IF NOT EXISTS uploads_by_id ON uploads(bucket, upload_id);
         PRAGMA user_version = 1;
         COMMIT;",
    )
}
