//! The one HTTP client every remote backend uses: hyper's pooled HTTP/1.1 client on rustls
//! with ring (the gateway carries a single TLS implementation), trusting the platform's roots
//! through rustls-platform-verifier.
//!
//! hyper directly, not reqwest: reqwest parsed every request's URI again into a `url::Url`
//! (with IDNA) and ran it through its redirect and decompression layers, about 8 % of the
//! front's CPU at page 10 in `perf` (BENCHMARKS.md), for nothing dragoman uses. Backend
//! requests are built and signed as `http::Request`s and go out as they are.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dragoman_dialect::StreamBody;
use dragoman_model::Error;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::http1_pool::{Http1Pool, SendError};

/// Connection settings of one remote backend.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    /// Idle connections kept per host.
    pub pool_idle_per_host: usize,
    /// A PEM file of CA certificates to trust (in addition to the system's).
    pub ca_file: Option<std::path::PathBuf>,
    /// Accept any certificate: only for self-signed test clusters, and said so in the logs.
    pub insecure_skip_verify: bool,
    /// The largest answer body read from the backend; a larger one is a bad answer (502),
    /// never memory the backend chose.
    pub max_response_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            pool_idle_per_host: 32,
            ca_file: None,
            insecure_skip_verify: false,
            // A page of 1000 uploads is under 400 KB in every backend's format.
            max_response_bytes: 16 * 1024 * 1024,
        }
    }
}

/// How long an idle pooled connection is kept (reqwest's default, which dragoman had).
const POOL_IDLE: Duration = Duration::from_secs(90);

/// The most a backend connection's read buffer grows to. hyper's default (about 400 KB) let
/// each connection grow its buffer to a whole 1000-upload page and keep it while idle in the
/// pool: under 1000 connections the front peaked at 107-117 MiB at page 1000 and kept 56-61
/// after; with 64 KiB, 70 and 25 (`scripts/perf-peers --no-cpu`). A page then arrives in a
/// few more reads, which CPU per request side by side did not show (S3 -> S3 page 1000:
/// 940 / 916 µs before, 920 / 742 after).
const READ_BUFFER_MAX: usize = 64 * 1024;

/// A backend's connections. Cloning shares them. Answers read whole go through
/// [`Http1Pool`], driven by the request's own task; answers streamed to a caller through
/// hyper-util's pooled client, whose connections run as tasks of their own.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: Client<hyper_rustls::HttpsConnector<HttpConnector>, StreamBody>,
    whole: Http1Pool,
}

/// Builds the client. Installs ring as the process's rustls provider if none is yet. It never
/// follows a redirect: a backend's 3xx must not send dragoman's signed request, or a Qumulo
/// password, to another host (hyper's client has no redirects at all).
pub fn client(opts: &HttpOptions) -> Result<HttpClient, Error> {
    // Err means a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(opts.connect_timeout));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config(opts, provider)?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    let whole = Http1Pool::new(
        connector.clone(),
        opts.pool_idle_per_host,
        POOL_IDLE,
        READ_BUFFER_MAX,
    );
    let inner = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE)
        .pool_max_idle_per_host(opts.pool_idle_per_host)
        .http1_max_buf_size(READ_BUFFER_MAX)
        .build(connector);
    Ok(HttpClient { inner, whole })
}

fn tls_config(
    opts: &HttpOptions,
    provider: Arc<CryptoProvider>,
) -> Result<rustls::ClientConfig, Error> {
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("cannot set up TLS: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = if opts.insecure_skip_verify {
        tracing::warn!("TLS certificate verification is OFF for a backend (insecure_skip_verify)");
        Arc::new(AcceptAnyCertificate(provider))
    } else {
        let extra = match &opts.ca_file {
            Some(path) => ca_certificates(path)?,
            None => Vec::new(),
        };
        Arc::new(
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)
                .map_err(|e| Error::internal(format!("cannot load the trusted roots: {e}")))?,
        )
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn ca_certificates(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::internal(format!("cannot read CA file {}: {e}", path.display())))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::internal(format!("CA file {} is not PEM: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::internal(format!(
            "CA file {} holds no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// `insecure_skip_verify`: any certificate is taken, but the handshake's signatures are still
/// checked, so the connection is at least bound to the key the peer presented.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A transport failure as the caller should see it. The message, with the error's whole
/// chain, is for the log: callers see only the kind of failure.
pub fn transport_error(backend: &str, e: &(dyn std::error::Error + 'static)) -> Error {
    if timed_out(e) {
        Error::BackendTimeout
    } else if certificate_refused(e) {
        // A configuration error, not a passing fault: 502 without Retry-After, so that SDKs
        // do not retry what will fail the same way every time.
        Error::BadBackendAnswer {
            message: format!(
                "{backend}: the backend's TLS certificate is not trusted (ca_file?): {}",
                chain(e)
            ),
        }
    } else {
        Error::BackendUnavailable {
            message: format!("{backend}: {}", chain(e)),
        }
    }
}

/// An error and its sources, `: `-joined (hyper's own messages are terse: "client error
/// (Connect)"; the cause is further down).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

tokio::task_local! {
    /// The W3C `traceparent` to send with backend requests made while serving one caller's
    /// request (the gateway scopes it; it was validated there).
    pub static TRACEPARENT: String;
}

/// Whether the error chain holds a refused certificate (rustls's verifier said no).
fn certificate_refused(e: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        find_tls_error(e),
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    )
}

/// The rustls error somewhere in a chain. An `io::Error`'s `source` skips the error it
/// wraps, so those are opened with `get_ref`.
fn find_tls_error<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        return find_tls_error(inner);
    }
    e.source().and_then(find_tls_error)
}

/// Whether the chain holds a timeout: the connector's connect timeout is an `io::Error` of
/// kind `TimedOut`.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    if e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    {
        return true;
    }
    e.source().is_some_and(timed_out)
}

/// Whether a path has a `.` or `..` segment, written as such or percent-encoded. Servers and
/// URL parsers fold those, so a key or id with one would reach another resource than the one
/// named: such names are refused rather than sent.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let mut dots = 0usize;
        let mut rest = segment.as_bytes();
        while !rest.is_empty() {
            match rest {
                [b'.', tail @ ..] => rest = tail,
                [b'%', b'2', b'e' | b'E', tail @ ..] => rest = tail,
                _ => return false,
            }
            dots += 1;
        }
        matches!(dots, 1 | 2)
    })
}

/// Makes a built request ready to send: refuses a path with dot segments (see
/// [`has_dot_segment`]), and carries the caller's trace context.
pub(crate) fn prepare<B>(req: &mut ::http::Request<B>) -> Result<(), Error> {
    if has_dot_segment(req.uri().path()) {
        return Err(Error::InvalidArgument {
            name: "key".into(),
            value: String::new(),
            message: "Names with \".\" or \"..\" path segments cannot be sent to this backend"
                .into(),
        });
    }
    if let Ok(Ok(v)) = TRACEPARENT.try_with(|t| ::http::HeaderValue::from_str(t)) {
        req.headers_mut().insert("traceparent", v);
    }
    Ok(())
}

impl HttpClient {
    /// Sends a request; the answer's body streams. Transport errors are hyper's, for the
    /// caller to classify.
    pub(crate) async fn execute(
        &self,
        req: ::http::Request<StreamBody>,
    ) -> Result<::http::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
        self.inner.request(req).await
    }
}

/// Sends a request and reads the whole answer: `(status, body)`, or the transport error as
/// the caller should see it.
pub async fn send(
    client: &HttpClient,
    backend: &str,
    max_response_bytes: usize,
    req: ::http::Request<Bytes>,
) -> Result<(u16, Bytes), Error> {
    let mut req = req.map(|b| Full::new(b).map_err(|never| match never {}).boxed());
    prepare(&mut req)?;
    let whole = client
        .whole
        .send(req, max_response_bytes)
        .await
        .map_err(|e| match e {
            SendError::TooLarge(_) => Error::BadBackendAnswer {
                message: format!(
                    "{backend}: the answer is larger than max_response_bytes ({max_response_bytes})"
                ),
            },
            e => transport_error(backend, &e),
        })?;
    // Pieces are kept as they came and joined once at the end: a small answer is one piece,
    // handed on without a copy.
    let mut pieces = whole.body;
    let body = match pieces.len() {
        0 => Bytes::new(),
        1 => pieces.pop().unwrap_or_default(),
        _ => {
            let mut joined = bytes::BytesMut::with_capacity(whole.len);
            for piece in &pieces {
                joined.extend_from_slice(piece);
            }
            joined.freeze()
        }
    };
    Ok((whole.status, body))
}

/// The wall clock, for signing requests.
pub fn now() -> dragoman_model::Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    dragoman_model::Timestamp::from_nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_found_however_written() {
        for path in [
            "/b/.",
            "/b/..",
            "/b/../k",
            "/b/./k",
            "/b/%2e",
            "/b/%2E%2e/k",
            "/b/.%2E",
            "/b/k/..",
        ] {
            assert!(has_dot_segment(path), "{path}");
        }
        for path in [
            "/b/k",
            "/b/...",
            "/b/.k",
            "/b/k.",
            "/b/%2e%2e%2e",
            "/b/%2f",
            "/",
            "/b//k",
        ] {
            assert!(!has_dot_segment(path), "{path}");
        }
    }

    #[test]
    fn timeouts_and_refused_certificates_are_found_in_the_chain() {
        let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect");
        assert!(matches!(
            transport_error("b", &timeout),
            Error::BackendTimeout
        ));
        let refused = std::io::Error::other(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        ));
        assert!(matches!(
            transport_error("b", &refused),
            Error::BadBackendAnswer { .. }
        ));
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        match transport_error("b", &reset) {
            Error::BackendUnavailable { message } => assert_eq!(message, "b: reset"),
            other => panic!("{other:?}"),
        }
    }
}
