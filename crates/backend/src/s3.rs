//! An S3 service as a backend client: SigV4 (`aws-sigv4`) and XML (`quick-xml`). S3 lists
//! natively with prefix, delimiter, key-marker and upload-id-marker.

use async_trait::async_trait;
use dragoman_dialect_s3::client::{self as s3, Endpoint};
use dragoman_model::{Error, Operation, Outcome};
use http::Method;

use crate::client::{Call, Capabilities, Client, Reply, unsupported};
use crate::http::{HttpOptions, client, now, send};
use crate::markers::{head_outcome, marker_request, native_page};

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
    http: reqwest::Client,
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
            Call::Op(op) => Err(unsupported("s3", &op)),
        }
    }
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
