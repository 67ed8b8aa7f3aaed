//! The outbound form of a body dragoman proved as it streamed: aws-chunked with an unsigned
//! payload and a CRC32 checksum trailer (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, "Using
//! trailing checksums" in the S3 user guide). The final chunk and the trailer are written
//! only once the caller's whole body has passed its proof, so a backend can complete the
//! object only from a body that did: a stream cut short (a tampered chunk, a wrong digest, a
//! caller gone) ends without them, and S3 refuses an aws-chunked body without its end. A
//! plain body would not do: a backend that takes a short body at a closed connection (as
//! LocalStack does) would store its first part.
//!
//! Chunks are a fixed size, so the encoded length is known before the first byte is sent.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use dragoman_dialect::StreamBody;
use dragoman_dialect::forward::BoxError;
use http_body::{Body, Frame, SizeHint};

/// The data bytes of every chunk but the last.
pub const CHUNK: usize = 64 * 1024;
/// The trailer's header name, for `x-amz-trailer`.
pub const TRAILER: &str = "x-amz-checksum-crc32";

/// The encoded length of `decoded` bytes: each chunk's size line, data and CRLF, the final
/// chunk, the trailer (a CRC32 is 8 base64 characters) and the closing CRLF.
pub fn encoded_length(decoded: u64) -> u64 {
    let chunk = CHUNK as u64;
    let framed = |len: u64| format!("{len:x}").len() as u64 + 2 + len + 2;
    let (full, rest) = (decoded / chunk, decoded % chunk);
    let mut total = full * framed(chunk);
    if rest > 0 {
        total += framed(rest);
    }
    total + 3 + (TRAILER.len() as u64 + 1 + 8 + 2) + 2
}

pub struct Rechunked {
    inner: StreamBody,
    pending: BytesMut,
    crc: crc32fast::Hasher,
    remaining: u64,
    done: bool,
}

impl Rechunked {
    pub fn new(inner: StreamBody, decoded: u64) -> Self {
        Self {
            inner,
            pending: BytesMut::with_capacity(CHUNK),
            crc: crc32fast::Hasher::new(),
            remaining: encoded_length(decoded),
            done: false,
        }
    }

    fn emit(&mut self, out: BytesMut) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.remaining = self.remaining.saturating_sub(out.len() as u64);
        Poll::Ready(Some(Ok(Frame::data(out.freeze()))))
    }
}

fn frame_into(out: &mut BytesMut, data: &[u8]) {
    out.put_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

impl Body for Rechunked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if this.pending.len() >= CHUNK {
                let data = this.pending.split_to(CHUNK);
                let mut out = BytesMut::with_capacity(CHUNK + 16);
                frame_into(&mut out, &data);
                return this.emit(out);
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        this.crc.update(&data);
                        this.pending.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    // The proof held: the rest, the final chunk and the checksum.
                    this.done = true;
                    let rest = std::mem::take(&mut this.pending);
                    let mut out = BytesMut::with_capacity(rest.len() + 64);
                    if !rest.is_empty() {
                        frame_into(&mut out, &rest);
                    }
                    let crc = std::mem::take(&mut this.crc).finalize();
                    let b64 = base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes());
                    out.put_slice(format!("0\r\n{TRAILER}:{b64}\r\n\r\n").as_bytes());
                    return this.emit(out);
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn body_of(data: &[u8], step: usize) -> StreamBody {
        let frames: Vec<Result<Frame<Bytes>, BoxError>> = data
            .chunks(step.max(1))
            .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
            .collect();
        http_body_util::StreamBody::new(futures_util::stream::iter(frames)).boxed()
    }

    /// Decodes aws-chunked the way a backend does, returning the data and the trailer.
    fn decode(mut enc: &[u8]) -> (Vec<u8>, String) {
        let mut data = Vec::new();
        loop {
            let end = enc
                .windows(2)
                .position(|w| w == b"\r\n")
                .unwrap_or_else(|| panic!("size line"));
            let len = usize::from_str_radix(std::str::from_utf8(&enc[..end]).unwrap_or("x"), 16)
                .unwrap_or_else(|e| panic!("{e}"));
            enc = &enc[end + 2..];
            if len == 0 {
                let trailer = std::str::from_utf8(enc).unwrap_or_default().to_owned();
                return (data, trailer);
            }
            data.extend_from_slice(&enc[..len]);
            assert_eq!(&enc[len..len + 2], b"\r\n");
            enc = &enc[len + 2..];
        }
    }

    #[tokio::test]
    async fn encodes_any_length_exactly_as_announced() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 777] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for step in [1000, CHUNK, 3 * CHUNK] {
                let body = Rechunked::new(body_of(&data, step), len as u64);
                assert_eq!(body.size_hint().exact(), Some(encoded_length(len as u64)));
                let enc = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                assert_eq!(enc.len() as u64, encoded_length(len as u64), "{len}/{step}");
                let (decoded, trailer) = decode(&enc);
                assert_eq!(decoded, data);
                let crc = crc32fast::hash(&data).to_be_bytes();
                let b64 = base64::engine::general_purpose::STANDARD.encode(crc);
                assert_eq!(trailer, format!("{TRAILER}:{b64}\r\n\r\n"));
            }
        }
    }

    #[tokio::test]
    async fn a_failed_proof_never_writes_the_end() {
        let frames: Vec<Result<Frame<Bytes>, BoxError>> = vec![
            Ok(Frame::data(Bytes::from(vec![1u8; CHUNK + 10]))),
            Err("tampered".into()),
        ];
        let mut body = Rechunked::new(
            http_body_util::StreamBody::new(futures_util::stream::iter(frames)).boxed(),
            2 * CHUNK as u64,
        );
        let mut sent = Vec::new();
        while let Some(f) = body.frame().await {
            match f {
                Ok(f) => sent.extend_from_slice(&f.into_data().unwrap_or_default()),
                Err(_) => break,
            }
        }
        assert!(
            !sent.windows(5).any(|w| w == b"\r\n0\r\n"),
            "no final chunk after a failure"
        );
        assert!(!sent.windows(TRAILER.len()).any(|w| w == TRAILER.as_bytes()));
    }
}
