//! Decoding BOS requests: path style (`/<bucket>/<key>`, optionally behind the legacy `/v1`) or
//! virtual-hosted (`Host: <bucket>.<region>.<domain>`), camelCase parameters.

use dragoman_model::{Cursor, Error, ListUploads, MAX_PAGE, NewUpload, Operation, StorageClass};
use dragoman_wire::{self as wire, BucketDialect, Plus, QueryParams};
use http::request::Parts;

use crate::BosConfig;

pub(crate) fn address_of(
    config: &BosConfig,
    parts: &Parts,
) -> Result<(Option<String>, Option<String>), Error> {
    let path = wire::decoded_path(parts)?;
    // The legacy `/v1/<bucket>/<key>` form of Baidu's own signing example. A bucket cannot be
    // named `v1` (names have 3 characters at least), so the prefix is unambiguous.
    let path = match path.strip_prefix("v1") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.trim_start_matches('/'),
        _ => path.as_ref(),
    };
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    // `<bucket>.<region>.<domain>` is virtual-hosted; `<region>.<domain>` is a path-style endpoint.
    let virtual_bucket = wire::host(parts).and_then(|h| {
        wire::strip_domain(&h, &config.domains)
            .and_then(|rest| rest.split_once('.'))
            .map(|(bucket, _region)| bucket.to_owned())
    });
    if let Some(bucket) = virtual_bucket {
        return Ok((Some(bucket), non_empty(path)));
    }
    Ok(match path.split_once('/') {
        Some((bucket, key)) => (non_empty(bucket), non_empty(key)),
        None => (non_empty(path), None),
    })
}

/// BOS documents 1..=1000; like S3, larger values are served as 1000 and 0 as an empty page.
fn max_uploads(q: &QueryParams<'_>) -> Result<u16, Error> {
    let Some(raw) = q.non_empty("maxUploads") else {
        return Ok(MAX_PAGE);
    };
    match raw.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(u16::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE)),
        _ => Err(Error::invalid_argument(
            "maxUploads",
            raw,
            "maxUploads must be an integer between 0 and 1000",
        )),
    }
}

fn list_uploads(bucket: String, q: &QueryParams<'_>) -> Result<ListUploads, Error> {
    let after = q
        .non_empty("keyMarker")
        .map(|key| match q.non_empty("uploadIdMarker") {
            Some(marker) => {
                let (upload_id, initiated, next_upload) =
                    dragoman_model::parse_upload_id_marker(marker);
                Cursor::Upload {
                    key: key.to_owned(),
                    upload_id: upload_id.to_owned(),
                    initiated,
                    next_upload,
                }
            }
            None => Cursor::Key(key.to_owned()),
        });
    Ok(ListUploads {
        bucket,
        prefix: q.get("prefix").unwrap_or_default().to_owned(),
        delimiter: q.non_empty("delimiter").map(str::to_owned),
        after,
        max: max_uploads(q)?,
        encode_keys: false,
        // The SDKs resume with keyMarker alone: never split a key across pages if avoidable.
        whole_keys: true,
    })
}

/// BOS bucket names: `^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`.
fn validate_bucket_name(name: &str) -> Result<(), Error> {
    let b = name.as_bytes();
    let ok = (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'-'))
        && b.first().is_some_and(|c| *c != b'-')
        && b.last().is_some_and(|c| *c != b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidBucketName {
            bucket: name.to_owned(),
            message: format!("The bucket name {name} is not valid"),
        })
    }
}

/// What BOS decides for itself in the dispatch it shares with S3.
struct BosRoutes;

impl BucketDialect for BosRoutes {
    fn list(&self, bucket: String, q: &QueryParams<'_>) -> Result<ListUploads, Error> {
        list_uploads(bucket, q)
    }

    fn new_upload(&self, bucket: String, key: String, parts: &Parts) -> NewUpload {
        let class = parts
            .headers
            .get("x-bce-storage-class")
            .and_then(|v| v.to_str().ok());
        NewUpload {
            bucket,
            key,
            storage_class: class.map(StorageClass::from_bos),
            checksum_algorithm: None,
            checksum_type: None,
            initiator: None,
        }
    }

    fn validate_bucket_name(&self, bucket: &str) -> Result<(), Error> {
        validate_bucket_name(bucket)
    }

    /// A presigned request carries its signature as `authorization=`; that is no sub-resource.
    fn has_subresource(&self, q: &QueryParams<'_>) -> bool {
        q.0.iter()
            .any(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
    }
}

/// Decodes a BOS request into a canonical operation.
pub fn decode(config: &BosConfig, parts: &Parts) -> Result<Operation, Error> {
    let q = QueryParams::parse(parts.uri.query(), Plus::Literal)?;
    let (bucket, key) = address_of(config, parts)?;
    wire::operation(&BosRoutes, parts, bucket, key, &q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, host: &str) -> Parts {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", host)
            .body(())
            .unwrap_or_default()
            .into_parts()
            .0
    }

    fn list(uri: &str, host: &str) -> Result<ListUploads, Error> {
        match decode(&BosConfig::default(), &parts("GET", uri, host))? {
            Operation::ListUploads(q) => Ok(q),
            other => Err(Error::internal(format!("{other:?}"))),
        }
    }

    #[test]
    fn every_addressing_style_reaches_the_bucket() {
        let want = Ok(ListUploads {
            whole_keys: true,
            ..ListUploads::bucket("mybucket")
        });
        assert_eq!(list("/mybucket?uploads=", "127.0.0.1:8080"), want);
        assert_eq!(list("/mybucket?uploads", "bj.bcebos.com"), want);
        assert_eq!(list("/?uploads=", "mybucket.bj.bcebos.com"), want);
        assert_eq!(list("/v1/mybucket?uploads=", "bj.bcebos.com"), want);
    }

    #[test]
    fn camel_case_parameters_and_literal_plus() {
        let q = list(
            "/bkt?uploads=&prefix=a%2F&delimiter=%2F&keyMarker=k%20a+b&uploadIdMarker=u&maxUploads=7",
            "h",
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (q.prefix.as_str(), q.delimiter.as_deref(), q.max),
            ("a/", Some("/"), 7)
        );
        assert_eq!(
            q.after,
            Some(Cursor::Upload {
                key: "k a+b".into(),
                upload_id: "u".into(),
                initiated: None,
                next_upload: None
            })
        );
        assert_eq!(
            list("/bkt?uploads=&uploadIdMarker=u", "h").map(|q| q.after),
            Ok(None)
        );
        // S3's names mean nothing here.
        assert_eq!(
            list("/bkt?uploads=&max-uploads=1", "h").map(|q| q.max),
            Ok(1000)
        );
    }

    #[test]
    fn max_uploads_validation() {
        assert_eq!(
            list("/bkt?uploads=&maxUploads=5000", "h").map(|q| q.max),
            Ok(1000)
        );
        assert_eq!(
            list("/bkt?uploads=&maxUploads=0", "h").map(|q| q.max),
            Ok(0)
        );
        for bad in ["-1", "abc", "1.5", "99999999999999999999"] {
            assert!(
                matches!(
                    list(&format!("/bkt?uploads=&maxUploads={bad}"), "h"),
                    Err(Error::InvalidArgument { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn object_operations() {
        let c = BosConfig::default();
        match decode(
            &c,
            &parts("POST", "/mybucket/dir/my%20obj.bin?uploads=", "127.0.0.1"),
        ) {
            Ok(Operation::CreateUpload(n)) => assert_eq!(
                (n.bucket.as_str(), n.key.as_str()),
                ("mybucket", "dir/my obj.bin")
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            decode(
                &c,
                &parts("DELETE", "/dir/k?uploadId=x", "mybucket.bj.bcebos.com")
            ),
            Ok(Operation::AbortUpload {
                bucket: "mybucket".into(),
                key: Some("dir/k".into()),
                upload_id: "x".into()
            })
        );
        assert!(matches!(
            decode(&c, &parts("PUT", "/Bad_Name", "h")),
            Err(Error::InvalidBucketName { .. })
        ));
        assert_eq!(
            decode(&c, &parts("GET", "/", "bj.bcebos.com")),
            Ok(Operation::ListBuckets)
        );
    }
}
