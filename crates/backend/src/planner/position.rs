//! Listing a backend that pages by position in the canonical order (the embedded store, S3,
//! BOS). What the backend cannot resume from natively is emulated here:
//!
//! - after one upload, on a backend without an upload-id marker (BOS): list `prefix=<key>`,
//!   keep that key's uploads after the marker, then go on after the key;
//! - after an upload aborted since, on a backend that refuses such a marker (an AWS-faithful
//!   S3 answers `400 Invalid uploadId marker`): the same emulation, which places the gone
//!   upload by its initiation time — the marker retry;
//! - after a whole common prefix, on a backend whose key marker would list the keys under it:
//!   drop what the cursor already passed;
//! - more entries than one backend page holds (the lookahead at a page of 1000): another call.

use dragoman_model::{Cursor, Entry, Error, ListUploads, Timestamp, UploadsPage, common_prefix};

use super::Planner;
use crate::client::PageRequest;

/// A page without its cursor ([`UploadsPage::with_cursor`] adds it): the planner usually
/// trims the page to its lookahead first, and a cursor made for the entry trimmed was two
/// copies of its key and id made for nothing on every listing.
fn uncursored(entries: Vec<Entry>, truncated: bool) -> UploadsPage {
    UploadsPage {
        entries,
        truncated,
        next: None,
    }
}

/// One listing, its page without a cursor (see [`uncursored`]).
pub(super) async fn list(p: &Planner, q: &ListUploads) -> Result<UploadsPage, Error> {
    let native = p.caps.resume_after_upload;
    match list_from(p, q, native).await {
        Err(Error::InvalidArgument { .. })
            if native
                && !p.caps.resume_after_gone_upload
                && matches!(q.after, Some(Cursor::Upload { .. })) =>
        {
            list_from(p, q, false).await
        }
        other => other,
    }
}

/// One listing; `native_upload_resume`: hand upload cursors to the backend as they are.
async fn list_from(
    p: &Planner,
    q: &ListUploads,
    native_upload_resume: bool,
) -> Result<UploadsPage, Error> {
    let want = usize::from(q.max);
    let mut entries = Vec::new();
    let mut after = q.after.clone();
    if !native_upload_resume && let Some(c @ Cursor::Upload { .. }) = &after {
        let (rest, past) = rest_of_key(p, q, c).await?;
        entries = rest;
        after = Some(past);
    }
    if want == 0 {
        return Ok(UploadsPage::default());
    }
    loop {
        if entries.len() > want {
            entries.truncate(want);
            return Ok(uncursored(entries, true));
        }
        // The rest of the page, or one entry to learn whether the listing goes on.
        let room = want - entries.len();
        let max = u16::try_from(room.max(1))
            .unwrap_or(u16::MAX)
            .min(p.caps.max_page.max(1));
        let page = p
            .page(PageRequest {
                bucket: q.bucket.clone(),
                prefix: q.prefix.clone(),
                delimiter: q.delimiter().map(str::to_owned),
                after: after.clone(),
                continuation: None,
                max,
            })
            .await?;
        // Where to continue, needed only when another backend page follows.
        let last = if page.truncated && room > 0 {
            page.entries.last().map(Cursor::after_entry)
        } else {
            None
        };
        // A key marker equal to a common prefix lists the keys under it, which a prefix
        // cursor has passed.
        let passed = match &after {
            Some(c @ Cursor::Prefix(_)) if !p.caps.resume_after_prefix => Some(c.clone()),
            _ => None,
        };
        let mut fresh = page.entries;
        if let Some(c) = &passed {
            fresh.retain(|e| match e {
                Entry::Upload(u) => c.precedes(u),
                Entry::Prefix(g) => g.as_bytes() > c.key().as_bytes(),
            });
        }
        if room == 0 {
            let more = !fresh.is_empty() || page.truncated;
            return Ok(uncursored(entries, more));
        }
        // The backend's page is taken whole when it is the first: a page of 1000 uploads
        // copied into a vector grown by doubling was 2.5 % of an embedded page-1000 request
        // (tests/load/peers.py --instructions --only embedded).
        if entries.is_empty() {
            entries = fresh;
        } else {
            entries.append(&mut fresh);
        }
        if !page.truncated || entries.len() >= want {
            return Ok(uncursored(entries, page.truncated));
        }
        // More is needed than the backend gave in one page: continue after its last entry.
        match last {
            Some(next) if after.as_ref() != Some(&next) => after = Some(next),
            _ => {
                return Err(Error::BadBackendAnswer {
                    message: format!("{}: a truncated listing page that does not advance", p.name),
                });
            }
        }
        if !native_upload_resume && let Some(c @ Cursor::Upload { .. }) = &after {
            let (rest, past) = rest_of_key(p, q, c).await?;
            entries.extend(rest);
            after = Some(past);
        }
    }
}

/// The uploads after an upload cursor within its key, and the cursor past that key. Only
/// when the key is listed as itself (under the prefix, not rolled into a common prefix);
/// otherwise the cursor simply moves past the key.
async fn rest_of_key(
    p: &Planner,
    q: &ListUploads,
    cursor: &Cursor,
) -> Result<(Vec<Entry>, Cursor), Error> {
    let Cursor::Upload {
        key,
        upload_id,
        initiated,
        next_upload,
    } = cursor
    else {
        return Ok((Vec::new(), cursor.clone()));
    };
    let past = Cursor::Key(key.clone());
    if !key.starts_with(&q.prefix) || common_prefix(key, &q.prefix, q.delimiter()).is_some() {
        return Ok((Vec::new(), past));
    }
    let same_key = uploads_of_key(p, &q.bucket, key).await?;
    let after = upload_position(same_key, upload_id, *initiated, next_upload.as_deref())?;
    Ok((after.into_iter().map(Entry::Upload).collect(), past))
}

/// Every upload of one key, by listing `prefix=<key>`.
async fn uploads_of_key(
    p: &Planner,
    bucket: &str,
    key: &str,
) -> Result<Vec<dragoman_model::Upload>, Error> {
    let mut same_key = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = p
            .page(PageRequest {
                bucket: bucket.to_owned(),
                prefix: key.to_owned(),
                after: after.clone(),
                max: p.caps.max_page.max(1),
                ..PageRequest::default()
            })
            .await?;
        let next = page.entries.last().map(Cursor::after_entry);
        let mut past_key = false;
        for e in page.entries {
            match e {
                Entry::Upload(u) if u.key == key => same_key.push(u),
                _ => past_key = true,
            }
        }
        // Past the key, or the end, or a backend that cannot resume inside a key (one key
        // with more uploads than a page holds is then read as far as one page goes).
        if past_key
            || !page.truncated
            || !p.caps.resume_after_upload
            || next.is_none()
            || next == after
        {
            return Ok(same_key);
        }
        after = next;
    }
}

/// The uploads of a key after the marker upload, in the backend's order: after it by id; when
/// it is gone, from the upload that followed it when the marker was written; when that is gone
/// too, by its initiation time. An id nobody knows, with no time to place it, is refused as S3
/// does.
fn upload_position(
    mut same_key: Vec<dragoman_model::Upload>,
    upload_id: &str,
    initiated: Option<Timestamp>,
    next_upload: Option<&str>,
) -> Result<Vec<dragoman_model::Upload>, Error> {
    if let Some(i) = same_key.iter().position(|u| u.upload_id == upload_id) {
        return Ok(same_key.split_off(i + 1));
    }
    match next_upload {
        // The marker upload was the key's last when the marker was written.
        Some("") => return Ok(Vec::new()),
        Some(n) => {
            if let Some(i) = same_key.iter().position(|u| u.upload_id == n) {
                return Ok(same_key.split_off(i));
            }
        }
        None => {}
    }
    match initiated {
        Some(t) => Ok(same_key
            .into_iter()
            .filter(|u| (u.initiated, u.upload_id.as_str()) > (t, upload_id))
            .collect()),
        None => Err(Error::invalid_upload_id_marker(upload_id)),
    }
}
