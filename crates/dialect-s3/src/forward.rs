//! S3 requests the gateway passes to an S3 backend as they are: what they address, how their
//! body is proven as it streams, and bucket names in the backend's answers.

use std::sync::Arc;

use bytes::Bytes;
use dragoman_dialect::forward::{BodyProof, StreamBody, StreamedAuth, Target};
use dragoman_model::{Error, Timestamp};
use http::HeaderMap;
use http::request::Parts;
use http_body_util::BodyExt;

use crate::S3Config;
use crate::rechunk::{self, Rechunked};
use crate::sigv4::{is_hex_digest, verify_head};
use crate::stream::{ChunkChain, DigestBody, SignedChunks};

const UNSIGNED: &str = "UNSIGNED-PAYLOAD";
const UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
const SIGNED_CHUNKS: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const SIGNED_CHUNKS_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";

/// What an S3 request the gateway does not decode addresses.
pub fn forward_target(config: &S3Config, parts: &Parts) -> Result<Option<Target>, Error> {
    let (bucket, key) = crate::route::address_of(config, parts)?;
    let names = dragoman_wire::forward_names(bucket, key, "x-amz-copy-source", parts)?;
    Ok(names.map(|n| Target {
        bucket: n.bucket,
        key: n.key,
        copy_source_bucket: n.copy_source_bucket,
    }))
}

/// What the caller's body must prove as it streams.
#[derive(Debug)]
enum Check {
    /// The SHA-256 the signature covers.
    Digest(String),
    /// Signed aws-chunked: every chunk's signature, and the decoded length.
    Chunks(ChunkChain, u64),
    /// Nothing (`UNSIGNED-PAYLOAD`, presigned URLs): only the head is signed.
    Nothing,
    /// aws-chunked with an unsigned checksum trailer: sent as it came (claim, chunks,
    /// trailer), and the backend checks the trailer.
    AsSent,
}

/// An S3 body's proof and its outbound form. An object body (PutObject, UploadPart) that
/// carries no checksum of its own goes out re-chunked with a CRC32 trailer written only
/// once the proof held ([`crate::rechunk`]); one that carries a checksum header goes out
/// plain, since the backend refuses it unless the whole body arrives; other bodies are
/// small documents and go out plain.
#[derive(Debug)]
struct S3Proof {
    check: Check,
    /// The decoded length, when the body goes out re-chunked.
    rechunk: Option<u64>,
}

impl BodyProof for S3Proof {
    fn wrap(&self, body: StreamBody) -> StreamBody {
        let proven = match &self.check {
            Check::Digest(d) => DigestBody::new(body, d).boxed(),
            Check::Chunks(chain, len) => SignedChunks::new(body, chain.clone(), *len).boxed(),
            Check::Nothing | Check::AsSent => body,
        };
        match self.rechunk {
            Some(len) => Rechunked::new(proven, len).boxed(),
            None => proven,
        }
    }

    fn outbound_headers(&self, headers: &mut HeaderMap) {
        if let Check::Chunks(_, len) = &self.check {
            // Decoded here: the body goes on as plain bytes of the decoded length.
            headers.insert(http::header::CONTENT_LENGTH, (*len).into());
            headers.remove("x-amz-decoded-content-length");
            set_aws_chunked(headers, false);
            headers.insert(
                "x-amz-content-sha256",
                http::HeaderValue::from_static(UNSIGNED),
            );
        }
        if let Some(len) = self.rechunk {
            headers.insert(
                http::header::CONTENT_LENGTH,
                rechunk::encoded_length(len).into(),
            );
            headers.insert("x-amz-decoded-content-length", len.into());
            headers.insert(
                "x-amz-trailer",
                http::HeaderValue::from_static(rechunk::TRAILER),
            );
            headers.insert(
                "x-amz-content-sha256",
                http::HeaderValue::from_static(UNSIGNED_TRAILER),
            );
            set_aws_chunked(headers, true);
        }
    }
}

/// Adds `aws-chunked` to `Content-Encoding` (first, as the SDKs write it) or removes it.
fn set_aws_chunked(headers: &mut HeaderMap, on: bool) {
    let mut codings: Vec<String> = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|e| !e.eq_ignore_ascii_case("aws-chunked") && !e.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if on {
        codings.insert(0, "aws-chunked".to_owned());
    }
    match http::HeaderValue::from_str(&codings.join(",")) {
        Ok(v) if !v.is_empty() => {
            headers.insert(http::header::CONTENT_ENCODING, v);
        }
        _ => {
            headers.remove(http::header::CONTENT_ENCODING);
        }
    }
}

/// Whether the request carries a checksum of its body that the backend verifies.
fn has_checksum(parts: &Parts) -> bool {
    ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"]
        .iter()
        .any(|alg| {
            parts
                .headers
                .contains_key(format!("x-amz-checksum-{alg}").as_str())
        })
}

/// Whether the request uploads object data (PutObject, UploadPart; not a copy).
fn uploads_object_data(parts: &Parts, target: &Target) -> bool {
    parts.method == http::Method::PUT
        && target.key.is_some()
        && !parts.headers.contains_key("x-amz-copy-source")
}

fn content_length(parts: &Parts) -> Option<u64> {
    parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The payload claims a streamed body may make, checked before the signature.
fn streamable(claimed: &str) -> Result<(), Error> {
    match claimed {
        UNSIGNED | UNSIGNED_TRAILER | SIGNED_CHUNKS => Ok(()),
        c if is_hex_digest(c) => Ok(()),
        SIGNED_CHUNKS_TRAILER => Err(Error::NotImplemented {
            what: "Signed aws-chunked bodies with a checksum trailer \
                   (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER) are not forwarded; \
                   send STREAMING-UNSIGNED-PAYLOAD-TRAILER or a signed payload"
                .into(),
        }),
        other => Err(Error::InvalidArgument {
            name: "x-amz-content-sha256".into(),
            value: other.to_owned(),
            message: "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, \
                      STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD \
                      or a valid sha256 value."
                .into(),
        }),
    }
}

fn decoded_length(parts: &Parts) -> Result<u64, Error> {
    parts
        .headers
        .get("x-amz-decoded-content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::InvalidRequest {
            message: "An aws-chunked body needs x-amz-decoded-content-length".into(),
        })
}

/// Verifies the head's signature and returns what the streamed body must prove.
pub fn authenticate_streamed(
    config: &S3Config,
    parts: &Parts,
    target: &Target,
    secret_of: &dyn Fn(&str) -> Option<String>,
    now: Timestamp,
) -> Result<Option<StreamedAuth>, Error> {
    let object_data = uploads_object_data(parts, target) && !has_checksum(parts);
    let kept = verify_head(config, parts, secret_of, now, &streamable, |v| {
        let (check, decoded) = match v.payload {
            SIGNED_CHUNKS => {
                let len = decoded_length(parts)?;
                let chain = ChunkChain {
                    signing_key: v.signing_key.to_vec(),
                    amz_date: v.amz_date.to_owned(),
                    scope: v.scope.to_owned(),
                    seed_signature: v.signature.to_owned(),
                    access_key: v.access_key.to_owned(),
                };
                (Check::Chunks(chain, len), Some(len))
            }
            UNSIGNED_TRAILER => {
                decoded_length(parts)?;
                (Check::AsSent, None)
            }
            c if is_hex_digest(c) => (Check::Digest(c.to_owned()), content_length(parts)),
            _ => (Check::Nothing, content_length(parts)),
        };
        Ok::<_, Error>((v.access_key.to_owned(), check, decoded))
    })?;
    let Some(kept) = kept else {
        return Ok(None);
    };
    let (access_key, check, decoded) = kept?;
    let rechunk = decoded.filter(|_| object_data);
    Ok(Some(StreamedAuth {
        access_key,
        proof: Arc::new(S3Proof { check, rechunk }),
    }))
}

/// An S3 document with the bucket `there` named `here`: in the elements that carry a bucket
/// name (`Bucket`, `Name`, `BucketName`) and the paths that start with one (`Resource`,
/// `Key` never). Textual, since the documents are the backend's own and small.
pub fn rename_in_document(body: &[u8], there: &str, here: &str) -> Option<Bytes> {
    let text = std::str::from_utf8(body).ok()?;
    let mut out = text.to_owned();
    for tag in ["Bucket", "Name", "BucketName"] {
        out = out.replace(
            &format!("<{tag}>{there}</{tag}>"),
            &format!("<{tag}>{here}</{tag}>"),
        );
    }
    out = out.replace(
        &format!("<Resource>/{there}"),
        &format!("<Resource>/{here}"),
    );
    (out != text).then(|| Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_are_renamed_only_where_they_are_bucket_names() {
        let doc = b"<R><Bucket>prod-a</Bucket><Key>prod-a</Key><Resource>/prod-a/k</Resource></R>";
        let out = rename_in_document(doc, "prod-a", "a").unwrap_or_default();
        assert_eq!(
            &out[..],
            &b"<R><Bucket>a</Bucket><Key>prod-a</Key><Resource>/a/k</Resource></R>"[..]
        );
        assert!(rename_in_document(b"<R/>", "prod-a", "a").is_none());
    }

    #[test]
    fn only_checkable_payload_claims_stream() {
        for ok in [UNSIGNED, UNSIGNED_TRAILER, SIGNED_CHUNKS, &"a".repeat(64)] {
            assert!(streamable(ok).is_ok(), "{ok}");
        }
        assert!(matches!(
            streamable(SIGNED_CHUNKS_TRAILER),
            Err(Error::NotImplemented { .. })
        ));
        assert!(matches!(
            streamable("abc"),
            Err(Error::InvalidArgument { .. })
        ));
    }

    fn chain() -> ChunkChain {
        ChunkChain {
            signing_key: vec![],
            amz_date: String::new(),
            scope: String::new(),
            seed_signature: String::new(),
            access_key: String::new(),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_decoded_chunked_body_with_its_own_checksum_is_sent_plain() {
        let proof = S3Proof {
            check: Check::Chunks(chain(), 66560),
            rechunk: None,
        };
        let mut h = headers(&[
            ("content-encoding", "aws-chunked,gzip"),
            ("x-amz-decoded-content-length", "66560"),
            ("content-length", "66824"),
        ]);
        proof.outbound_headers(&mut h);
        assert_eq!(
            h.get("content-encoding").map(|v| v.as_bytes()),
            Some(&b"gzip"[..])
        );
        assert_eq!(
            h.get("content-length").map(|v| v.as_bytes()),
            Some(&b"66560"[..])
        );
        assert!(!h.contains_key("x-amz-decoded-content-length"));
        assert_eq!(
            h.get("x-amz-content-sha256").map(|v| v.as_bytes()),
            Some(UNSIGNED.as_bytes())
        );
    }

    #[test]
    fn object_data_goes_out_rechunked_with_a_trailer() {
        let proof = S3Proof {
            check: Check::Chunks(chain(), 66560),
            rechunk: Some(66560),
        };
        let mut h = headers(&[
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("content-length", "66824"),
        ]);
        proof.outbound_headers(&mut h);
        let get = |k: &str| {
            h.get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(get("content-encoding"), "aws-chunked");
        assert_eq!(get("x-amz-decoded-content-length"), "66560");
        assert_eq!(
            get("content-length"),
            rechunk::encoded_length(66560).to_string()
        );
        assert_eq!(get("x-amz-trailer"), "x-amz-checksum-crc32");
        assert_eq!(get("x-amz-content-sha256"), UNSIGNED_TRAILER);
    }
}
