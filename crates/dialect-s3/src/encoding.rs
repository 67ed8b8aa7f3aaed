//! `encoding-type=url`, S3's own percent-encoding of keys in listings.

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
}
