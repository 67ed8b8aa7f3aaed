//! An S3 service as a backend: the marker planner over an HTTP transport that signs with
//! SigV4 (`aws-sigv4`) and reads XML (`quick-xml`). S3 lists natively with prefix, delimiter,
//! key-marker and upload-id-marker.

use async_trait::async_trait;
use dragoman_dialect_s3::client::{self as s3, Endpoint};
use dragoman_model::Error;
use dragoman_wire::{MarkerPage, MarkerRequest};

use crate::bos::{BosBackend, BosTransport};
use crate::http::{HttpOptions, client, now, send};

#[derive(Clone, Debug)]
pub struct S3BackendConfig {
    pub name: String,
    pub endpoint: Endpoint,
    pub access_key: String,
    pub secret_key: String,
    pub http: HttpOptions,
}

/// An S3 service over HTTP.
pub struct HttpS3 {
    config: S3BackendConfig,
    http: reqwest::Client,
}

/// S3 and BOS list the same way (key markers, optional upload-id marker), so one planner
/// serves both; only the transport differs.
pub type S3Backend = BosBackend<HttpS3>;

pub fn s3_backend(config: S3BackendConfig) -> Result<S3Backend, Error> {
    let http = client(&config.http)?;
    let name = config.name.clone();
    Ok(BosBackend::with_transport(
        &name,
        true,
        HttpS3 { config, http },
    ))
}

#[async_trait]
impl BosTransport for HttpS3 {
    async fn list(&self, r: &MarkerRequest) -> Result<MarkerPage, Error> {
        let c = &self.config;

        let req = s3::sign_request(
            s3::list_request(&c.endpoint, r)?,
            &c.endpoint.region,
            &c.access_key,
            &c.secret_key,
            now(),
        )?;
        let (status, body) = send(&self.http, &c.name, req).await?;
        if status != 200 {
            return Err(s3::parse_error(status, &body, &r.bucket, None));
        }
        s3::parse_list(&body)
    }
}
