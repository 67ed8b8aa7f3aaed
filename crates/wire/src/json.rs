//! A pull reader for the JSON pages BOS and Qumulo answer with: the page reader asks for the
//! shape it expects (an object, its next key, a string, a count) and skips what it does not
//! know. Strings without escapes are borrowed from the body; numbers are handed over as text.
//!
//! Written by hand because serde_json's derive reader, though correct, spent its time on
//! per-field dispatch and visitor plumbing: 370 µs for a 1000-upload BOS page and 600 µs for a
//! Qumulo one (`cargo bench -p dragoman-dialect-bos`, `-p dragoman-dialect-qumulo`), against a
//! budget of 300. Everything it accepts is valid JSON (RFC 8259) and it refuses what serde_json
//! refuses; `agrees_with_serde_json_on_every_document` holds it to that. Escaped strings, which
//! backends write only for unusual keys, are decoded by serde_json itself.

use std::borrow::Cow;

/// Deeper nesting is refused, so skipping cannot exhaust the stack: 127 levels, as
/// serde_json allows (`edge_documents_match_serde_json` checks both sides of the limit).
const MAX_DEPTH: u32 = 127;

/// What went wrong, and the byte offset where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub what: &'static str,
    pub at: usize,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

impl std::error::Error for JsonError {}

/// The kind of the next value, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

pub struct JsonReader<'a> {
    src: &'a str,
    pos: usize,
    depth: u32,
    /// The container just opened has no element yet (so no comma is due).
    first: bool,
}

impl<'a> JsonReader<'a> {
    pub fn new(src: &'a str) -> Self {
        Self {
            src,
            pos: 0,
            depth: 0,
            first: false,
        }
    }

    fn fail<T>(&self, what: &'static str) -> Result<T, JsonError> {
        Err(JsonError { what, at: self.pos })
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    /// Skips whitespace and returns the next byte, not consuming it.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(c);
            }
            self.pos += 1;
        }
        None
    }

    #[inline]
    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), JsonError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.fail(what)
        }
    }

    /// The kind of the next value.
    #[inline]
    pub fn kind(&mut self) -> Result<Kind, JsonError> {
        Ok(match self.peek() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b'-' | b'0'..=b'9') => Kind::Number,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') => Kind::Null,
            Some(_) => return self.fail("expected a value"),
            None => return self.fail("the document ends where a value was expected"),
        })
    }

    #[inline]
    fn open(&mut self, c: u8, what: &'static str) -> Result<(), JsonError> {
        self.expect(c, what)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail("nesting too deep");
        }
        self.first = true;
        Ok(())
    }

    /// Consumes the separator before the next element, or the container's end (`Ok(false)`).
    #[inline]
    fn next_in(&mut self, close: u8) -> Result<bool, JsonError> {
        match self.peek() {
            Some(c) if c == close => {}
            // A comma must be followed by an element: the caller reads one, and a `]` or `}`
            // there is refused as "expected a value" (or "expected a key").
            Some(b',') if !self.first => {
                self.pos += 1;
                return Ok(true);
            }
            Some(_) if self.first => {
                self.first = false;
                return Ok(true);
            }
            _ => return self.fail("expected ',' or the end of the container"),
        }
        self.pos += 1;
        self.depth -= 1;
        // The parent now holds at least this container, so its next element needs a comma.
        self.first = false;
        Ok(false)
    }

    /// Opens an object: `{`.
    #[inline]
    pub fn begin_object(&mut self) -> Result<(), JsonError> {
        self.open(b'{', "expected an object")
    }

    /// The object's next key, with its `:` consumed; `None` at its end.
    #[inline]
    pub fn next_key(&mut self) -> Result<Option<Cow<'a, str>>, JsonError> {
        if !self.next_in(b'}')? {
            return Ok(None);
        }
        self.first = false;
        if self.peek() != Some(b'"') {
            return self.fail("expected a key");
        }
        self.pos += 1;
        let key = self.rest_of_string()?;
        // Pages are written compact: the `:` follows the key at once.
        if self.bytes().get(self.pos) == Some(&b':') {
            self.pos += 1;
        } else {
            self.expect(b':', "expected ':' after a key")?;
        }
        Ok(Some(key))
    }

    /// Consumes the object's next key when it is `quoted` (the key with its quotes, as a
    /// backend writes it without escapes), with its comma and `:`; `false`, with nothing
    /// consumed, for any other key, a spelling with escapes, or the object's end.
    ///
    /// A page reader calls it with the key its backend writes next: serializers write an
    /// object's keys in a fixed order, and a guessed key costs one comparison against a
    /// constant where [`Self::next_key`] scans the key and the caller matches it against
    /// every name it knows. Whatever this does not take, `next_key` reads as before.
    #[inline(always)]
    pub fn next_key_is(&mut self, quoted: &[u8]) -> bool {
        debug_assert!(quoted.len() >= 2 && quoted.starts_with(b"\"") && quoted.ends_with(b"\""));
        let b = self.bytes();
        let mut i = self.pos;
        if !self.first {
            i = skip_space(b, i);
            if b.get(i) != Some(&b',') {
                return false;
            }
            i += 1;
        }
        i = skip_space(b, i);
        if b.get(i..i + quoted.len()) != Some(quoted) {
            return false;
        }
        i = skip_space(b, i + quoted.len());
        if b.get(i) != Some(&b':') {
            return false;
        }
        self.pos = i + 1;
        self.first = false;
        true
    }

    /// Where the next value starts, for [`Self::value_since`] once it is read.
    #[inline]
    pub fn mark(&mut self) -> Mark {
        self.peek();
        Mark {
            at: self.pos,
            depth: self.depth,
        }
    }

    /// The text of the value read since `mark`, for [`Self::repeat_of`]. `None` for a number,
    /// `true`, `false` or `null`: only a value whose text shows where it ends can be
    /// recognised by its text alone (`12` is also how `123` begins).
    #[inline]
    pub fn value_since(&self, mark: Mark) -> Option<ValueText<'a>> {
        let text = self.src.get(mark.at..self.pos)?;
        matches!(text.as_bytes().first(), Some(b'{' | b'[' | b'"')).then_some(ValueText {
            text,
            depth: mark.depth,
        })
    }

    /// Consumes the next value when its text is byte for byte `value`'s, a value read at this
    /// depth earlier in this document: it is then that value again, and the caller can reuse
    /// what it made of it. `false`, with nothing consumed, otherwise.
    ///
    /// Pages repeat whole objects (the owner of every upload, say); comparing their text is
    /// a fraction of reading their keys and values again.
    #[inline]
    pub fn repeat_of(&mut self, value: &ValueText<'_>) -> bool {
        self.peek();
        let n = value.text.len();
        if value.depth != self.depth
            || self.bytes().get(self.pos..self.pos + n) != Some(value.text.as_bytes())
        {
            return false;
        }
        self.pos += n;
        self.first = false;
        true
    }

    /// Opens an array: `[`.
    #[inline]
    pub fn begin_array(&mut self) -> Result<(), JsonError> {
        self.open(b'[', "expected an array")
    }

    /// Whether the array has another element (its end is consumed when not).
    #[inline]
    pub fn next_item(&mut self) -> Result<bool, JsonError> {
        let more = self.next_in(b']')?;
        if more {
            self.first = false;
        }
        Ok(more)
    }

    /// `null`, consumed; `false` (and nothing consumed) for any other value.
    #[inline]
    pub fn null(&mut self) -> Result<bool, JsonError> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal("null")?;
        Ok(true)
    }

    #[inline]
    fn literal(&mut self, word: &'static str) -> Result<(), JsonError> {
        if self.src[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.fail("expected true, false or null")
        }
    }

    #[inline]
    pub fn bool(&mut self) -> Result<bool, JsonError> {
        match self.peek() {
            Some(b't') => self.literal("true").map(|()| true),
            Some(b'f') => self.literal("false").map(|()| false),
            _ => self.fail("expected true or false"),
        }
    }

    /// A string: borrowed from the document when it has no escapes.
    #[inline]
    pub fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.expect(b'"', "expected a string")?;
        self.rest_of_string()
    }

    /// A string's text and closing quote, its opening quote consumed. Always inlined: a page
    /// reads a key and a value in each of its fields, and as a call this was a sixth of a
    /// Qumulo page's instructions (`scripts/parse-instructions`).
    #[inline(always)]
    fn rest_of_string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        let start = self.pos;
        let b = self.bytes();
        // Nearly every string on a page is plain: its first stop is its closing quote.
        let first = stop(b, start);
        if let Some(end) = first.filter(|&i| b[i] == b'"') {
            self.pos = end + 1;
            return Ok(Cow::Borrowed(&self.src[start..end]));
        }
        self.string_with_escapes(start, first)
    }

    /// The rest of [`Self::string`] once its first stop is not the closing quote: an escape,
    /// a control character, or the end of the document.
    #[cold]
    #[inline(never)]
    fn string_with_escapes(
        &mut self,
        start: usize,
        first: Option<usize>,
    ) -> Result<Cow<'a, str>, JsonError> {
        let b = self.bytes();
        let mut escaped = false;
        let mut at = start;
        let mut found = first;
        let end = loop {
            let Some(i) = found.take().or_else(|| stop(b, at)) else {
                self.pos = b.len();
                return self.fail("an unterminated string");
            };
            match b[i] {
                b'"' => break i,
                // A backslash escapes the next byte, whatever it is; serde_json checks it.
                b'\\' => {
                    escaped = true;
                    at = i + 2;
                }
                _ if escaped => at = i + 1,
                _ => {
                    self.pos = i;
                    return self.fail("a control character in a string");
                }
            }
        };
        self.pos = end + 1;
        if escaped {
            return serde_json::from_str::<String>(&self.src[start - 1..end + 1])
                .map(Cow::Owned)
                .map_err(|_| JsonError {
                    what: "a bad escape or control character in a string",
                    at: start,
                });
        }
        Ok(Cow::Borrowed(&self.src[start..end]))
    }

    /// A string, or `None` for `null`.
    #[inline]
    pub fn string_or_null(&mut self) -> Result<Option<Cow<'a, str>>, JsonError> {
        if self.null()? {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    /// `true` or `false`, or `None` for `null`.
    #[inline]
    pub fn bool_or_null(&mut self) -> Result<Option<bool>, JsonError> {
        if self.null()? {
            Ok(None)
        } else {
            self.bool().map(Some)
        }
    }

    /// A string of 1 to 19 ASCII digits, as the number they spell: the form Qumulo writes its
    /// block counts in, three to an upload. `None`, with nothing but whitespace consumed, for
    /// anything else (longer, escaped, empty, not a string), which the caller then reads in
    /// full: the string and a `parse` of it were a sixth of a Qumulo page's time.
    #[inline]
    pub fn digit_string(&mut self) -> Option<u64> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let b = self.bytes();
        let start = self.pos + 1;
        let mut n = 0u64;
        let mut i = start;
        // Nineteen digits cannot overflow a u64; a twentieth ends the fast form.
        while i - start < 19 {
            match b.get(i) {
                Some(&c) if c.is_ascii_digit() => n = n * 10 + u64::from(c - b'0'),
                _ => break,
            }
            i += 1;
        }
        if i == start || b.get(i) != Some(&b'"') {
            return None;
        }
        self.pos = i + 1;
        Some(n)
    }

    /// A number's text, checked against JSON's grammar
    /// (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
    #[inline]
    pub fn number(&mut self) -> Result<&'a str, JsonError> {
        self.peek();
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return self.fail("expected a number"),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                self.pos = i;
                return self.fail("a number without digits after its point");
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                self.pos = i;
                return self.fail("a number without digits in its exponent");
            }
        }
        self.pos = i;
        Ok(&self.src[start..i])
    }

    /// Skips one value of any kind, checking it.
    pub fn skip(&mut self) -> Result<(), JsonError> {
        match self.kind()? {
            Kind::Object => {
                self.begin_object()?;
                while self.next_key()?.is_some() {
                    self.skip()?;
                }
            }
            Kind::Array => {
                self.begin_array()?;
                while self.next_item()? {
                    self.skip()?;
                }
            }
            Kind::String => {
                self.string()?;
            }
            Kind::Number => {
                self.number()?;
            }
            Kind::Bool => {
                self.bool()?;
            }
            Kind::Null => {
                self.null()?;
            }
        }
        Ok(())
    }

    /// Checks that nothing but whitespace follows the document.
    pub fn finish(mut self) -> Result<(), JsonError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.fail("trailing characters after the document"),
        }
    }
}

/// Appends `s` as a JSON string, quotes and all. Nearly every string a page holds needs no
/// escape: eight bytes at a time without a branch find that, and the string is copied as it
/// is. One that does is escaped by serde_json, exactly as RFC 8259 requires. (serde_json's
/// own writer looks each byte up in a table: a third of a BOS answer of 1000 uploads in
/// callgrind.)
#[inline]
pub fn write_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    if plain(s.as_bytes()) {
        out.push_str(s);
    } else {
        let quoted = serde_json::to_string(s).unwrap_or_default();
        out.push_str(
            quoted
                .get(1..quoted.len().saturating_sub(1))
                .unwrap_or_default(),
        );
    }
    out.push('"');
}

/// Whether no byte of `b` must be escaped in a JSON string: `"`, `\` or a control character.
#[inline]
fn plain(b: &[u8]) -> bool {
    use crate::swar::{below, equal, unmarked};
    unmarked(b, b'a', |x| {
        equal(x, b'"') | equal(x, b'\\') | below(x, 0x20)
    })
}

/// A position before a value, from [`JsonReader::mark`].
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    at: usize,
    depth: u32,
}

/// The whole text of a value a reader accepted, and the depth it was read at.
#[derive(Debug, Clone, Copy)]
pub struct ValueText<'a> {
    text: &'a str,
    depth: u32,
}

/// The last value read at one place of a document (the owner of each upload, say), as its
/// text and as what the caller made of it: a value there that repeats it byte for byte is
/// taken by comparing its text, and the caller's result is reused instead of read again.
pub struct LastValue<'a, T> {
    last: Option<(ValueText<'a>, T)>,
}

impl<T> Default for LastValue<'_, T> {
    fn default() -> Self {
        Self { last: None }
    }
}

impl<'a, T: Clone> LastValue<'a, T> {
    /// The next value: the last one's result again when its text repeats, else `read`'s.
    pub fn read<E>(
        &mut self,
        r: &mut JsonReader<'a>,
        read: impl FnOnce(&mut JsonReader<'a>) -> Result<T, E>,
    ) -> Result<T, E> {
        if let Some((text, value)) = &self.last
            && r.repeat_of(text)
        {
            return Ok(value.clone());
        }
        let mark = r.mark();
        let value = read(r)?;
        self.last = r.value_since(mark).map(|text| (text, value.clone()));
        Ok(value)
    }
}

#[inline(always)]
fn skip_space(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// The first byte at or after `from` that ends a plain run in a string: `"`, `\\` or a control
/// character. Eight bytes at a time (the strings here are short, and a call to `memchr2`
/// plus a second pass for control characters cost more than this whole scan).
#[inline]
fn stop(b: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes of `x` equal to zero, or below `n`, have their high bit set in the result; a
    // borrow can only mark bytes above a marked one, so the lowest mark is exact.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let mut at = from;
    while let Some(chunk) = b.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let found = zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | below(x, 0x20);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b.get(at..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Map, Number, Value};

    /// Reads any value through the reader, as a page reader would, into serde_json's model:
    /// guessing keys with `next_key_is` before reading them, and taking a value that repeats
    /// one read before with `repeat_of`, so that every test below also holds those two.
    fn read<'a>(
        r: &mut JsonReader<'a>,
        seen: &mut Vec<(ValueText<'a>, Value)>,
    ) -> Result<Value, JsonError> {
        if let Some((_, v)) = seen.iter().find(|(text, _)| r.repeat_of(text)) {
            return Ok(v.clone());
        }
        let mark = r.mark();
        let value = match r.kind()? {
            Kind::Object => {
                r.begin_object()?;
                let mut m = Map::new();
                loop {
                    // The generator's shortest keys, guessed as a page reader guesses.
                    let k = if r.next_key_is(b"\"\"") {
                        String::new()
                    } else if r.next_key_is(b"\"a\"") {
                        "a".into()
                    } else {
                        match r.next_key()? {
                            Some(k) => k.into_owned(),
                            None => break,
                        }
                    };
                    let v = read(r, seen)?;
                    m.insert(k, v);
                }
                Value::Object(m)
            }
            Kind::Array => {
                r.begin_array()?;
                let mut a = Vec::new();
                while r.next_item()? {
                    a.push(read(r, seen)?);
                }
                Value::Array(a)
            }
            Kind::String => Value::String(r.string()?.into_owned()),
            Kind::Number => {
                let text = r.number()?;
                Value::Number(serde_json::from_str::<Number>(text).map_err(|_| JsonError {
                    what: "number out of range",
                    at: 0,
                })?)
            }
            Kind::Bool => Value::Bool(r.bool()?),
            Kind::Null => {
                r.null()?;
                Value::Null
            }
        };
        if let Some(text) = r.value_since(mark) {
            seen.push((text, value.clone()));
        }
        Ok(value)
    }

    fn parse(doc: &str) -> Result<Value, JsonError> {
        let mut r = JsonReader::new(doc);
        let v = read(&mut r, &mut Vec::new())?;
        r.finish()?;
        Ok(v)
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| Value::Number(n.into())),
            any::<u64>().prop_map(|n| Value::Number(n.into())),
            (-1e300f64..1e300).prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<String>().prop_map(Value::String),
            "[a-z\"\\\\/\u{1}\u{1f} é😀]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                // Keys `read` guesses, often enough that damage lands on them.
                prop::collection::btree_map(
                    prop_oneof![
                        Just(String::new()),
                        Just("a".to_string()),
                        "[a-zA-Z\"é]{0,6}"
                    ],
                    inner,
                    0..6,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn reads_back_what_serde_json_writes(v in value()) {
            // Compared with serde_json's reading of the same text (a float may not survive a
            // round trip through text exactly, in either reader).
            for doc in [serde_json::to_string(&v), serde_json::to_string_pretty(&v)] {
                let doc = doc.unwrap_or_default();
                let theirs = serde_json::from_str::<Value>(&doc).map_err(|e| e.to_string());
                prop_assert!(theirs.is_ok());
                prop_assert_eq!(parse(&doc).map_err(|e| e.to_string()), theirs);
            }
        }

        /// Damaged documents: cut, a byte replaced, a byte inserted. Whatever serde_json
        /// accepts, the reader accepts with the same value, and the other way round.
        #[test]
        fn agrees_with_serde_json_on_every_document(
            v in value(),
            cut in any::<prop::sample::Index>(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(b"{}[]:,\"\\ 0-1.eE+tfnul\x01\x1f\x7fx".to_vec()),
            how in 0..3u8,
        ) {
            let doc = serde_json::to_string(&v).unwrap_or_default();
            let mut bytes = doc.into_bytes();
            let i = at.index(bytes.len() + 1);
            match how {
                0 => bytes.truncate(cut.index(bytes.len() + 1)),
                1 if i < bytes.len() => bytes[i] = byte,
                _ => bytes.insert(i, byte),
            }
            if let Ok(doc) = std::str::from_utf8(&bytes) {
                let theirs = serde_json::from_str::<Value>(doc).ok();
                prop_assert_eq!(parse(doc).ok(), theirs, "{}", doc);
            }
        }
    }

    #[test]
    fn edge_documents_match_serde_json() {
        for doc in [
            "",
            " ",
            "{}",
            "[]",
            "{,}",
            "[,]",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{\"a\"x1}",
            "{\"a\",1}",
            "{\"a\"",
            "{\"a\":1,\"a\"}",
            "{\"\"::1}",
            "{\"a\":}",
            "{1:2}",
            "01",
            "-",
            "-0",
            "1.",
            ".5",
            "1e",
            "1e+",
            "1E-2",
            "-01",
            "tru",
            "nul",
            "true false",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"a\u{1}b\"",
            "\"\u{1f}\"",
            "\"\u{7f}\"",
            "\"\\x\"",
            "\"tab\there\"",
            "[[[]]]",
            "{\"a\":{\"b\":[null,true,false,\"\\\"\"]}}",
            "\"",
            "\"\\",
            "[1]]",
            "{\"a\":1}}",
            "1e400",
            "18446744073709551616",
            "\"é\\u00e9\"",
        ] {
            let theirs = serde_json::from_str::<Value>(doc).ok();
            assert_eq!(parse(doc).ok(), theirs, "{doc:?}");
        }
        // A value repeated deeper than it was first read is read again, not taken by its
        // text: here the repeat passes the nesting limit and must be refused.
        let nested = "[".repeat(126) + &"]".repeat(126);
        let doc = format!("[{nested},[{nested}]]");
        assert!(parse(&doc).is_err());
        assert!(serde_json::from_str::<Value>(&doc).is_err());
        let doc = format!("[{nested},{nested}]");
        assert!(parse(&doc).is_ok());
        assert!(serde_json::from_str::<Value>(&doc).is_ok());
        for levels in [127, 128] {
            let doc = "[".repeat(levels) + &"]".repeat(levels);
            let theirs = serde_json::from_str::<Value>(&doc).ok();
            assert_eq!(parse(&doc).ok(), theirs, "{levels} levels");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).is_err());
        assert!(serde_json::from_str::<Value>(&deep).is_err());
    }

    proptest! {
        #[test]
        fn stop_finds_the_first_quote_backslash_or_control(
            text in prop::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..=0xff], 0..40),
            from in 0usize..40,
        ) {
            let expected = text
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, c)| **c == b'"' || **c == b'\\' || **c < 0x20)
                .map(|(i, _)| i);
            prop_assert_eq!(stop(&text, from), expected);
        }
    }

    proptest! {
        /// `write_str` writes what serde_json writes, for any string.
        #[test]
        fn strings_are_written_as_serde_json_writes_them(
            s in prop_oneof![any::<String>(), "[a-z\"\\\\\u{0}\u{1f}\u{7f} é😀]{0,20}"],
        ) {
            let mut out = String::new();
            write_str(&mut out, &s);
            prop_assert_eq!(out, serde_json::to_string(&s).unwrap_or_default());
        }
    }

    #[test]
    fn a_guessed_key_is_taken_only_as_written() {
        let mut r = JsonReader::new(r#"{"id":1, "key" :2,"\u0069d":3,"idx":4}"#);
        assert_eq!(r.begin_object(), Ok(()));
        assert!(!r.next_key_is(br#""key""#));
        assert!(r.next_key_is(br#""id""#));
        assert_eq!(r.number(), Ok("1"));
        assert!(r.next_key_is(br#""key""#), "spaces around the key");
        assert_eq!(r.number(), Ok("2"));
        assert!(
            !r.next_key_is(br#""id""#),
            "an escaped key is left to next_key"
        );
        assert_eq!(r.next_key(), Ok(Some(Cow::Owned("id".into()))));
        assert_eq!(r.number(), Ok("3"));
        assert!(!r.next_key_is(br#""id""#), "a longer key");
        assert_eq!(r.next_key(), Ok(Some(Cow::Borrowed("idx"))));
        assert_eq!(r.number(), Ok("4"));
        assert!(!r.next_key_is(br#""id""#), "the end of the object");
        assert_eq!(r.next_key(), Ok(None));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn only_a_value_that_shows_its_end_repeats() {
        let mut r = JsonReader::new(r#"[12,123,"a","ab",{"x":[1]},{"x":[1]}]"#);
        assert_eq!(r.begin_array(), Ok(()));
        assert_eq!(r.next_item(), Ok(true));
        let mark = r.mark();
        assert_eq!(r.number(), Ok("12"));
        assert!(r.value_since(mark).is_none());
        assert_eq!(r.next_item(), Ok(true));
        assert_eq!(r.number(), Ok("123"));
        assert_eq!(r.next_item(), Ok(true));
        let mark = r.mark();
        assert!(matches!(r.string(), Ok(Cow::Borrowed("a"))));
        let a = r.value_since(mark);
        assert!(a.is_some());
        assert_eq!(r.next_item(), Ok(true));
        assert!(a.is_some_and(|a| !r.repeat_of(&a)), "\"a\" is not \"ab\"");
        assert!(matches!(r.string(), Ok(Cow::Borrowed("ab"))));
        assert_eq!(r.next_item(), Ok(true));
        let mark = r.mark();
        assert_eq!(r.skip(), Ok(()));
        let object = r.value_since(mark);
        assert_eq!(r.next_item(), Ok(true));
        assert!(object.is_some_and(|o| r.repeat_of(&o)));
        assert_eq!(r.next_item(), Ok(false));
        assert_eq!(r.finish(), Ok(()));
    }

    proptest! {
        /// A digit string is its number, as `parse` reads it, or `None` with the reader where
        /// it was, so that the full reader then reads the same value.
        #[test]
        fn digit_strings_read_as_parse_reads_them(
            text in proptest::prop_oneof![
                "[0-9]{1,22}",
                "[0-9a\\\\ ]{0,4}",
                Just(String::new()),
            ],
            quoted in proptest::bool::ANY,
        ) {
            let doc = if quoted { format!(" \"{text}\"") } else { format!(" {text}") };
            let mut r = JsonReader::new(&doc);
            match r.digit_string() {
                Some(n) => {
                    prop_assert!(quoted);
                    prop_assert_eq!(Ok(n), text.parse::<u64>());
                    prop_assert!(r.finish().is_ok());
                }
                None => {
                    let fast = quoted && !text.is_empty() && text.len() <= 19
                        && text.bytes().all(|c| c.is_ascii_digit());
                    prop_assert!(!fast, "{doc:?} is in the fast form");
                    // Nothing but the space before the value was consumed.
                    let mut full = JsonReader::new(&doc);
                    prop_assert_eq!(r.kind().ok(), full.kind().ok());
                    if quoted {
                        prop_assert_eq!(r.string().ok(), full.string().ok());
                    }
                }
            }
        }
    }

    #[test]
    fn plain_strings_are_borrowed() {
        let mut r = JsonReader::new(r#"["plain é", "esc\"aped"]"#);
        r.begin_array().unwrap_or_default();
        assert_eq!(r.next_item(), Ok(true));
        assert!(matches!(r.string(), Ok(Cow::Borrowed("plain é"))));
        assert_eq!(r.next_item(), Ok(true));
        assert!(matches!(r.string(), Ok(Cow::Owned(s)) if s == "esc\"aped"));
        assert_eq!(r.next_item(), Ok(false));
        assert_eq!(r.finish(), Ok(()));
    }
}
