//! The one HTTP client stack every remote backend uses: reqwest on rustls with ring, so the
//! gateway carries a single TLS implementation.

use std::time::Duration;

use dragoman_model::Error;

/// Connection settings of one remote backend.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// How long one backend request may take, connection included. `None`: no bound here
    /// (the outbound stack's timeout bounds each try).
    pub timeout: Option<Duration>,
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
            timeout: None,
            connect_timeout: Duration::from_secs(5),
            pool_idle_per_host: 32,
            ca_file: None,
            insecure_skip_verify: false,
            // A page of 1000 uploads is under 400 KB in every backend's format.
            max_response_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Builds the client. Installs ring as the process's rustls provider if none is yet.
pub fn client(opts: &HttpOptions) -> Result<reqwest::Client, Error> {
    // Err means a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = reqwest::Client::builder()
        // Never follow a redirect: a backend's 3xx must not send dragoman's signed request,
        // or a Qumulo password, to another host.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(opts.connect_timeout)
        .pool_max_idle_per_host(opts.pool_idle_per_host)
        .no_proxy();
    if let Some(t) = opts.timeout {
        b = b.timeout(t);
    }
    if let Some(path) = &opts.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| Error::internal(format!("cannot read CA file {}: {e}", path.display())))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| Error::internal(format!("CA file {} is not PEM: {e}", path.display())))?
        {
            b = b.tls_certs_merge([cert]);
        }
    }
    if opts.insecure_skip_verify {
        tracing::warn!("TLS certificate verification is OFF for a backend (insecure_skip_verify)");
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build()
        .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))
}

/// A transport failure as the caller should see it.
pub fn transport_error(backend: &str, e: &reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::BackendTimeout
    } else if certificate_refused(e) {
        // A configuration error, not a passing fault: 502 without Retry-After, so that SDKs
        // do not retry what will fail the same way every time.
        Error::BadBackendAnswer {
            message: format!(
                "{backend}: the backend's TLS certificate is not trusted (ca_file?): {e:?}"
            ),
        }
    } else {
        Error::BackendUnavailable {
            message: format!("{backend}: {e}"),
        }
    }
}

tokio::task_local! {
    /// The W3C `traceparent` to send with backend requests made while serving one caller's
    /// request (the gateway scopes it; it was validated there).
    pub static TRACEPARENT: String;
}

/// Whether the error chain holds a refused certificate (rustls's verifier said no).
fn certificate_refused(e: &reqwest::Error) -> bool {
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

/// Makes a built request ready to send: refuses a URL the parser changed (it folds `.` and
/// `..` segments and their percent-encoded forms, so a key or id that has them would reach
/// another resource than the one named), and carries the caller's trace context.
pub(crate) fn prepare(req: &mut reqwest::Request, meant: &str) -> Result<(), Error> {
    if req.url().path() != meant {
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

/// Sends a request and reads the whole answer: `(status, body)`, or the transport error as
/// the caller should see it.
pub async fn send(
    client: &reqwest::Client,
    backend: &str,
    max_response_bytes: usize,
    req: ::http::Request<bytes::Bytes>,
) -> Result<(u16, bytes::Bytes), Error> {
    let meant = req.uri().path().to_owned();
    let mut req = reqwest::Request::try_from(req)
        .map_err(|e| Error::internal(format!("{backend}: cannot send the request: {e}")))?;
    prepare(&mut req, &meant)?;
    let mut resp = client
        .execute(req)
        .await
        .map_err(|e| transport_error(backend, &e))?;
    let status = resp.status().as_u16();
    let too_large = || Error::BadBackendAnswer {
        message: format!(
            "{backend}: the answer is larger than max_response_bytes ({max_response_bytes})"
        ),
    };
    if resp
        .content_length()
        .is_some_and(|n| n > max_response_bytes as u64)
    {
        return Err(too_large());
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| transport_error(backend, &e))?
    {
        if body.len() + chunk.len() > max_response_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body.freeze()))
}

/// The wall clock, for signing requests.
pub fn now() -> dragoman_model::Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    dragoman_model::Timestamp::from_nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
}
