//! Backends answer canonical operations. Each backend is one way of reaching storage; the
//! gateway holds them behind `dyn Backend` and never learns which one it talks to.

mod bos;
mod embedded;
pub mod http;
mod planner;
mod qumulo;
mod router;
mod s3;

use async_trait::async_trait;
use dragoman_model::{Error, Operation, Outcome};

pub use bos::{BosBackend, BosBackendConfig, BosTransport, HttpBos};
pub use embedded::EmbeddedBackend;
pub use planner::Planner;
pub use qumulo::{HttpQumulo, QumuloAuth, QumuloBackend, QumuloBackendConfig, QumuloTransport};
pub use router::{Route, Router};
pub use s3::{HttpS3, S3Backend, S3BackendConfig, s3_backend};

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// A short name for logs and metrics (`embedded`, `s3:<name>`, …).
    fn name(&self) -> &str;

    /// Answers one canonical operation. Errors are canonical errors, never panics.
    async fn execute(&self, op: Operation) -> Result<Outcome, Error>;
}
