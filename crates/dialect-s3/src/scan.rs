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
    /// The elements open, innermost last.
    open: Vec<Open<'a>>,
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
                let (lt, escaped) = text_end(bytes);
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
            // One look at the byte after `<` tells markup apart: most tags are start and end
            // tags, which should not pay for the tests of the rarer forms.
            match after.as_bytes().first() {
                Some(b'/') => return self.end_tag(&after[1..]).map(Some),
                Some(b'!') => {
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
                    self.skip_to_gt(after)?;
                }
                Some(b'?') => self.skip_to_gt(after)?,
                _ => return self.start_tag(after).map(Some),
            }
        }
    }

    /// Past the next `>`: a declaration, a DOCTYPE or a processing instruction, unread.
    fn skip_to_gt(&mut self, after: &'a str) -> Result<(), &'static str> {
        let end = memchr::memchr(b'>', after.as_bytes()).ok_or("an unterminated tag")?;
        self.rest = &after[end + 1..];
        Ok(())
    }

    /// `</name>`, `closing` being what follows `</`.
    fn end_tag(&mut self, closing: &'a str) -> Result<Token<'a>, &'static str> {
        let open = self.open.pop().ok_or("an end tag without its start")?;
        // The common case, `</name>` right after the name, without a search.
        let rest = open
            .strip_from(closing)
            .ok_or("an end tag that does not match its start")?;
        self.rest = match rest.as_bytes().first() {
            Some(b'>') => &rest[1..],
            _ => {
                let gt = memchr::memchr(b'>', rest.as_bytes()).ok_or("an unterminated tag")?;
                if !rest[..gt].trim().is_empty() {
                    return Err("an end tag that does not match its start");
                }
                &rest[gt + 1..]
            }
        };
        Ok(Token::End(open.local))
    }

    /// A start tag, `after` being what follows `<`: its name runs to a space, `/` or `>`;
    /// attributes are skipped.
    fn start_tag(&mut self, after: &'a str) -> Result<Token<'a>, &'static str> {
        let bytes = after.as_bytes();
        let (end, local_at) = name_end(bytes).ok_or("an unterminated tag")?;
        if end == 0 {
            return Err("a tag without a name");
        }
        let name = &after[..end];
        let local = &after[local_at..end];
        let (empty, rest) = match bytes[end] {
            b'>' => (false, &after[end + 1..]),
            _ => {
                let gt = memchr::memchr(b'>', &bytes[end..]).ok_or("an unterminated tag")? + end;
                (bytes[gt - 1] == b'/', &after[gt + 1..])
            }
        };
        self.rest = rest;
        if self.open.is_empty() && self.started {
            return Err("a second root element");
        }
        self.started = true;
        if empty {
            return Ok(Token::Empty(local));
        }
        self.open.push(Open::new(name, local, bytes));
        Ok(Token::Start(local))
    }
}

/// An element whose end tag is due.
#[derive(Clone, Copy)]
struct Open<'a> {
    /// Its name as written, prefix and all.
    name: &'a str,
    /// The name after any namespace prefix.
    local: &'a str,
    /// The name's first eight bytes (zero past its end) as one word, so that an end tag is
    /// matched by one comparison for every name of a listing but the root's.
    head: u64,
    /// Which bytes of a word `head` covers. Derivable from `name`, but kept: working it out
    /// again at every end tag was 2.6 % of a page's instructions (`scripts/parse-instructions`).
    mask: u64,
}

impl<'a> Open<'a> {
    /// `at` is the document from the name on: what follows the name fills out the word.
    fn new(name: &'a str, local: &'a str, at: &[u8]) -> Self {
        let mask = low_bytes(name.len());
        Self {
            name,
            local,
            head: word(at).map_or(0, |w| w & mask),
            mask,
        }
    }

    /// `s` after this element's name, if it starts with it.
    fn strip_from<'s>(&self, s: &'s str) -> Option<&'s str> {
        let n = self.name.len();
        match word(s.as_bytes()) {
            Some(w) if self.head != 0 && w & self.mask == self.head => {
                if n > 8 && s.as_bytes().get(8..n)? != &self.name.as_bytes()[8..] {
                    return None;
                }
                // `name` ends on a character boundary of `s`: both hold the same bytes up to it.
                s.get(n..)
            }
            Some(_) if self.head != 0 => None,
            _ => s.strip_prefix(self.name),
        }
    }
}

/// The first eight bytes of `b` as a little-endian word, if it has eight.
#[inline]
fn word(b: &[u8]) -> Option<u64> {
    b.get(..8)?.try_into().ok().map(u64::from_le_bytes)
}

/// A mask of the low `n` bytes of a word (all of them from eight on).
#[inline]
fn low_bytes(n: usize) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    }
}

/// Where a tag's name ends (a space, `/`, `>`, or the end of `b`: `None`), and where its local
/// part starts (after the last `:`). Every byte that ends a name or splits off a prefix is
/// below `0x40`, and S3's names are letters, which are not: eight bytes at a time are passed
/// over while none is below it, and the few that are (digits, `-`, `.`) are looked at one by one.
fn name_end(b: &[u8]) -> Option<(usize, usize)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    let mut local_at = 0;
    loop {
        let candidate = match word(&b[at.min(b.len())..]) {
            Some(x) => {
                // Bytes below 0x40 have their high bit set; the lowest mark is exact.
                let below = x.wrapping_sub(ONES * 0x40) & !x & HIGH;
                if below == 0 {
                    at += 8;
                    continue;
                }
                at + (below.trailing_zeros() / 8) as usize
            }
            None => at,
        };
        match b.get(candidate)? {
            b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>' => return Some((candidate, local_at)),
            b':' => local_at = candidate + 1,
            _ => {}
        }
        at = candidate + 1;
    }
}

impl<'a> Scanner<'a> {
    /// The text of the element just opened when it is one piece of text followed at once by
    /// its end tag (`<Key>text</Key>`, almost every element of a listing), with the end tag
    /// consumed, and whether it holds entity or character references (see [`unescape`]).
    /// `None`, with nothing consumed, for anything else: CDATA, comments, markup, or an end
    /// tag written with a space; [`Scanner::next_token`] then reads it token by token.
    pub fn text_then_end(&mut self) -> Option<(&'a str, bool)> {
        // A key with `&` in it is read here too, not token by token.
        let (lt, escaped) = text_end(self.rest.as_bytes());
        let lt = lt?;
        let text = &self.rest[..lt];
        let rest = self
            .open
            .last()?
            .strip_from(self.rest[lt..].strip_prefix("</")?)?
            .strip_prefix('>')?;
        self.rest = rest;
        self.open.pop();
        Some((text, escaped))
    }
}

impl<'a> Scanner<'a> {
    /// Where the content of the element just opened starts: take it right after its
    /// [`Token::Start`], for [`Scanner::content_since`].
    pub fn mark(&self) -> Mark<'a> {
        Mark {
            rest: self.rest,
            depth: self.open.len(),
        }
    }

    /// The content of the element opened at `mark`, as written, once the [`Token::End`] that
    /// closes it has just been read; `None` at any other point. Its text is then balanced
    /// markup, which [`Scanner::repeat_of`] can recognise again by its bytes alone.
    pub fn content_since(&self, mark: Mark<'a>) -> Option<Content<'a>> {
        if self.open.len() + 1 != mark.depth {
            return None;
        }
        let read = mark
            .rest
            .get(..mark.rest.len().checked_sub(self.rest.len())?)?;
        // The end tag just read is the last `<` read: nothing in an end tag is another.
        let end_tag = memchr::memrchr(b'<', read.as_bytes())?;
        Some(Content(&read[..end_tag]))
    }

    /// Consumes the content and end tag of the element just opened when its content is
    /// byte for byte `content` and its end tag follows at once, as `</name>`: it is then that
    /// content again, and the caller can reuse what it made of it. `false`, with nothing
    /// consumed, otherwise.
    ///
    /// A listing repeats the same owner and initiator on every upload; comparing their bytes
    /// is a fraction of scanning their elements again.
    pub fn repeat_of(&mut self, content: &Content<'_>) -> bool {
        let Some(rest) = self
            .rest
            .strip_prefix(content.0)
            .and_then(|after| after.strip_prefix("</"))
            .and_then(|closing| self.open.last()?.strip_from(closing))
            .and_then(|after| after.strip_prefix('>'))
        else {
            return false;
        };
        self.rest = rest;
        self.open.pop();
        true
    }
}

impl<'a> Scanner<'a> {
    /// A whole leaf element written exactly as `start`, text, `end` (`<Key>`, `</Key>`), inside
    /// the root: its text and whether it holds references, as [`Scanner::text_then_end`] gives
    /// them, with the element consumed. `None`, with nothing consumed, for anything else.
    ///
    /// A page reader calls it with the element its backend writes next: S3 writes an upload's
    /// elements in a fixed order, and a guessed element costs two comparisons against
    /// constants where [`Scanner::next_token`] scans its name, notes it as open, and the
    /// caller matches it against every name it knows.
    #[inline(always)]
    pub fn leaf(&mut self, start: &str, end: &str) -> Option<(&'a str, bool)> {
        debug_assert!(start.starts_with('<') && end.starts_with("</") && end.ends_with('>'));
        if self.open.is_empty() {
            return None;
        }
        let after = self.rest.strip_prefix(start)?;
        let (lt, escaped) = text_end(after.as_bytes());
        let lt = lt?;
        self.rest = after[lt..].strip_prefix(end)?;
        Some((&after[..lt], escaped))
    }

    /// Consumes an element written exactly as `start`, `content`, `end` inside the root: an
    /// element whose content repeats one read before (see [`Scanner::repeat_of`]) under a
    /// start tag the caller guessed. `false`, with nothing consumed, otherwise.
    #[inline(always)]
    pub fn element_repeats(&mut self, start: &str, content: &Content<'_>, end: &str) -> bool {
        debug_assert!(start.starts_with('<') && end.starts_with("</") && end.ends_with('>'));
        let Some(rest) = self
            .rest
            .strip_prefix(start)
            .and_then(|after| after.strip_prefix(content.0))
            .and_then(|after| after.strip_prefix(end))
        else {
            return false;
        };
        if self.open.is_empty() {
            return false;
        }
        self.rest = rest;
        true
    }
}

/// Where an element's content starts, from [`Scanner::mark`].
#[derive(Clone, Copy)]
pub struct Mark<'a> {
    rest: &'a str,
    /// How many elements were open, the marked one among them.
    depth: usize,
}

/// The whole content of an element the scanner read, from [`Scanner::content_since`].
#[derive(Clone, Copy, Debug)]
pub struct Content<'a>(&'a str);

/// Where a text ends (its `<`, if the document has one) and whether it holds entity or
/// character references: one search finds both. Always inlined: as a call, the leaf reader
/// that uses it took 329 µs per 1000-upload page instead of 318 (criterion, side by side).
#[inline(always)]
fn text_end(b: &[u8]) -> (Option<usize>, bool) {
    match lt_or_amp(b) {
        Some(i) if b[i] == b'&' => (memchr::memchr(b'<', &b[i..]).map(|j| i + j), true),
        found => (found, false),
    }
}

/// The first `<` or `&`. Text in a listing is short (a key, an id, a time), where `memchr2`'s
/// vector setup costs more than the search: the first 64 bytes are looked at eight at a time,
/// and only longer text goes to `memchr2`.
fn lt_or_amp(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes of `x` equal to zero have their high bit set; a borrow only marks bytes above a
    // marked one, so the lowest mark is exact.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut at = 0;
    while at < 64 {
        let Some(chunk) = b.get(at..at + 8) else {
            return b
                .get(at..)?
                .iter()
                .position(|&c| c == b'<' || c == b'&')
                .map(|i| at + i);
        };
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let found = zero(x ^ (ONES * u64::from(b'<'))) | zero(x ^ (ONES * u64::from(b'&')));
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr2(b'<', b'&', &b[at..]).map(|i| at + i)
}

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
    fn finds_the_first_lt_or_amp_at_every_length_and_offset() {
        for len in 0..80 {
            for at in 0..=len {
                for c in [b'<', b'&'] {
                    let mut text = vec![b'x'; len];
                    if at < len {
                        text[at] = c;
                        // A later hit must not win over this one.
                        if at + 1 < len {
                            text[len - 1] = b'<';
                        }
                    }
                    let want = text.iter().position(|&b| b == b'<' || b == b'&');
                    assert_eq!(lt_or_amp(&text), want, "len {len} at {at}");
                }
            }
        }
    }

    #[test]
    fn text_then_end_takes_only_one_piece_before_its_end_tag() {
        let doc = "<r><a>one</a><b>t &amp; u</b><b>t &amp; <![CDATA[<]]></b><c>x</c ><d><![CDATA[y]]></d><e></e><f>z</g></r>";
        let mut s = Scanner::new(doc);
        assert_eq!(s.next_token(), Ok(Some(Token::Start("r"))));
        assert_eq!(s.next_token(), Ok(Some(Token::Start("a"))));
        assert_eq!(s.text_then_end(), Some(("one", false)));
        assert_eq!(s.next_token(), Ok(Some(Token::Start("b"))));
        assert_eq!(s.text_then_end(), Some(("t &amp; u", true)));
        for (name, rest) in [
            ("b", vec![Token::EscapedText("t &amp; "), Token::CData("<")]),
            ("c", vec![Token::Text("x")]),
            ("d", vec![Token::CData("y")]),
        ] {
            assert_eq!(s.next_token(), Ok(Some(Token::Start(name))));
            assert_eq!(s.text_then_end(), None, "{name}");
            for t in rest {
                assert_eq!(s.next_token(), Ok(Some(t)));
            }
            assert_eq!(s.next_token(), Ok(Some(Token::End(name))));
        }
        assert_eq!(s.next_token(), Ok(Some(Token::Start("e"))));
        assert_eq!(s.text_then_end(), Some(("", false)));
        assert_eq!(s.next_token(), Ok(Some(Token::Start("f"))));
        // A mismatched end tag is left for the tokenizer, which refuses it.
        assert_eq!(s.text_then_end(), None);
        assert_eq!(s.next_token(), Ok(Some(Token::Text("z"))));
        assert!(s.next_token().is_err());
    }

    /// The name's end and local part, one byte at a time.
    fn name_end_oracle(b: &[u8]) -> Option<(usize, usize)> {
        let mut local_at = 0;
        for (i, &c) in b.iter().enumerate() {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>' => return Some((i, local_at)),
                b':' => local_at = i + 1,
                _ => {}
            }
        }
        None
    }

    proptest::proptest! {
        #[test]
        fn name_end_agrees_with_a_byte_at_a_time_scan(
            b in proptest::collection::vec(proptest::prop_oneof![
                proptest::sample::select(b" \t\n\r/>:-.0\x00\xc3\xa9".to_vec()),
                b'A'..=b'z',
            ], 0..40),
        ) {
            proptest::prop_assert_eq!(name_end(&b), name_end_oracle(&b));
        }

        #[test]
        fn an_open_name_strips_what_strip_prefix_does(
            name in "[a-zA-Z:é]{1,20}",
            after_name in "[a-zA-Z>/ ]{0,12}",
            closing in "[a-zA-Z:é>]{0,24}",
            shared in 0usize..=21,
        ) {
            let doc = format!("{name}{after_name}");
            let open = Open::new(&doc[..name.len()], &doc[..name.len()], doc.as_bytes());
            // The closing tag repeats some or all of the name (all: `shared` past its end).
            let closing = format!("{}{closing}", name.chars().take(shared).collect::<String>());
            proptest::prop_assert_eq!(open.strip_from(&closing), closing.strip_prefix(name.as_str()));
        }
    }

    fn next<'a>(s: &mut Scanner<'a>) -> Option<Token<'a>> {
        s.next_token().ok().flatten()
    }

    /// Reads `<r><a>…</a>` and gives the content of that first `a`.
    fn first_content<'a>(s: &mut Scanner<'a>) -> Content<'a> {
        assert_eq!(next(s), Some(Token::Start("r")));
        assert_eq!(next(s), Some(Token::Start("a")));
        let mark = s.mark();
        assert!(s.content_since(mark).is_none(), "the element is still open");
        while next(s) != Some(Token::End("a")) {}
        s.content_since(mark)
            .unwrap_or_else(|| panic!("no content after </a>"))
    }

    #[test]
    fn content_repeats_only_as_written_and_under_its_own_end_tag() {
        let mut s = Scanner::new("<r><a><i>x</i></a><b><i>x</i></b><a><i>x</i></c></a></r>");
        let content = first_content(&mut s);
        // The same content under another element is that element's content.
        assert_eq!(next(&mut s), Some(Token::Start("b")));
        assert!(s.repeat_of(&content));
        // Followed by a foreign end tag: refused here, and then by the scanner.
        assert_eq!(next(&mut s), Some(Token::Start("a")));
        assert!(!s.repeat_of(&content));
        assert_eq!(next(&mut s), Some(Token::Start("i")));
        assert_eq!(next(&mut s), Some(Token::Text("x")));
        assert_eq!(next(&mut s), Some(Token::End("i")));
        assert!(s.next_token().is_err());

        // Content the repeat is a prefix of, and an end tag with a space: read as they come.
        let mut s = Scanner::new("<r><a><i>x</i></a><a><i>xy</i></a><a><i>x</i></a ></r>");
        let content = first_content(&mut s);
        assert_eq!(next(&mut s), Some(Token::Start("a")));
        assert!(!s.repeat_of(&content));
        assert_eq!(next(&mut s), Some(Token::Start("i")));
        assert_eq!(next(&mut s), Some(Token::Text("xy")));
        while next(&mut s) != Some(Token::End("a")) {}
        assert_eq!(next(&mut s), Some(Token::Start("a")));
        assert!(!s.repeat_of(&content));
        assert_eq!(next(&mut s), Some(Token::Start("i")));
    }

    #[test]
    fn a_guessed_element_is_taken_only_as_written() {
        let mut s = Scanner::new("<K>x</K>");
        assert_eq!(s.leaf("<K>", "</K>"), None, "outside the root");
        let mut s = Scanner::new(
            "<r><K>a&amp;b</K><K>x<i/></K><K>x</K ><a><i>x</i></a><a><i>x</i></b></r>",
        );
        assert_eq!(next(&mut s), Some(Token::Start("r")));
        assert_eq!(s.leaf("<K>", "</K>"), Some(("a&amp;b", true)));
        assert_eq!(s.leaf("<K>", "</K>"), None, "markup inside");
        assert_eq!(next(&mut s), Some(Token::Start("K")));
        while next(&mut s) != Some(Token::End("K")) {}
        assert_eq!(s.leaf("<K>", "</K>"), None, "an end tag with a space");
        assert_eq!(next(&mut s), Some(Token::Start("K")));
        assert_eq!(next(&mut s), Some(Token::Text("x")));
        assert_eq!(next(&mut s), Some(Token::End("K")));
        assert_eq!(next(&mut s), Some(Token::Start("a")));
        let mark = s.mark();
        while next(&mut s) != Some(Token::End("a")) {}
        let Some(content) = s.content_since(mark) else {
            panic!("no content after </a>")
        };
        assert!(
            !s.element_repeats("<a>", &content, "</a>"),
            "another end tag"
        );
        assert_eq!(next(&mut s), Some(Token::Start("a")));
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
