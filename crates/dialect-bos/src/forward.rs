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
    let names = dragoman_wire::forward_names(bucket, key, "x-bce-copy-source", parts)?;
    Ok(names.map(|n| Target {
        bucket: n.bucket,
        key: n.key,
        copy_source_bucket: n.copy_source_bucket,
    }))
}

/// Verifies the head's bce-auth-v1 signature.
pub fn authenticate_streamed(
    parts: &Parts,
    _target: &Target,
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
