//! The dragoman server: a tower stack over hyper that detects the caller's dialect, decodes,
//! authenticates, authorizes, asks the backend, and encodes the answer in the same dialect.
//!
//! The stack, outermost first:
//!
//! ```text
//! hyper http1 connection (header read timeout, header buffer bound)
//!   -> RequestIdLayer      a request id and a debug id for every request
//!   -> ConcurrencyLimit    bounded in-flight requests
//!   -> Gateway             detect -> decode -> authenticate -> authorize -> backend -> encode
//! ```
//!
//! `Gateway` never fails: every error becomes a response in the caller's dialect, in one place
//! (`Gateway::respond`).

mod access;
mod frontend;
mod gateway;
mod request_id;
mod server;
pub mod tls;

pub use access::{Access, User};
pub use frontend::Dialect;
pub use gateway::{Gateway, GatewayConfig};
pub use request_id::{RequestId, RequestIdLayer, RequestIdService};
pub use server::{ServerConfig, serve};
