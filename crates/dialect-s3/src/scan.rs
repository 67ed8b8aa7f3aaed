//! A pull tokenizer for the XML that S3 services answer with: elements, text, CDATA,
//! entity and character references; the declaration, comments, processing instructions and
//! a DOCTYPE are skipped. It works on a `&str` validated once, so every token borrows from
//! the body and nothing is decoded twice.
//!
//! Written by hand because quick-xml's reader, though correct, spent two thirds of a page's
//! parse re-validating UTF-8 per text node and dispatching events (`perf` on
//! `cargo bench -p dragoman-dialect-s3 -- s3/parse_1000`); this one is a `memchr` loop.
//! End tags are checked against their start tags, so malformed documents are refused.

use std::borrow::Cow;

#[derive(Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// A start tag's local name (any namespace prefix dropped).
    Start(&'a str),
    /// An end tag's local name.
    End(&'a str),
    /// `<name/>`: a start and an end at once.
    Empty(&'a str),
    /// Text with no entity or character reference in it.
    Text(&'a str),
    /// Text as written, with at least one `&`: see [`unescape`].
    EscapedText(&'a str),
    /// The content of a CDATA section, taken literally.
    CData(&'a str),
}

pub struct Scanner<'a> {
    rest: &'a str,
    /// The open elements: each one's name as written and its local part.
    open: Vec<(&'a str, &'a str)>,
    started: bool,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            rest: text,
            open: Vec::with_capacity(8),
            started: false,
        }
    }

    /// The next token; `Ok(None)` at the end of a complete document.
    pub fn next_token(&mut self) -> Result<Option<Token<'a>>, &'static str> {
        loop {
            if self.rest.is_empty() {
                return if self.open.is_empty() && self.started {
                    Ok(None)
                } else {
                    Err("the document ends before its root element closes")
                };
            }
            // Markup usually follows markup: look at the next byte before searching.
            let bytes = self.rest.as_bytes();
            if bytes[0] != b'<' {
                // One search finds both the text's end and whether it has entities.
                let (lt, escaped) = match memchr::memchr2(b'<', b'&', bytes) {
                    Some(i) if bytes[i] == b'&' => {
                        (memchr::memchr(b'<', &bytes[i..]).map(|j| i + j), true)
                    }
                    found => (found, false),
                };
                let Some(lt) = lt else {
                    let text = std::mem::take(&mut self.rest);
                    if self.open.is_empty() && text.trim().is_empty() {
                        continue;
                    }
                    return Err("text outside the root element");
                };
                let text = &self.rest[..lt];
                self.rest = &self.rest[lt..];
                if self.open.is_empty() {
                    if !text.trim().is_empty() {
                        return Err("text outside the root element");
                    }
                    continue;
                }
                return Ok(Some(if escaped {
                    Token::EscapedText(text)
                } else {
                    Token::Text(text)
                }));
            }
            let after = &self.rest[1..];
            if let Some(body) = after.strip_prefix("![CDATA[") {
                let end = body.find("]]>").ok_or("an unterminated CDATA section")?;
                self.rest = &body[end + 3..];
                if self.open.is_empty() {
                    return Err("CDATA outside the root element");
                }
                return Ok(Some(Token::CData(&body[..end])));
            }
            if let Some(body) = after.strip_prefix("!--") {
                let end = body.find("-->").ok_or("an unterminated comment")?;
                self.rest = &body[end + 3..];
                continue;
            }
            if after.starts_with('?') || after.starts_with('!') {
                let end = memchr::memchr(b'>', after.as_bytes()).ok_or("an unterminated tag")?;
                self.rest = &after[end + 1..];
                continue;
            }
            if let Some(closing) = after.strip_prefix('/') {
                let (open, local) = self.open.pop().ok_or("an end tag without its start")?;
                // The common case, `</name>` right after the name, without a search.
                let rest = closing
                    .strip_prefix(open)
                    .ok_or("an end tag that does not match its start")?;
                self.rest = match rest.as_bytes().first() {
                    Some(b'>') => &rest[1..],
                    _ => {
                        let gt =
                            memchr::memchr(b'>', rest.as_bytes()).ok_or("an unterminated tag")?;
                        if !rest[..gt].trim().is_empty() {
                            return Err("an end tag that does not match its start");
                        }
                        &rest[gt + 1..]
                    }
                };
                return Ok(Some(Token::End(local)));
            }
            // A start tag: its name runs to a space, `/` or `>`; attributes are skipped. One
            // pass finds both its end and where a namespace prefix ends.
            let bytes = after.as_bytes();
            let mut end = 0;
            let mut local_at = 0;
            loop {
                match bytes.get(end) {
                    None => return Err("an unterminated tag"),
                    Some(b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>') => break,
                    Some(b':') => local_at = end + 1,
                    Some(_) => {}
                }
                end += 1;
            }
            if end == 0 {
                return Err("a tag without a name");
            }
            let name = &after[..end];
            let local = &after[local_at..end];
            let (empty, rest) = match bytes[end] {
                b'>' => (false, &after[end + 1..]),
                _ => {
                    let gt =
                        memchr::memchr(b'>', &bytes[end..]).ok_or("an unterminated tag")? + end;
                    (bytes[gt - 1] == b'/', &after[gt + 1..])
                }
            };
            self.rest = rest;
            if self.open.is_empty() && self.started {
                return Err("a second root element");
            }
            self.started = true;
            if empty {
                return Ok(Some(Token::Empty(local)));
            }
            self.open.push((name, local));
            return Ok(Some(Token::Start(local)));
        }
    }
}

/// Text with its entity and character references resolved; borrowed when it has none.
pub fn unescape(raw: &str) -> Result<Cow<'_, str>, &'static str> {
    if memchr::memchr(b'&', raw.as_bytes()).is_none() {
        return Ok(Cow::Borrowed(raw));
    }
    quick_xml::escape::unescape(raw).map_err(|_| "an unknown entity or a bad character reference")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(doc: &str) -> Result<Vec<Token<'_>>, &'static str> {
        let mut s = Scanner::new(doc);
        let mut out = Vec::new();
        while let Some(t) = s.next_token()? {
            out.push(t);
        }
        Ok(out)
    }

    #[test]
    fn reads_what_s3_writes() {
        let doc = "<?xml version=\"1.0\"?>\n<!-- hi --><s3:R xmlns:s3=\"x\"><A>t &amp; u</A><B/><C><![CDATA[<x>]]></C></s3:R>\n";
        assert_eq!(
            tokens(doc),
            Ok(vec![
                Token::Start("R"),
                Token::Start("A"),
                Token::EscapedText("t &amp; u"),
                Token::End("A"),
                Token::Empty("B"),
                Token::Start("C"),
                Token::CData("<x>"),
                Token::End("C"),
                Token::End("R"),
            ])
        );
        assert_eq!(
            unescape("a &lt;&#x41;&#66;&gt; b").as_deref(),
            Ok("a <AB> b")
        );
        assert!(matches!(unescape("plain"), Ok(Cow::Borrowed("plain"))));
        assert!(unescape("&nope;").is_err());
    }

    #[test]
    fn refuses_what_is_not_well_formed() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "</a>",
            "<a></a><b></b>",
            "text",
            "<a></a>tail",
            "<a><!-- x</a>",
            "<a><![CDATA[x</a>",
            "<a",
            "<>x</>",
        ] {
            assert!(tokens(bad).is_err(), "{bad:?}");
        }
    }
}
