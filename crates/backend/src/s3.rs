//! An S3 service as a backend: the marker planner over an HTTP transport that signs with
//! SigV4 (`aws-sigv4`) and reads XML (`quick-xml`). S3 lists natively with prefix, delimiter,
//! key-marker and upload-id-marker.

use async_trait::async_trait;
use dragoman_dialect_bos::client::{BosPage, ListRequest};
use dragoman_dialect_s3::client::{self as s3, Endpoint};
use dragoman_model::{Error, Timestamp};

use crate::bos::{BosBackend, BosTransport};
use crate::http::{HttpOptions, client, transport_error};

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

fn now() -> Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Timestamp::from_nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
}

#[async_trait]
impl BosTransport for HttpS3 {
    async fn list(&self, r: &ListRequest) -> Result<BosPage, Error> {
        let c = &self.config;
        let request = s3::ListRequest {
            bucket: r.bucket.clone(),
            prefix: r.prefix.clone(),
            delimiter: r.delimiter.clone(),
            key_marker: r.key_marker.clone(),
            upload_id_marker: r.upload_id_marker.clone(),
            max: r.max,
        };
        let req = s3::sign_request(
            s3::list_request(&c.endpoint, &request)?,
            &c.endpoint.region,
            &c.access_key,
            &c.secret_key,
            now(),
        )?;
        let req = reqwest::Request::try_from(req)
            .map_err(|e| Error::internal(format!("S3 request: {e}")))?;
        let resp = self
            .http
            .execute(req)
            .await
            .map_err(|e| transport_error(&c.name, &e))?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport_error(&c.name, &e))?;
        if status != 200 {
            return Err(s3::parse_error(status, &body, &r.bucket, None));
        }
        let p = s3::parse_list(&body)?;
        Ok(BosPage {
            entries: p.entries,
            truncated: p.truncated,
            next_key_marker: p.next_key_marker,
            next_upload_id_marker: p.next_upload_id_marker,
        })
    }
}
