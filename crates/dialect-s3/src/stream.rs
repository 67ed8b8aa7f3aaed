//! Bodies checked as they stream: a body whose SHA-256 the signature covers, and an
//! aws-chunked body whose every chunk is signed ("Signature Calculations for the
//! Authorization Header: Transferring Payload in Multiple Chunks", AWS S3 API reference).
//!
//! Both fail the stream before a backend could see the body complete: the digest body holds
//! back its last frame until the digest matches, and the chunked body releases a chunk only
//! once its signature holds. Written by hand: no crate verifies aws-chunked signatures as a
//! stream (`aws-sigv4` signs chunks; `s3s` verifies them only inside its own server).

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use aws_sigv4::sign::v4::calculate_signature;
use bytes::{Buf, Bytes, BytesMut};
use dragoman_dialect::StreamBody;
use dragoman_model::{Error, SignatureMismatch};
use http_body::{Body, Frame, SizeHint};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::canonical::EMPTY_SHA256;
/// A chunk header (`<hex size>;chunk-signature=<64 hex>` and CRLF) is about 90 bytes.
const MAX_CHUNK_HEADER: usize = 4096;
/// The largest chunk held for verification. The SDKs send 64 KiB (Go, JavaScript) or
/// 128 KiB (Java); a larger chunk would be memory the caller chose.
pub const MAX_CHUNK: usize = 8 * 1024 * 1024;

fn boxed(e: Error) -> dragoman_dialect::forward::BoxError {
    Box::new(e)
}

fn incomplete(message: &str) -> Error {
    Error::InvalidRequest {
        message: format!("The aws-chunked body is malformed: {message}"),
    }
}

/// A body whose SHA-256 must equal the digest the caller signed.
pub struct DigestBody {
    inner: StreamBody,
    hasher: Sha256,
    expected: String,
    /// The newest frame, released once the next one arrives or the digest matches.
    held: Option<Bytes>,
    done: bool,
}

impl DigestBody {
    pub fn new(inner: StreamBody, expected: &str) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            expected: expected.to_ascii_lowercase(),
            held: None,
            done: false,
        }
    }
}

impl Body for DigestBody {
    type Data = Bytes;
    type Error = dragoman_dialect::forward::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(this.held.take().map(|b| Ok(Frame::data(b))));
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if data.is_empty() {
                        continue;
                    }
                    this.hasher.update(&data);
                    if let Some(previous) = this.held.replace(data) {
                        return Poll::Ready(Some(Ok(Frame::data(previous))));
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    let computed = const_hex::encode(std::mem::take(&mut this.hasher).finalize());
                    this.done = true;
                    if computed != this.expected {
                        this.held = None;
                        return Poll::Ready(Some(Err(boxed(Error::ContentHashMismatch {
                            claimed: this.expected.clone(),
                            computed,
                        }))));
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.held.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What the chunk signatures chain from: the seed (the head's signature) and its scope.
#[derive(Clone)]
pub struct ChunkChain {
    pub signing_key: Vec<u8>,
    pub amz_date: String,
    pub scope: String,
    pub seed_signature: String,
    pub access_key: String,
}

impl std::fmt::Debug for ChunkChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkChain")
            .field("scope", &self.scope)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

enum State {
    Header,
    Data { len: usize, signature: String },
    Done,
}

/// An aws-chunked body with signed chunks (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`), yielding
/// the decoded bytes of each chunk once its signature holds.
pub struct SignedChunks {
    inner: StreamBody,
    inner_done: bool,
    buf: BytesMut,
    chain: ChunkChain,
    previous: String,
    state: State,
    decoded: u64,
    declared: u64,
}

impl SignedChunks {
    pub fn new(inner: StreamBody, chain: ChunkChain, declared: u64) -> Self {
        let previous = chain.seed_signature.clone();
        Self {
            inner,
            inner_done: false,
            buf: BytesMut::new(),
            chain,
            previous,
            state: State::Header,
            decoded: 0,
            declared,
        }
    }

    /// Moves the state machine on with what is buffered: `Ok(Some(chunk))` for a verified
    /// chunk, `Ok(None)` when more bytes are needed or the body ended.
    fn step(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            match &self.state {
                State::Done => return Ok(None),
                State::Header => {
                    let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                        if self.buf.len() > MAX_CHUNK_HEADER {
                            return Err(incomplete("a chunk header is too long"));
                        }
                        return Ok(None);
                    };
                    let line = self.buf.split_to(end + 2);
                    let line = std::str::from_utf8(&line[..end])
                        .map_err(|_| incomplete("a chunk header is not text"))?;
                    let (size, ext) = line
                        .split_once(';')
                        .ok_or_else(|| incomplete("a chunk has no signature"))?;
                    let signature = ext
                        .strip_prefix("chunk-signature=")
                        .ok_or_else(|| incomplete("a chunk has no signature"))?;
                    let len = usize::from_str_radix(size, 16)
                        .map_err(|_| incomplete("a chunk size is not hexadecimal"))?;
                    if len > MAX_CHUNK {
                        return Err(incomplete("a chunk is larger than 8 MiB"));
                    }
                    self.state = State::Data {
                        len,
                        signature: signature.to_owned(),
                    };
                }
                State::Data { len, signature } => {
                    let len = *len;
                    if self.buf.len() < len + 2 {
                        return Ok(None);
                    }
                    let data = self.buf.split_to(len).freeze();
                    if &self.buf[..2] != b"\r\n" {
                        return Err(incomplete("a chunk does not end where its size says"));
                    }
                    self.buf.advance(2);
                    let signature = signature.clone();
                    self.verify(&data, &signature)?;
                    self.previous = signature;
                    if len == 0 {
                        self.state = State::Done;
                        if self.decoded != self.declared {
                            return Err(incomplete(
                                "the chunks do not add up to x-amz-decoded-content-length",
                            ));
                        }
                        return Ok(None);
                    }
                    self.decoded += len as u64;
                    if self.decoded > self.declared {
                        return Err(incomplete(
                            "the chunks are longer than x-amz-decoded-content-length",
                        ));
                    }
                    self.state = State::Header;
                    return Ok(Some(data));
                }
            }
        }
    }

    fn verify(&self, data: &[u8], signature: &str) -> Result<(), Error> {
        let c = &self.chain;
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}",
            c.amz_date,
            c.scope,
            self.previous,
            const_hex::encode(Sha256::digest(data))
        );
        let expected = calculate_signature(&c.signing_key, string_to_sign.as_bytes());
        if bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            Ok(())
        } else {
            Err(Error::SignatureDoesNotMatch(Box::new(SignatureMismatch {
                access_key: c.access_key.clone(),
                string_to_sign,
                signature_provided: signature.to_owned(),
                canonical_request: String::new(),
            })))
        }
    }
}

impl Body for SignedChunks {
    type Data = Bytes;
    type Error = dragoman_dialect::forward::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        loop {
            match this.step() {
                Err(e) => {
                    this.state = State::Done;
                    return Poll::Ready(Some(Err(boxed(e))));
                }
                Ok(Some(chunk)) => return Poll::Ready(Some(Ok(Frame::data(chunk)))),
                Ok(None) if matches!(this.state, State::Done) => return Poll::Ready(None),
                Ok(None) if this.inner_done => {
                    this.state = State::Done;
                    return Poll::Ready(Some(Err(boxed(incomplete(
                        "the body ended before its final chunk",
                    )))));
                }
                Ok(None) => {}
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        this.buf.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => this.inner_done = true,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.declared.saturating_sub(self.decoded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sigv4::sign::v4::generate_signing_key;
    use http_body_util::BodyExt;
    use std::time::{Duration, UNIX_EPOCH};

    /// The example of the AWS S3 API reference ("Example: PUT Object" with chunked upload):
    /// 65 KiB of `a` in chunks of 64 KiB and 1 KiB, then the final chunk.
    fn example_chain() -> ChunkChain {
        let when = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24
        let key = generate_signing_key(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            when,
            "us-east-1",
            "s3",
        );
        ChunkChain {
            signing_key: key.as_ref().to_vec(),
            amz_date: "20130524T000000Z".into(),
            scope: "20130524/us-east-1/s3/aws4_request".into(),
            seed_signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
                .into(),
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
        }
    }

    fn example_body() -> Vec<u8> {
        let mut body = Vec::new();
        let chunks: [(usize, &str); 3] = [
            (
                65536,
                "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            ),
            (
                1024,
                "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            ),
            (
                0,
                "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
            ),
        ];
        for (len, sig) in chunks {
            body.extend_from_slice(format!("{len:x};chunk-signature={sig}\r\n").as_bytes());
            body.extend(std::iter::repeat_n(b'a', len));
            body.extend_from_slice(b"\r\n");
        }
        body
    }

    /// Feeds `body` in frames of `step` bytes.
    fn framed(body: Vec<u8>, step: usize) -> StreamBody {
        let frames: Vec<Result<Frame<Bytes>, dragoman_dialect::forward::BoxError>> = body
            .chunks(step)
            .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
            .collect();
        http_body_util::StreamBody::new(futures_util::stream::iter(frames)).boxed()
    }

    async fn collect(
        body: impl Body<Data = Bytes, Error = dragoman_dialect::forward::BoxError>,
    ) -> Result<Vec<u8>, Error> {
        match body.collect().await {
            Ok(c) => Ok(c.to_bytes().to_vec()),
            Err(e) => Err(*e.downcast::<Error>().unwrap_or_else(|e| panic!("{e}"))),
        }
    }

    #[tokio::test]
    async fn the_aws_example_decodes_however_it_is_framed() {
        for step in [1, 7, 100, 4096, 70_000] {
            let body = SignedChunks::new(framed(example_body(), step), example_chain(), 66560);
            let out = collect(body)
                .await
                .unwrap_or_else(|e| panic!("{step}: {e}"));
            assert_eq!(out.len(), 66560);
            assert!(out.iter().all(|b| *b == b'a'));
        }
    }

    #[tokio::test]
    async fn a_tampered_chunk_fails_before_its_bytes_are_released() {
        let mut tampered = example_body();
        let at = tampered.len() - 200; // inside the 1 KiB chunk
        tampered[at] = b'b';
        let mut body = SignedChunks::new(framed(tampered, 4096), example_chain(), 66560);
        let mut released = 0;
        let err = loop {
            match body.frame().await {
                Some(Ok(f)) => released += f.into_data().map_or(0, |d| d.len()),
                Some(Err(e)) => break e,
                None => panic!("a tampered body ended cleanly"),
            }
        };
        assert_eq!(released, 65536, "only the first, intact chunk may pass");
        assert!(matches!(
            err.downcast_ref::<Error>(),
            Some(Error::SignatureDoesNotMatch(_))
        ));
    }

    #[tokio::test]
    async fn truncated_reordered_and_mislabelled_bodies_fail() {
        let full = example_body();
        let truncated = full[..full.len() - 100].to_vec();
        let err = collect(SignedChunks::new(
            framed(truncated, 512),
            example_chain(),
            66560,
        ))
        .await;
        assert!(matches!(err, Err(Error::InvalidRequest { .. })), "{err:?}");
        let wrong_length = collect(SignedChunks::new(
            framed(full.clone(), 512),
            example_chain(),
            66561,
        ))
        .await;
        assert!(
            matches!(wrong_length, Err(Error::InvalidRequest { .. })),
            "{wrong_length:?}"
        );
        let mut other_seed = example_chain();
        other_seed.seed_signature = "0".repeat(64);
        let err = collect(SignedChunks::new(framed(full, 512), other_seed, 66560)).await;
        assert!(matches!(err, Err(Error::SignatureDoesNotMatch(_))));
        let huge = format!("{:x};chunk-signature={}\r\n", MAX_CHUNK + 1, "0".repeat(64));
        let err = collect(SignedChunks::new(
            framed(huge.into_bytes(), 512),
            example_chain(),
            1,
        ))
        .await;
        assert!(matches!(err, Err(Error::InvalidRequest { .. })));
    }

    #[tokio::test]
    async fn a_digest_body_passes_when_it_matches_and_fails_before_its_end_otherwise() {
        let data = b"hello, streamed world".repeat(1000);
        let good = const_hex::encode(Sha256::digest(&data));
        let out = collect(DigestBody::new(
            framed(data.clone(), 333),
            &good.to_uppercase(),
        ))
        .await;
        assert_eq!(out.as_deref().ok(), Some(&data[..]));
        let mut body = DigestBody::new(framed(data.clone(), 333), &"0".repeat(64));
        let mut released = 0;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => released += f.into_data().map_or(0, |d| d.len()),
                Err(e) => {
                    assert!(matches!(
                        e.downcast_ref::<Error>(),
                        Some(Error::ContentHashMismatch { .. })
                    ));
                    assert!(released < data.len(), "the last bytes are held back");
                    return;
                }
            }
        }
        panic!("a body with the wrong digest ended cleanly");
    }
}
