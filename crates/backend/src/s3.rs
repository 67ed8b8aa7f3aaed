//! An S3 service as a backend client: SigV4 (`aws-sigv4`) and XML (`quick-xml`). S3 lists
//! natively with prefix, delimiter, key-marker and upload-id-marker.

use async_trait::async_trait;
use bytes::Bytes;
use dragoman_dialect_s3::client::{self as s3, Endpoint};
use dragoman_model::{Error, Operation, Outcome};
use http::Method;

use crate::client::{Call, Capabilities, Client, Reply, sum_parts, unsupported};
use crate::forward::{ForwardCall, Protocol, outgoing, send_streamed};
use crate::http::{HttpOptions, client, now, send};
use crate::markers::{created, head_outcome, marker_request, native_page};
use dragoman_dialect::StreamBody;

#[derive(Clone, Debug)]
pub struct S3ClientConfig {
    pub name: String,
    pub endpoint: Endpoint,
    pub access_key: String,
    pub secret_key: dragoman_model::Secret,
    pub http: HttpOptions,
}

pub struct S3Client {
    config: S3ClientConfig,
    http: crate::http::HttpClient,
}

impl S3Client {
    pub fn new(config: S3ClientConfig) -> Result<Self, Error> {
        let http = client(&config.http)?;
        Ok(Self { config, http })
    }
}

#[async_trait]
impl Client for S3Client {
    fn kind(&self) -> &'static str {
        "s3"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::marker_paged(true)
    }

    async fn call(&self, call: Call) -> Result<Reply, Error> {
        match call {
            Call::Page(r) => self.list(marker_request(r)).await,
            Call::Op(Operation::HeadBucket { bucket }) => self
                .bucket_call(Method::HEAD, Some(&bucket))
                .await
                .and_then(|(status, _)| {
                    head_outcome(status, &bucket, |s, b| s3::parse_error(s, b, &bucket, None))
                }),
            Call::Op(Operation::ListBuckets) => {
                let (status, body) = self.bucket_call(Method::GET, None).await?;
                if status != 200 {
                    return Err(s3::parse_error(status, &body, "", None));
                }
                s3::parse_buckets(&body).map(|b| Reply::Done(Outcome::Buckets(b)))
            }
            Call::Op(Operation::CreateBucket { bucket }) => {
                let body = s3::create_bucket_body(&self.config.endpoint.region);
                let (status, answer) = self
                    .object_call(Method::PUT, &bucket, None, &[], &[], body)
                    .await?;
                match status {
                    200 => Ok(Reply::Done(Outcome::BucketCreated { bucket })),
                    _ => Err(s3::parse_error(status, &answer, &bucket, None)),
                }
            }
            Call::Op(Operation::DeleteBucket { bucket }) => {
                let (status, answer) = self
                    .object_call(Method::DELETE, &bucket, None, &[], &[], Bytes::new())
                    .await?;
                match status {
                    200 | 204 => Ok(Reply::Done(Outcome::BucketDeleted)),
                    _ => Err(s3::parse_error(status, &answer, &bucket, None)),
                }
            }
            Call::Op(Operation::CreateUpload(new)) => {
                let mut headers: Vec<(&'static str, String)> = Vec::new();
                if let Some(c) = &new.storage_class {
                    headers.push(("x-amz-storage-class", c.to_s3().to_owned()));
                }
                if let Some(a) = &new.checksum_algorithm {
                    headers.push(("x-amz-checksum-algorithm", a.clone()));
                }
                if let Some(t) = &new.checksum_type {
                    headers.push(("x-amz-checksum-type", t.clone()));
                }
                let (status, answer) = self
                    .object_call(
                        Method::POST,
                        &new.bucket,
                        Some(&new.key),
                        &[("uploads", "")],
                        &headers,
                        Bytes::new(),
                    )
                    .await?;
                if status != 200 {
                    return Err(s3::parse_error(status, &answer, &new.bucket, None));
                }
                let upload_id = s3::parse_initiate(&answer)?;
                Ok(Reply::Done(created(new, upload_id)))
            }
            Call::Op(Operation::AbortUpload {
                bucket,
                key: Some(key),
                upload_id,
            }) => {
                let (status, answer) = self
                    .object_call(
                        Method::DELETE,
                        &bucket,
                        Some(&key),
                        &[("uploadId", &upload_id)],
                        &[],
                        Bytes::new(),
                    )
                    .await?;
                match status {
                    200 | 204 => Ok(Reply::Done(Outcome::Aborted)),
                    _ => Err(s3::parse_error(status, &answer, &bucket, Some(&upload_id))),
                }
            }
            Call::Op(op) => Err(unsupported("s3", &op)),
        }
    }

    async fn upload_size(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<u64>, Error> {
        sum_parts(&self.config.name, upload_id, |marker| async move {
            let mut query = vec![("uploadId", upload_id)];
            if let Some(m) = &marker {
                query.push(("part-number-marker", m.as_str()));
            }
            let (status, body) = self
                .object_call(Method::GET, bucket, Some(key), &query, &[], Bytes::new())
                .await?;
            if status != 200 {
                return Err(s3::parse_error(status, &body, bucket, Some(upload_id)));
            }
            s3::parse_parts(&body)
        })
        .await
    }

    fn forwards(&self) -> Option<&'static str> {
        Some("s3")
    }

    async fn forward(&self, call: ForwardCall) -> Result<http::Response<StreamBody>, Error> {
        let c = &self.config;
        let ep = &c.endpoint;
        let protocol = Protocol {
            scheme: ep.scheme.clone(),
            authority: ep.authority.clone(),
            virtual_hosted: ep.virtual_hosted,
            own_headers: &["authorization", "x-amz-date", "x-amz-security-token"],
            own_parameter: is_presign_parameter,
            copy_header: "x-amz-copy-source",
        };
        let timeout = call.head_timeout;
        let (mut parts, body) = outgoing(&protocol, call)?;
        // The payload claim the dialect's proof left: the caller's digest, or the form the
        // body goes out in.
        let payload = parts
            .headers
            .remove("x-amz-content-sha256")
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .unwrap_or_else(|| "UNSIGNED-PAYLOAD".to_owned());
        s3::sign_parts(
            &mut parts,
            &payload,
            &ep.region,
            &c.access_key,
            c.secret_key.expose(),
            now(),
        )?;
        send_streamed(&self.http, &c.name, parts, body, timeout).await
    }
}

/// SigV4's query parameters: the caller's presigned authentication, never the backend's.
fn is_presign_parameter(name: &str) -> bool {
    matches!(
        name,
        "X-Amz-Algorithm"
            | "X-Amz-Credential"
            | "X-Amz-Date"
            | "X-Amz-Expires"
            | "X-Amz-SignedHeaders"
            | "X-Amz-Signature"
            | "X-Amz-Security-Token"
    )
}

impl S3Client {
    async fn list(&self, r: dragoman_wire::MarkerRequest) -> Result<Reply, Error> {
        let c = &self.config;
        let req = s3::sign_request(
            s3::list_request(&c.endpoint, &r)?,
            &c.endpoint.region,
            &c.access_key,
            c.secret_key.expose(),
            now(),
        )?;
        let (status, body) = send(&self.http, &c.name, c.http.max_response_bytes, req).await?;
        if status != 200 {
            return Err(s3::parse_error(status, &body, &r.bucket, None));
        }
        s3::parse_list(&body).map(native_page)
    }

    /// A signed request for a bucket or one of its objects: `(status, body)`.
    async fn object_call(
        &self,
        method: Method,
        bucket: &str,
        key: Option<&str>,
        query: &[(&str, &str)],
        headers: &[(&'static str, String)],
        body: Bytes,
    ) -> Result<(u16, Bytes), Error> {
        let c = &self.config;
        let ep = &c.endpoint;
        let mut req = dragoman_wire::object_request(
            method,
            &ep.scheme,
            &ep.authority,
            ep.virtual_hosted,
            Some(bucket),
            key,
            query,
            body,
        )?;
        for (name, value) in headers {
            let value = http::HeaderValue::from_str(value)
                .map_err(|e| Error::internal(format!("header {name}: {e}")))?;
            req.headers_mut().insert(*name, value);
        }
        let req = s3::sign_request(req, &ep.region, &c.access_key, c.secret_key.expose(), now())?;
        send(&self.http, &c.name, c.http.max_response_bytes, req).await
    }

    /// A signed request for a bucket (or the service): `(status, body)`.
    async fn bucket_call(
        &self,
        method: Method,
        bucket: Option<&str>,
    ) -> Result<(u16, bytes::Bytes), Error> {
        let c = &self.config;
        let req = s3::sign_request(
            s3::bucket_request(&c.endpoint, method, bucket)?,
            &c.endpoint.region,
            &c.access_key,
            c.secret_key.expose(),
            now(),
        )?;
        send(&self.http, &c.name, c.http.max_response_bytes, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_never_reaches_debug_output() {
        let c = S3ClientConfig {
            name: "lake".into(),
            endpoint: Endpoint {
                scheme: "https".into(),
                authority: "s3.example.com".into(),
                virtual_hosted: false,
                region: "eu-west-1".into(),
            },
            access_key: "AKIA0000".into(),
            secret_key: dragoman_model::Secret::new("very-secret-key-0001"),
            http: HttpOptions::default(),
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("very-secret-key-0001") && shown.contains("AKIA0000"),
            "{shown}"
        );
    }
}
