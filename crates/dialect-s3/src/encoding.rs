//! The two percent-encodings of S3: SigV4's URI encoding and `encoding-type=url`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

/// SigV4 keeps `A-Z a-z 0-9 - _ . ~` and encodes every other byte.
const SIGV4: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The same, keeping `/` (canonical URI).
const SIGV4_PATH: &AsciiSet = &SIGV4.remove(b'/');

/// SigV4 `UriEncode`: `/` is kept in a path and encoded (`%2F`) elsewhere.
pub fn aws_uri_encode(s: &str, keep_slash: bool) -> String {
    aws_uri_encode_bytes(s.as_bytes(), keep_slash)
}

/// [`aws_uri_encode`] for bytes that need not be UTF-8 (a signature covers what was sent).
pub fn aws_uri_encode_bytes(s: &[u8], keep_slash: bool) -> String {
    let set = if keep_slash { SIGV4_PATH } else { SIGV4 };
    percent_encode(s, set).to_string()
}

/// `encoding-type=url` as S3 applies it to keys: like Java's URLEncoder (`A-Z a-z 0-9 - _ . *`
/// kept, space as `+`), with `/` also kept.
pub fn url_encode_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    url_encode_into(&mut out, s);
    out
}

/// [`url_encode_key`] appending to `out`. The result never needs XML escaping.
pub fn url_encode_into(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xF)]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_matches_aws() {
        assert_eq!(url_encode_key("sp ace/ü"), "sp+ace/%C3%BC");
        assert_eq!(url_encode_key("a*b-c_d.e~f+g"), "a*b-c_d.e%7Ef%2Bg");
    }

    #[test]
    fn sigv4_encoding() {
        assert_eq!(aws_uri_encode("a b/c+d~", true), "a%20b/c%2Bd~");
        assert_eq!(aws_uri_encode("a b/c", false), "a%20b%2Fc");
        assert_eq!(aws_uri_encode("ü*", false), "%C3%BC%2A");
    }
}
