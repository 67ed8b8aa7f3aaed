//! BOS requests the gateway passes to a BOS backend as they are. bce-auth-v1 signs the head
//! only (the body is covered by `Content-MD5` or `x-bce-content-sha256` when the caller sends
//! them, which the backend checks), so the body streams on unchanged.

use std::sync::Arc;

use bytes::Bytes;
use dragoman_dialect::forward::{HeadOnly, StreamedAuth, Target};
use dragoman_model::{Error, Timestamp};
use http::request::Parts;

use crate::BosConfig;

/// What a BOS request the gateway does not decode addresses.
pub fn forward_target(config: &BosConfig, parts: &Parts) -> Result<Option<Target>, Error> {
    let (bucket, key) = crate::route::address_of(config, parts)?;
    let Some(bucket) = bucket else {
        return Ok(None);
    };
    dragoman_wire::validate_s3_bucket_name(&bucket)?;
    if let Some(k) = &key {
        dragoman_wire::validate_key(k, false)?;
    }
    let copy_source_bucket = match parts.headers.get("x-bce-copy-source") {
        None => None,
        Some(v) => Some(copy_source(v.as_bytes())?.0),
    };
    Ok(Some(Target {
        bucket,
        key,
        copy_source_bucket,
    }))
}

/// `x-bce-copy-source`: `/<bucket>/<key>`, URL-encoded. Returns the bucket and the rest as
/// sent (from the `/` before the key).
pub fn copy_source(raw: &[u8]) -> Result<(String, &[u8]), Error> {
    let bad = || Error::InvalidArgument {
        name: "x-bce-copy-source".into(),
        value: String::from_utf8_lossy(raw).into_owned(),
        message: "x-bce-copy-source must be /<bucket>/<key>".into(),
    };
    let trimmed = raw.strip_prefix(b"/").unwrap_or(raw);
    let slash = trimmed.iter().position(|b| *b == b'/').ok_or_else(bad)?;
    let bucket =
        dragoman_wire::decode_bytes(std::str::from_utf8(&trimmed[..slash]).map_err(|_| bad())?);
    let bucket = String::from_utf8(bucket).map_err(|_| bad())?;
    dragoman_wire::validate_s3_bucket_name(&bucket)?;
    if trimmed.len() == slash + 1 {
        return Err(bad());
    }
    Ok((bucket, &trimmed[slash..]))
}

/// Verifies the head's bce-auth-v1 signature.
pub fn authenticate_streamed(
    parts: &Parts,
    secret_of: &dyn Fn(&str) -> Option<String>,
    now: Timestamp,
) -> Result<Option<StreamedAuth>, Error> {
    Ok(
        crate::verify(parts, secret_of, now)?.map(|access_key| StreamedAuth {
            access_key,
            proof: Arc::new(HeadOnly),
        }),
    )
}

/// A BOS JSON document with the bucket `there` named `here`, in the top-level fields that
/// carry a bucket name (`bucket`, `name`, and the path of `location`).
pub fn rename_in_document(body: &[u8], there: &str, here: &str) -> Option<Bytes> {
    let mut doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = doc.as_object_mut()?;
    let mut changed = false;
    for field in ["bucket", "name", "Bucket", "BucketName"] {
        if let Some(v) = obj.get_mut(field)
            && v.as_str() == Some(there)
        {
            *v = serde_json::Value::String(here.to_owned());
            changed = true;
        }
    }
    if let Some(serde_json::Value::String(loc)) = obj.get_mut("location") {
        let needle = format!("/{there}/");
        if let Some(at) = loc.find(&needle) {
            loc.replace_range(at..at + needle.len(), &format!("/{here}/"));
            changed = true;
        }
    }
    changed
        .then(|| serde_json::to_vec(&doc).ok().map(Bytes::from))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources_name_their_bucket() {
        assert_eq!(
            copy_source(b"/src-bkt/a%20b").ok(),
            Some(("src-bkt".to_owned(), &b"/a%20b"[..]))
        );
        assert!(copy_source(b"/src-bkt").is_err());
        assert!(copy_source(b"/Bad_B/k").is_err());
    }

    #[test]
    fn documents_name_the_callers_bucket() {
        let doc = br#"{"bucket":"prod-a","key":"prod-a","location":"http://bj.bcebos.com/prod-a/k","eTag":"x"}"#;
        let out = rename_in_document(doc, "prod-a", "a").unwrap_or_default();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(v["bucket"], "a");
        assert_eq!(v["key"], "prod-a");
        assert_eq!(v["location"], "http://bj.bcebos.com/a/k");
        assert!(rename_in_document(br#"{"x":1}"#, "prod-a", "a").is_none());
        assert!(rename_in_document(b"not json", "prod-a", "a").is_none());
    }
}
