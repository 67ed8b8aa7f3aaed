//! Backend connections for the answers dragoman reads whole (listings, creates, aborts): a
//! pool of hyper HTTP/1 connections, each driven by the task of the request using it.
//!
//! hyper-util's pooled client runs every connection as a task of its own and hands each
//! request to it over a channel, its answer back over another; it keys its pool by a hashed
//! (scheme, authority) several times per request. For a 10-upload page that was about a
//! fifth of the front's instructions besides the crypto (`tests/load/peers.py --instructions`,
//! BENCHMARKS.md, ninth round). A request that reads its answer whole can drive the
//! connection itself while it waits, so here the request's task polls the connection, the
//! pool is a short list scanned by authority, and a connection goes back to it only once its
//! answer has been read and it is idle again. Answers that stream to a caller (forwarding)
//! outlive the request's task and keep using the pooled client in `http.rs`.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dragoman_dialect::StreamBody;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Request, Response, Uri};
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tower::{BoxError, ServiceExt};

type Io = MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;

/// One open connection: the half that sends requests and the half that does the I/O.
struct Conn {
    sender: http1::SendRequest<StreamBody>,
    driver: http1::Connection<Io, StreamBody>,
}

impl Conn {
    /// Whether the server closed (or broke) the connection while it sat idle. Polls it once
    /// without a waker of interest: an idle connection that is still open just stays pending.
    fn is_dead(&mut self) -> bool {
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        matches!(self.driver.poll_without_shutdown(&mut cx), Poll::Ready(_))
            || !self.sender.is_ready()
    }
}

/// An idle connection. Boxed: hyper's connection state is large, and a connection moves
/// in and out of the list once per request.
struct Idle {
    scheme: Scheme,
    authority: Authority,
    since: Instant,
    conn: Box<Conn>,
}

impl Idle {
    fn is_for(&self, scheme: &Scheme, authority: &Authority) -> bool {
        self.authority == *authority && self.scheme == *scheme
    }

    /// Whether it may serve another request: within its idle time and still open.
    fn is_usable(&mut self, now: Instant, idle_timeout: Duration) -> bool {
        now.duration_since(self.since) < idle_timeout && !self.conn.is_dead()
    }
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    #[error("the request has no scheme or host: {0}")]
    NoAuthority(Uri),
    #[error("connect")]
    Connect(#[source] BoxError),
    #[error(transparent)]
    Http(#[from] hyper::Error),
    #[error("the connection closed before the answer was complete")]
    Closed,
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
}

/// A whole answer: its status, and its body's pieces as they came.
pub(crate) struct Whole {
    pub status: u16,
    pub body: Vec<Bytes>,
    pub len: usize,
}

/// Connections of one backend. Cloning shares them.
#[derive(Clone)]
pub(crate) struct Http1Pool {
    inner: Arc<Inner>,
}

struct Inner {
    connector: HttpsConnector<HttpConnector>,
    idle: Mutex<Vec<Idle>>,
    max_idle: usize,
    idle_timeout: Duration,
    read_buffer_max: usize,
}

impl std::fmt::Debug for Http1Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http1Pool")
            .field("max_idle", &self.inner.max_idle)
            .finish_non_exhaustive()
    }
}

impl Http1Pool {
    pub(crate) fn new(
        connector: HttpsConnector<HttpConnector>,
        max_idle: usize,
        idle_timeout: Duration,
        read_buffer_max: usize,
    ) -> Self {
        let pool = Self {
            inner: Arc::new(Inner {
                connector,
                idle: Mutex::new(Vec::new()),
                max_idle,
                idle_timeout,
                read_buffer_max,
            }),
        };
        pool.reap_in_background();
        pool
    }

    /// Closes idle connections past their time, or closed by the server, now and then, so
    /// that a quiet backend is not left with sockets half closed. Ends with the pool.
    fn reap_in_background(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime (a unit test building a client): connections are reaped on use
        };
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let every = (self.inner.idle_timeout / 2).max(Duration::from_secs(1));
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let now = Instant::now();
                let mut idle = inner.idle.lock().unwrap_or_else(PoisonError::into_inner);
                idle.retain_mut(|i| i.is_usable(now, inner.idle_timeout));
            }
        });
    }

    /// An idle connection to `scheme://authority` that is still open, the most recently
    /// used first (its buffers are warm, and the oldest age out).
    fn take_idle(&self, scheme: &Scheme, authority: &Authority) -> Option<Box<Conn>> {
        let now = Instant::now();
        let mut idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while let Some(at) = idle.iter().rposition(|i| i.is_for(scheme, authority)) {
            let mut found = idle.swap_remove(at);
            if found.is_usable(now, self.inner.idle_timeout) {
                return Some(found.conn);
            }
        }
        None
    }

    fn put_idle(&self, scheme: Scheme, authority: Authority, conn: Box<Conn>) {
        let mut idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let same = idle
            .iter()
            .filter(|i| i.is_for(&scheme, &authority))
            .count();
        if same >= self.inner.max_idle {
            return; // dropped: closed
        }
        idle.push(Idle {
            scheme,
            authority,
            since: Instant::now(),
            conn,
        });
    }

    async fn connect(&self, uri: Uri) -> Result<Box<Conn>, SendError> {
        let io = self
            .inner
            .connector
            .clone()
            .oneshot(uri)
            .await
            .map_err(SendError::Connect)?;
        let (sender, driver) = http1::Builder::new()
            .max_buf_size(self.inner.read_buffer_max)
            .handshake(io)
            .await?;
        Ok(Box::new(Conn { sender, driver }))
    }

    /// Sends `req` (an absolute URI) and reads the whole answer, at most `max_body` bytes.
    pub(crate) async fn send(
        &self,
        mut req: Request<StreamBody>,
        max_body: usize,
    ) -> Result<Whole, SendError> {
        let (scheme, authority) = match (req.uri().scheme(), req.uri().authority()) {
            (Some(s), Some(a)) => (s.clone(), a.clone()),
            _ => return Err(SendError::NoAuthority(req.uri().clone())),
        };
        let target = req.uri().clone();
        to_origin_form(&mut req, &scheme, &authority);
        let mut conn = match self.take_idle(&scheme, &authority) {
            Some(conn) => conn,
            None => self.connect(target.clone()).await?,
        };
        let resp = match exchange(&mut conn, req).await {
            Ok(resp) => resp,
            // The server closed a reused connection before the request went out: nothing was
            // sent, so it is sent again on a new one (hyper-util's client does the same).
            Err(Exchange::Unsent(req)) => {
                conn = self.connect(target).await?;
                match exchange(&mut conn, req).await {
                    Ok(resp) => resp,
                    Err(Exchange::Unsent(_)) => return Err(SendError::Closed),
                    Err(Exchange::Failed(e)) => return Err(e),
                }
            }
            Err(Exchange::Failed(e)) => return Err(e),
        };
        let status = resp.status().as_u16();
        let declared = resp
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max_body as u64) {
            return Err(SendError::TooLarge(max_body));
        }
        let (body, len) = read_whole(&mut conn, resp.into_body(), max_body).await?;
        if keeps_alive(&mut conn).await {
            self.put_idle(scheme, authority, conn);
        }
        Ok(Whole { status, body, len })
    }
}

/// HTTP/1 sends the path and query; the host goes in `Host`, its port only when it is not
/// the scheme's default (as hyper-util's client writes it, and as the request was signed).
fn to_origin_form(req: &mut Request<StreamBody>, scheme: &Scheme, authority: &Authority) {
    if !req.headers().contains_key(http::header::HOST) {
        let default_port = if *scheme == Scheme::HTTPS { 443 } else { 80 };
        let host = match authority.port_u16() {
            Some(p) if p != default_port => HeaderValue::from_str(authority.as_str()),
            _ => HeaderValue::from_str(authority.host()),
        };
        if let Ok(host) = host {
            req.headers_mut().insert(http::header::HOST, host);
        }
    }
    let path = req
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    *req.uri_mut() = Uri::from(path);
}

enum Exchange {
    /// The connection closed before the request was written: it can go again.
    Unsent(Request<StreamBody>),
    Failed(SendError),
}

/// Writes the request and waits for the answer's head, driving the connection meanwhile.
async fn exchange(
    conn: &mut Conn,
    req: Request<StreamBody>,
) -> Result<Response<Incoming>, Exchange> {
    let Conn { sender, driver } = conn;
    let mut answer = pin!(sender.try_send_request(req));
    let mut driver_done = false;
    let result = poll_fn(|cx| {
        if !driver_done {
            match driver.poll_without_shutdown(cx) {
                Poll::Ready(Ok(())) => driver_done = true,
                Poll::Ready(Err(e)) => {
                    // The error also fails the answer; its request comes back if unsent.
                    driver_done = true;
                    if let Poll::Ready(r) = answer.as_mut().poll(cx) {
                        return Poll::Ready(r.map(Ok));
                    }
                    return Poll::Ready(Ok(Err(SendError::Http(e))));
                }
                Poll::Pending => {}
            }
        }
        match answer.as_mut().poll(cx) {
            Poll::Ready(r) => Poll::Ready(r.map(Ok)),
            // The connection ended and the answer never will: no one drives it any more.
            Poll::Pending if driver_done => Poll::Ready(Ok(Err(SendError::Closed))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await;
    match result {
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(e)) => Err(Exchange::Failed(e)),
        Err(mut e) => match e.take_message() {
            Some(req) => Err(Exchange::Unsent(req)),
            None => Err(Exchange::Failed(SendError::Http(e.into_error()))),
        },
    }
}

/// Reads the body whole, driving the connection, at most `max` bytes.
async fn read_whole(
    conn: &mut Conn,
    mut body: Incoming,
    max: usize,
) -> Result<(Vec<Bytes>, usize), SendError> {
    let (mut pieces, mut len) = (Vec::new(), 0usize);
    let mut driver_done = false;
    poll_fn(|cx| {
        loop {
            match std::pin::Pin::new(&mut body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    // Trailers carry nothing dragoman reads.
                    if let Ok(chunk) = frame.into_data() {
                        len += chunk.len();
                        if len > max {
                            return Poll::Ready(Err(SendError::TooLarge(max)));
                        }
                        pieces.push(chunk);
                    }
                    continue;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(SendError::Http(e))),
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => {}
            }
            if driver_done {
                return Poll::Ready(Err(SendError::Closed));
            }
            match conn.driver.poll_without_shutdown(cx) {
                // Ended: what it read is in the body now, or never will be.
                Poll::Ready(Ok(())) => driver_done = true,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(SendError::Http(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await?;
    Ok((pieces, len))
}

/// Drives the connection past the end of the answer: whether it is idle and reusable (not
/// closed by either side, e.g. after `Connection: close`).
async fn keeps_alive(conn: &mut Conn) -> bool {
    poll_fn(|cx| match conn.driver.poll_without_shutdown(cx) {
        Poll::Ready(_) => Poll::Ready(false),
        Poll::Pending => Poll::Ready(conn.sender.is_ready()),
    })
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failure is the test failing

    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body_util::{BodyExt, Full};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    fn pool() -> Http1Pool {
        pool_idle_for(Duration::from_secs(90))
    }

    fn pool_idle_for(idle_timeout: Duration) -> Http1Pool {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Http1Pool::new(connector, 4, idle_timeout, 64 * 1024)
    }

    fn idle_count(pool: &Http1Pool) -> usize {
        pool.inner.idle.lock().unwrap().len()
    }

    fn get(uri: &str) -> Request<StreamBody> {
        Request::get(uri)
            .body(
                Full::new(Bytes::new())
                    .map_err(|never| match never {})
                    .boxed(),
            )
            .unwrap()
    }

    /// A server that answers each request with `answer(n)` (n counts requests), records the
    /// request heads, counts connections, and closes a connection after `per_conn` answers.
    async fn server(
        per_conn: usize,
        answer: fn(usize) -> Vec<u8>,
    ) -> (u16, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (conns, heads) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(Mutex::new(Vec::new())),
        );
        let (c, h) = (Arc::clone(&conns), Arc::clone(&heads));
        let served = Arc::new(AtomicUsize::new(0));
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                c.fetch_add(1, Ordering::SeqCst);
                let (h, served) = (Arc::clone(&h), Arc::clone(&served));
                tokio::spawn(async move {
                    for _ in 0..per_conn {
                        let mut buf = Vec::new();
                        while !buf.ends_with(b"\r\n\r\n") {
                            let mut byte = [0u8; 1];
                            if sock.read(&mut byte).await.unwrap_or(0) == 0 {
                                return;
                            }
                            buf.push(byte[0]);
                        }
                        h.lock().unwrap().push(String::from_utf8(buf).unwrap());
                        let n = served.fetch_add(1, Ordering::SeqCst);
                        if sock.write_all(&answer(n)).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (port, conns, heads)
    }

    fn ok(n: usize) -> Vec<u8> {
        let body = format!("answer {n}");
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn body_text(w: &Whole) -> String {
        w.body.iter().map(|b| String::from_utf8_lossy(b)).collect()
    }

    #[tokio::test]
    async fn answers_reuse_one_connection_in_origin_form_with_the_host() {
        let (port, conns, heads) = server(usize::MAX, ok).await;
        let pool = pool();
        for n in 0..5 {
            let w = pool
                .send(get(&format!("http://127.0.0.1:{port}/bkt?uploads")), 1024)
                .await
                .unwrap();
            assert_eq!((w.status, body_text(&w)), (200, format!("answer {n}")));
        }
        assert_eq!(conns.load(Ordering::SeqCst), 1);
        let heads = heads.lock().unwrap();
        assert!(
            heads[0].starts_with("GET /bkt?uploads HTTP/1.1\r\n"),
            "{}",
            heads[0]
        );
        assert!(
            heads[0].contains(&format!("host: 127.0.0.1:{port}\r\n")),
            "{}",
            heads[0]
        );
    }

    #[tokio::test]
    async fn a_connection_the_server_closes_is_not_reused() {
        // One answer per connection, the close said in the answer or not at all.
        let (port, conns, _) = server(1, |n| {
            if n % 2 == 0 {
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".to_vec()
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()
            }
        })
        .await;
        let pool = pool();
        for _ in 0..6 {
            let uri = format!("http://127.0.0.1:{port}/b");
            let w = pool.send(get(&uri), 1024).await.unwrap();
            assert_eq!(body_text(&w), "ok");
            // The server's close reaches this side before the next request.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(conns.load(Ordering::SeqCst), 6);
    }

    #[tokio::test]
    async fn answers_past_the_bound_are_refused_declared_or_chunked() {
        let (port, _, _) = server(usize::MAX, |n| {
            if n == 0 {
                b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n".to_vec()
            } else {
                let chunk = "x".repeat(600);
                format!(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
                )
                .into_bytes()
            }
        })
        .await;
        let pool = pool();
        let uri = format!("http://127.0.0.1:{port}/b");
        for _ in 0..2 {
            match pool.send(get(&uri), 1024).await {
                Err(SendError::TooLarge(1024)) => {}
                other => panic!("{:?}", other.map(|w| w.len)),
            }
        }
        // Within the bound, a chunked answer is joined whole.
        let w = pool.send(get(&uri), 2048).await.unwrap();
        assert_eq!(w.len, 1200);
    }

    #[tokio::test]
    async fn a_closed_port_and_a_missing_host_are_errors_not_hangs() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let pool = pool();
        let err = pool
            .send(get(&format!("http://127.0.0.1:{port}/b")), 1024)
            .await
            .err()
            .unwrap();
        assert!(matches!(err, SendError::Connect(_)), "{err}");
        let err = pool.send(get("/b"), 1024).await.err().unwrap();
        assert!(matches!(err, SendError::NoAuthority(_)), "{err}");
    }

    #[tokio::test]
    async fn an_answer_cut_short_is_an_error() {
        let (port, _, _) = server(1, |_| {
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort".to_vec()
        })
        .await;
        let err = pool()
            .send(get(&format!("http://127.0.0.1:{port}/b")), 1024)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(err, SendError::Http(_) | SendError::Closed),
            "{err}"
        );
    }

    #[tokio::test]
    async fn idle_connections_past_their_time_are_closed_without_a_request() {
        // A quiet backend is not left holding sockets: the background reaper closes an idle
        // connection once it has been idle for the pool's idle timeout, with no new request.
        let (port, conns, _) = server(usize::MAX, ok).await;
        let pool = pool_idle_for(Duration::from_secs(1));
        let uri = format!("http://127.0.0.1:{port}/b");
        pool.send(get(&uri), 1024).await.unwrap();
        assert_eq!(idle_count(&pool), 1);
        let deadline = Instant::now() + Duration::from_secs(5);
        while idle_count(&pool) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(idle_count(&pool), 0);
        // The next request opens a new connection and is served.
        let w = pool.send(get(&uri), 1024).await.unwrap();
        assert_eq!(body_text(&w), "answer 1");
        assert_eq!(conns.load(Ordering::SeqCst), 2);
    }
}
