//! Decoding: which bucket, which key, which operation, which parameters.

use dragoman_model::{Cursor, Error, ListUploads, MAX_PAGE, NewUpload, Operation, StorageClass};
use dragoman_wire::{self as wire, BucketDialect, Plus, QueryParams};
use http::request::Parts;

use crate::S3Config;

/// The bucket and key a request addresses, path-style or virtual-hosted.
#[derive(Debug, PartialEq, Eq)]
struct Address {
    bucket: Option<String>,
    key: Option<String>,
}

fn address(config: &S3Config, parts: &Parts) -> Result<Address, Error> {
    let path = wire::decoded_path(parts)?;
    let path = path.as_ref();
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    if let Some(bucket) =
        wire::host(parts).and_then(|h| wire::strip_domain(&h, &config.domains).map(str::to_owned))
    {
        return Ok(Address {
            bucket: Some(bucket),
            key: non_empty(path),
        });
    }
    Ok(match path.split_once('/') {
        Some((bucket, key)) => Address {
            bucket: non_empty(bucket),
            key: non_empty(key),
        },
        None => Address {
            bucket: non_empty(path),
            key: None,
        },
    })
}

/// The bucket and key a request addresses, for forwarding.
pub(crate) fn address_of(
    config: &S3Config,
    parts: &Parts,
) -> Result<(Option<String>, Option<String>), Error> {
    address(config, parts).map(|a| (a.bucket, a.key))
}

/// S3's bucket naming rules, checked when a bucket is created.
fn validate_bucket_name(name: &str) -> Result<(), Error> {
    dragoman_wire::validate_s3_bucket_name(name)
}

fn max_uploads(q: &QueryParams<'_>) -> Result<u16, Error> {
    let Some(raw) = q.non_empty("max-uploads") else {
        return Ok(MAX_PAGE);
    };
    let n: i32 = raw.parse().map_err(|_| {
        Error::invalid_argument(
            "max-uploads",
            raw,
            "Provided max-uploads not an integer or within integer range",
        )
    })?;
    if n < 0 {
        return Err(Error::invalid_argument(
            "max-uploads",
            raw,
            "Argument max-uploads must be an integer between 0 and 2147483647",
        ));
    }
    Ok(u16::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE))
}

fn list_uploads(bucket: String, q: &QueryParams<'_>) -> Result<ListUploads, Error> {
    let max = max_uploads(q)?;
    let encode_keys = match q.get("encoding-type") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("url") => true,
        Some(v) => {
            return Err(Error::invalid_argument(
                "encoding-type",
                v,
                "Invalid Encoding Method specified in Request",
            ));
        }
    };
    // upload-id-marker means nothing without key-marker (AWS ignores it and echoes it empty).
    let after = q
        .non_empty("key-marker")
        .map(|key| match q.non_empty("upload-id-marker") {
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
        max,
        encode_keys,
        whole_keys: false,
    })
}

fn header(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// What S3 decides for itself in the dispatch it shares with BOS.
struct S3Routes;

impl BucketDialect for S3Routes {
    fn list(&self, bucket: String, q: &QueryParams<'_>) -> Result<ListUploads, Error> {
        list_uploads(bucket, q)
    }

    fn new_upload(&self, bucket: String, key: String, parts: &Parts) -> NewUpload {
        NewUpload {
            bucket,
            key,
            storage_class: header(parts, "x-amz-storage-class").map(|s| StorageClass::from_s3(&s)),
            checksum_algorithm: header(parts, "x-amz-checksum-algorithm"),
            checksum_type: header(parts, "x-amz-checksum-type"),
            initiator: None,
        }
    }

    fn validate_bucket_name(&self, bucket: &str) -> Result<(), Error> {
        validate_bucket_name(bucket)
    }
}

/// Decodes an S3 request into a canonical operation.
pub fn decode(config: &S3Config, parts: &Parts) -> Result<Operation, Error> {
    let q = QueryParams::parse(parts.uri.query(), Plus::Space)?;
    let Address { bucket, key } = address(config, parts)?;
    wire::operation(&S3Routes, parts, bucket, key, &q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, host: &str) -> Parts {
        let (p, ()) = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", host)
            .body(())
            .unwrap_or_default()
            .into_parts();
        p
    }

    fn config() -> S3Config {
        S3Config {
            region: "us-east-1".into(),
            domains: vec!["s3.example.com".into()],
        }
    }

    fn list(uri: &str) -> Result<ListUploads, Error> {
        match decode(&config(), &parts("GET", uri, "127.0.0.1:9000"))? {
            Operation::ListUploads(q) => Ok(q),
            other => Err(Error::internal(format!("{other:?}"))),
        }
    }

    #[test]
    fn path_style_and_virtual_hosted_address_the_same_bucket() {
        let a = decode(&config(), &parts("GET", "/bk1?uploads", "127.0.0.1:9000"));
        let b = decode(&config(), &parts("GET", "/bk1/?uploads=", "127.0.0.1:9000"));
        let c = decode(
            &config(),
            &parts("GET", "/?uploads", "bk1.s3.example.com:9000"),
        );
        assert_eq!(a, Ok(Operation::ListUploads(ListUploads::bucket("bk1"))));
        assert_eq!(a, b);
        assert_eq!(a, c);
        let d = decode(&config(), &parts("GET", "/", "s3.example.com"));
        assert_eq!(d, Ok(Operation::ListBuckets));
    }

    #[test]
    fn list_parameters() {
        let q = list("/bkt?uploads&prefix=a%20b%2F&delimiter=%2F&key-marker=k+1&upload-id-marker=u&max-uploads=5&encoding-type=URL")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(q.prefix, "a b/");
        assert_eq!(q.delimiter.as_deref(), Some("/"));
        assert_eq!(
            q.after,
            Some(Cursor::Upload {
                key: "k 1".into(),
                upload_id: "u".into(),
                initiated: None,
                next_upload: None
            })
        );
        assert_eq!(q.max, 5);
        assert!(q.encode_keys);
    }

    #[test]
    fn upload_id_marker_alone_is_ignored() {
        assert_eq!(
            list("/bkt?uploads&upload-id-marker=u").map(|q| q.after),
            Ok(None)
        );
        assert_eq!(
            list("/bkt?uploads&key-marker=&upload-id-marker=u").map(|q| q.after),
            Ok(None)
        );
        assert_eq!(
            list("/bkt?uploads&key-marker=k&upload-id-marker=").map(|q| q.after),
            Ok(Some(Cursor::Key("k".into())))
        );
    }

    #[test]
    fn max_uploads_validation_follows_aws() {
        assert_eq!(list("/bkt?uploads&max-uploads=").map(|q| q.max), Ok(1000));
        assert_eq!(list("/bkt?uploads&max-uploads=0").map(|q| q.max), Ok(0));
        assert_eq!(
            list("/bkt?uploads&max-uploads=1001").map(|q| q.max),
            Ok(1000)
        );
        assert_eq!(
            list("/bkt?uploads&max-uploads=2147483647").map(|q| q.max),
            Ok(1000)
        );
        let not_int = "Provided max-uploads not an integer or within integer range";
        for bad in ["abc", "2147483648", "%205", "1.5", "99999999999999999999"] {
            let uri = format!("/bkt?uploads&max-uploads={bad}");
            match list(&uri) {
                Err(Error::InvalidArgument { name, message, .. }) => {
                    assert_eq!(
                        (name.as_str(), message.as_str()),
                        ("max-uploads", not_int),
                        "{bad}"
                    );
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert_eq!(
            list("/bkt?uploads&max-uploads=-1"),
            Err(Error::invalid_argument(
                "max-uploads",
                "-1",
                "Argument max-uploads must be an integer between 0 and 2147483647"
            ))
        );
    }

    #[test]
    fn encoding_type_validation() {
        assert_eq!(
            list("/bkt?uploads&encoding-type=bogus"),
            Err(Error::invalid_argument(
                "encoding-type",
                "bogus",
                "Invalid Encoding Method specified in Request"
            ))
        );
        assert_eq!(
            list("/bkt?uploads&encoding-type=url").map(|q| q.encode_keys),
            Ok(true)
        );
    }

    #[test]
    fn object_operations() {
        let create = decode(
            &config(),
            &parts("POST", "/bkt/dir/my%20k%C3%BC?uploads", "h"),
        );
        match create {
            Ok(Operation::CreateUpload(n)) => {
                assert_eq!((n.bucket.as_str(), n.key.as_str()), ("bkt", "dir/my kü"))
            }
            other => panic!("{other:?}"),
        }
        let abort = decode(&config(), &parts("DELETE", "/bkt/k?uploadId=x", "h"));
        assert_eq!(
            abort,
            Ok(Operation::AbortUpload {
                bucket: "bkt".into(),
                key: Some("k".into()),
                upload_id: "x".into()
            })
        );
        assert!(matches!(
            decode(
                &config(),
                &parts("PUT", "/bkt/k?partNumber=1&uploadId=x", "h")
            ),
            Err(Error::NotImplemented { .. })
        ));
        assert_eq!(
            decode(&config(), &parts("PATCH", "/bkt", "h")),
            Err(Error::MethodNotAllowed)
        );
    }

    #[test]
    fn bucket_names_are_checked_on_create() {
        assert!(decode(&config(), &parts("PUT", "/good-bucket", "h")).is_ok());
        for bad in ["/Up", "/ab", "/-ab", "/a..b", "/a_b"] {
            assert!(
                matches!(
                    decode(&config(), &parts("PUT", bad, "h")),
                    Err(Error::InvalidBucketName { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(matches!(
            decode(&config(), &parts("GET", "/bkt/%FF?uploads", "h")),
            Err(Error::InvalidUri { .. })
        ));
        assert!(matches!(
            decode(&config(), &parts("GET", "/bkt?uploads&prefix=%C3", "h")),
            Err(Error::InvalidUri { .. })
        ));
    }
}
