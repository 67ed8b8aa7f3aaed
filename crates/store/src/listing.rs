//! Listing from the ordered index.
//!
//! Without a delimiter a page is one range scan. With one, every common prefix costs one
//! extra seek: after emitting (or passing) a group the scan restarts at the group's byte-string
//! successor instead of reading the group's keys. Either way the work is O(page · log n).

use dragoman_model::{
    Cursor, Entry, Error, Identity, ListUploads, PageIdentities, StorageClass, Timestamp, Upload,
    UploadsPage, common_prefix,
};
use std::ops::ControlFlow;
use std::sync::Arc;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{db_err, initiated_of};

/// Where the scan starts.
#[derive(Debug, Clone)]
enum Lower {
    AtLeast(Vec<u8>),
    Greater(Vec<u8>),
    AfterUpload {
        key: Vec<u8>,
        initiated: i64,
        upload_id: String,
    },
}

impl Lower {
    fn key(&self) -> &[u8] {
        match self {
            Self::AtLeast(k) | Self::Greater(k) => k,
            Self::AfterUpload { key, .. } => key,
        }
    }
}

/// The smallest byte string greater than every string that starts with `prefix`, or `None`
/// if there is none (empty, or all 0xFF).
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut s = prefix.to_vec();
    while let Some(last) = s.pop() {
        if last < 0xFF {
            s.push(last + 1);
            return Some(s);
        }
    }
    None
}

/// One statement per lower-bound kind, with and without an upper bound. Static text, so the
/// statement cache finds them without building a string per seek. No `LIMIT`: rows are
/// stepped lazily and the scan stops itself, and a bound `LIMIT ?` made SQLite re-prepare the
/// statement on every rebind (a quarter of a small page's cost in a profile).
macro_rules! select {
    ($lower:literal, $upper:literal) => {
        concat!(
            "SELECT key, initiated, upload_id, owner_id, owner_name, initiator_id, initiator_name, ",
            "storage_class, checksum_algorithm, checksum_type FROM uploads WHERE bucket = ?1 AND ",
            $lower, $upper, " ORDER BY key, initiated, upload_id"
        )
    };
}

fn sql(lower: &Lower, bounded: bool) -> &'static str {
    match (lower, bounded) {
        (Lower::AtLeast(_), false) => select!("key >= ?2", ""),
        (Lower::AtLeast(_), true) => select!("key >= ?2", " AND key < ?5"),
        (Lower::Greater(_), false) => select!("key > ?2", ""),
        (Lower::Greater(_), true) => select!("key > ?2", " AND key < ?5"),
        (Lower::AfterUpload { .. }, false) => {
            select!("(key, initiated, upload_id) > (?2, ?3, ?4)", "")
        }
        (Lower::AfterUpload { .. }, true) => {
            select!(
                "(key, initiated, upload_id) > (?2, ?3, ?4)",
                " AND key < ?5"
            )
        }
    }
}

/// The identities of a scan: each allocated once per page, and the last owner and the last
/// initiator remembered, since consecutive uploads mostly name the same ones.
#[derive(Default)]
struct ScanIdentities {
    page: PageIdentities,
    last_owner: Option<Arc<Identity>>,
    last_initiator: Option<Arc<Identity>>,
}

/// An identity column's bytes, unchecked: text or null, and any other type refused as
/// `as_str_or_null` refuses it.
fn text_column<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r [u8]>> {
    match r.get_ref(i)? {
        ValueRef::Text(b) => Ok(Some(b)),
        ValueRef::Null => Ok(None),
        _ => Err(rusqlite::types::FromSqlError::InvalidType.into()),
    }
}

/// Reads an identity's two columns, each once. Columns whose bytes are those of `last` are
/// that identity again, and are neither checked as UTF-8 again nor looked up: that was four
/// `from_utf8` calls and a search per row.
fn identity(
    page: &mut PageIdentities,
    last: &mut Option<Arc<Identity>>,
    r: &Row<'_>,
    id: usize,
    name: usize,
) -> rusqlite::Result<Option<Arc<Identity>>> {
    let (id, name) = (text_column(r, id)?, text_column(r, name)?);
    if let Some(known) = last.as_ref()
        && known.id.as_deref().map(str::as_bytes) == id
        && known.display_name.as_deref().map(str::as_bytes) == name
    {
        return Ok(Some(Arc::clone(known)));
    }
    let id = id.map(std::str::from_utf8).transpose()?;
    let name = name.map(std::str::from_utf8).transpose()?;
    let who = page.share(id, name);
    last.clone_from(&who);
    Ok(who)
}

fn upload_from_row(r: &Row<'_>, identities: &mut ScanIdentities) -> rusqlite::Result<Upload> {
    let key: Vec<u8> = r.get(0)?;
    let key = String::from_utf8(key).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e))
    })?;
    let initiated = Timestamp::from_nanos(r.get(1)?);
    let ScanIdentities {
        page,
        last_owner,
        last_initiator,
    } = identities;
    Ok(Upload {
        key,
        initiated,
        upload_id: r.get(2)?,
        owner: identity(page, last_owner, r, 3, 4)?,
        initiator: identity(page, last_initiator, r, 5, 6)?,
        storage_class: r
            .get_ref(7)?
            .as_str_or_null()?
            .map(StorageClass::from_canonical_name),
        checksum_algorithm: r.get(8)?,
        checksum_type: r.get(9)?,
        state: crate::embedded_state(initiated),
    })
}

/// Walks the index from `lower` (below `upper`), at most `limit` rows, handing each upload to
/// `visit` until it says stop. Rows are stepped lazily: a stop reads no further row.
fn scan(
    c: &Connection,
    bucket: &str,
    lower: &Lower,
    upper: Option<&[u8]>,
    limit: usize,
    mut visit: impl FnMut(Upload) -> ControlFlow<()>,
) -> Result<(), Error> {
    let mut st = c
        .prepare_cached(sql(lower, upper.is_some()))
        .map_err(db_err)?;
    let (k, t, id) = match lower {
        Lower::AtLeast(k) | Lower::Greater(k) => (k.as_slice(), 0, ""),
        Lower::AfterUpload {
            key,
            initiated,
            upload_id,
        } => (key.as_slice(), *initiated, upload_id.as_str()),
    };
    // Each statement takes the parameters up to the highest it names (unused ones below
    // that are allowed): ?2 for a key bound, ?4 after an upload, ?5 with an upper bound.
    let mut identities = ScanIdentities::default();
    let after_upload = matches!(lower, Lower::AfterUpload { .. });
    let mut rows = match (upper, after_upload) {
        (Some(u), _) => st.query(params![bucket, k, t, id, u]),
        (None, true) => st.query(params![bucket, k, t, id]),
        (None, false) => st.query(params![bucket, k]),
    }
    .map_err(db_err)?;
    for _ in 0..limit {
        let Some(row) = rows.next().map_err(db_err)? else {
            break;
        };
        let upload = upload_from_row(row, &mut identities).map_err(db_err)?;
        if visit(upload).is_break() {
            break;
        }
    }
    Ok(())
}

/// Gives an `Upload` cursor named by id alone its place in the order. An id of the key is
/// looked up; an aborted id this store wrote is placed by the time it carries; anything else
/// is S3's "Invalid uploadId marker".
fn resolve(c: &Connection, bucket: &str, after: Option<&Cursor>) -> Result<Option<Cursor>, Error> {
    let Some(Cursor::Upload {
        key,
        upload_id,
        initiated: None,
        ..
    }) = after
    else {
        return Ok(after.cloned());
    };
    let found: Option<(Vec<u8>, i64)> = c
        .prepare_cached("SELECT key, initiated FROM uploads WHERE bucket = ?1 AND upload_id = ?2")
        .and_then(|mut st| {
            st.query_row(params![bucket, upload_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(db_err)?;
    let initiated = match found {
        Some((k, t)) if k == key.as_bytes() => Timestamp::from_nanos(t),
        Some(_) => return Err(Error::invalid_upload_id_marker(upload_id.clone())),
        None => initiated_of(upload_id)
            .ok_or_else(|| Error::invalid_upload_id_marker(upload_id.clone()))?,
    };
    Ok(Some(Cursor::Upload {
        key: key.clone(),
        upload_id: upload_id.clone(),
        initiated: Some(initiated),
        next_upload: None,
    }))
}

pub(crate) fn list(c: &Connection, q: &ListUploads) -> Result<UploadsPage, Error> {
    let after = resolve(c, &q.bucket, q.after.as_ref())?;
    if q.max == 0 {
        // AWS answers max-uploads=0 with an empty, untruncated page.
        return Ok(UploadsPage::default());
    }
    let prefix = q.prefix.as_bytes();
    let upper = successor(prefix).filter(|_| !prefix.is_empty());
    let mut lower = match &after {
        None => Lower::AtLeast(Vec::new()),
        Some(Cursor::Key(m)) => Lower::Greater(m.as_bytes().to_vec()),
        Some(Cursor::Prefix(p)) => match successor(p.as_bytes()) {
            Some(s) => Lower::AtLeast(s),
            None => return Ok(UploadsPage::default()),
        },
        Some(Cursor::Upload {
            key,
            upload_id,
            initiated,
            ..
        }) => Lower::AfterUpload {
            key: key.as_bytes().to_vec(),
            initiated: initiated.unwrap_or_default().as_nanos(),
            upload_id: upload_id.clone(),
        },
    };
    if lower.key() < prefix {
        lower = Lower::AtLeast(prefix.to_vec());
    }
    let marker_key = after.as_ref().map(|c| c.key().as_bytes());
    let max = usize::from(q.max);
    let mut entries: Vec<Entry> = Vec::with_capacity(max.min(1024));

    loop {
        // One more than the page holds, to learn whether the listing goes on.
        let want = max + 1 - entries.len();
        let mut restart = None;
        scan(c, &q.bucket, &lower, upper.as_deref(), want, |upload| {
            let Some(group) = common_prefix(&upload.key, &q.prefix, q.delimiter()) else {
                entries.push(Entry::Upload(upload));
                return ControlFlow::Continue(());
            };
            // Emit the group unless the marker already passed it, then seek past its keys.
            if marker_key.is_none_or(|m| group.as_bytes() > m) {
                entries.push(Entry::Prefix(group.to_owned()));
            }
            restart = successor(group.as_bytes()).filter(|_| entries.len() <= max);
            ControlFlow::Break(())
        })?;
        // No restart: the page is over-full (the listing goes on), or the rows ran out.
        match restart {
            Some(next) => lower = Lower::AtLeast(next),
            None => break,
        }
    }
    let truncated = entries.len() > max;
    entries.truncate(max);
    Ok(UploadsPage::from_entries(entries, truncated))
}

#[cfg(test)]
mod tests {
    use super::{list, successor};
    use dragoman_model::ListUploads;
    use rusqlite::Connection;

    /// A store holding `rows` (SQL value lists for key, initiated, upload_id, owner_id,
    /// owner_name) in bucket `b`.
    fn store_with(rows: &str) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&c).unwrap();
        c.execute_batch(&format!(
            "INSERT INTO buckets VALUES ('b', 0);
             INSERT INTO uploads(bucket, key, initiated, upload_id, owner_id, owner_name)
             VALUES {rows};"
        ))
        .unwrap();
        c
    }

    #[test]
    fn identities_repeat_only_when_both_columns_match() {
        let c = store_with(
            "('b', X'61', 1, 'u1', 'me', 'Me'), ('b', X'62', 2, 'u2', 'me', 'Me'),
             ('b', X'63', 3, 'u3', 'me', 'Other'), ('b', X'64', 4, 'u4', 'me', NULL),
             ('b', X'65', 5, 'u5', NULL, NULL)",
        );
        let page = list(&c, &ListUploads::bucket("b")).unwrap();
        let owners: Vec<_> = page
            .uploads()
            .map(|u| {
                let o = u.owner.as_ref();
                (
                    o.and_then(|o| o.id.as_deref()),
                    o.and_then(|o| o.display_name.as_deref()),
                )
            })
            .collect();
        assert_eq!(
            owners,
            [
                (Some("me"), Some("Me")),
                (Some("me"), Some("Me")),
                (Some("me"), Some("Other")),
                (Some("me"), None),
                (None, None),
            ]
        );
    }

    /// A damaged or foreign file must fail the listing, not pass as the owner before it.
    #[test]
    fn an_identity_column_that_is_not_text_is_refused() {
        // (An integer would be stored as text: the column has TEXT affinity.)
        for bad in ["X'6d65'", "CAST(X'FF' AS TEXT)"] {
            let c = store_with(&format!(
                "('b', X'61', 1, 'u1', 'me', 'Me'), ('b', X'62', 2, 'u2', {bad}, 'Me')"
            ));
            assert!(list(&c, &ListUploads::bucket("b")).is_err(), "{bad}");
        }
    }

    #[test]
    fn successor_of_byte_strings() {
        assert_eq!(successor(b"a/"), Some(b"a0".to_vec()));
        assert_eq!(successor(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(successor(b"\xff\xff"), None);
        assert_eq!(successor(b""), None);
    }
}
