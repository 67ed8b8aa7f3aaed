//! One timestamp type and every wire format the dialects need, in one place.

use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Nanoseconds since the Unix epoch, UTC. Ordered, so it takes part in the canonical order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

const NANOS_PER_SEC: i64 = 1_000_000_000;

impl Timestamp {
    pub const fn from_nanos(nanos: i64) -> Self {
        Self(nanos)
    }

    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(NANOS_PER_SEC))
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SEC)
    }

    fn datetime(self) -> OffsetDateTime {
        // Every i64 nanosecond count lies within time's supported range (years 1677..2262).
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS[.f…]Z` with `digits` fractional digits (0, 3 or 9) to `out`.
    ///
    /// Writes digits straight into the caller's buffer: a page of 1000 uploads formats 1000
    /// times, and `format!` into a fresh `String` each time was most of a page's render cost.
    pub fn write_rfc3339(self, out: &mut String, digits: u32) {
        let (buf, len) = self.rfc3339_bytes(digits);
        // Only ASCII digits and separators were written.
        out.push_str(std::str::from_utf8(&buf[..len]).unwrap_or_default());
    }

    /// [`Timestamp::write_rfc3339`]'s text on the stack, and its length.
    fn rfc3339_bytes(self, digits: u32) -> ([u8; 32], usize) {
        let d = self.datetime();
        // Two digits at a time from a table: one digit a step through `% 10` was about half
        // of a timestamp's instructions.
        let mut buf = [0u8; 32];
        let year = u32::try_from(d.year()).unwrap_or(0);
        buf[..2].copy_from_slice(&pair(year / 100));
        buf[2..4].copy_from_slice(&pair(year % 100));
        buf[4] = b'-';
        buf[5..7].copy_from_slice(&pair(u32::from(u8::from(d.month()))));
        buf[7] = b'-';
        buf[8..10].copy_from_slice(&pair(u32::from(d.day())));
        buf[10] = b'T';
        buf[11..13].copy_from_slice(&pair(u32::from(d.hour())));
        buf[13] = b':';
        buf[14..16].copy_from_slice(&pair(u32::from(d.minute())));
        buf[16] = b':';
        buf[17..19].copy_from_slice(&pair(u32::from(d.second())));
        let digits = digits.min(9) as usize;
        let mut at = 19;
        if digits > 0 {
            buf[at] = b'.';
            let n = d.nanosecond();
            let nine = [
                pair(n / 10_000_000),
                pair(n / 100_000 % 100),
                pair(n / 1000 % 100),
                pair(n / 10 % 100),
            ];
            buf[at + 1..at + 9].copy_from_slice(nine.as_flattened());
            buf[at + 9] = b'0' + (n % 10) as u8;
            at += 1 + digits;
        }
        buf[at] = b'Z';
        (buf, at + 1)
    }

    fn rfc3339(self, digits: u32) -> String {
        let mut s = String::with_capacity(30);
        self.write_rfc3339(&mut s, digits);
        s
    }

    /// `2026-01-02T03:04:05.123Z`: S3's `Initiated` (milliseconds, `Z`).
    pub fn to_millis_z(self) -> String {
        self.rfc3339(3)
    }

    /// `2026-01-02T03:04:05Z`: BOS's `initiated` and auth timestamps (seconds, `Z`).
    pub fn to_secs_z(self) -> String {
        self.rfc3339(0)
    }

    /// `2026-01-02T03:04:05.123456789Z`: Qumulo's times (nine fractional digits, `Z`).
    pub fn to_nanos_z(self) -> String {
        self.rfc3339(9)
    }

    /// SigV4's `x-amz-date` form, `20260102T030405Z`.
    pub fn to_amz_date(self) -> String {
        self.amz_date().as_str().to_owned()
    }

    /// [`Timestamp::to_amz_date`] on the stack: every request dragoman signs for S3 writes
    /// one, and it was two `String`s (the RFC 3339 text, then that text without separators).
    pub fn amz_date(self) -> AmzDate {
        let (text, _) = self.rfc3339_bytes(0);
        let mut out = [0u8; 16];
        // `YYYY-MM-DDTHH:MM:SSZ` without its `-` and `:`.
        for (to, from) in out
            .iter_mut()
            .zip([0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 14, 15, 17, 18, 19])
        {
            *to = text[from];
        }
        AmzDate(out)
    }

    /// Parses SigV4's `20260102T030405Z`.
    pub fn parse_amz_date(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
        let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
        Self::from_civil([y, mo, d, h, mi, se], 0)
    }

    /// A UTC calendar time `[year, month, day, hour, minute, second]`, checked: a month of
    /// 1-12, a day that exists in it, 0-23 hours, 0-59 minutes and seconds, and an instant an
    /// `i64` of nanoseconds can hold.
    fn from_civil([y, mo, d, h, mi, se]: [u32; 6], nanos: u32) -> Option<Self> {
        if !(1..=12).contains(&mo)
            || d == 0
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || se > 59
        {
            return None;
        }
        let days = days_from_civil(i64::from(y), mo, d);
        let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + se);
        secs.checked_mul(NANOS_PER_SEC)?
            .checked_add(i64::from(nanos))
            .map(Self)
    }

    /// Parses RFC 3339 with any number of fractional digits (`Z` or an offset).
    ///
    /// The form every backend writes, `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, is read here by hand:
    /// a page of 1000 uploads parses 1000 of them (2000 on Qumulo), and the `time` crate's
    /// general parser was 4 % of an S3 page's parse. Anything else (offsets, a lower-case `t`
    /// or `z`, a leap second, more digits) goes to `time`, which the fast path must agree with
    /// (`fast_rfc3339_agrees_with_time`).
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        match Self::parse_rfc3339_utc(s.as_bytes()) {
            Some(t) => Some(t),
            None => {
                let d = OffsetDateTime::parse(s, &Rfc3339).ok()?;
                i64::try_from(d.unix_timestamp_nanos()).ok().map(Self)
            }
        }
    }

    fn parse_rfc3339_utc(b: &[u8]) -> Option<Self> {
        // Fixed positions, checked eight bytes at a time: this runs once or twice per upload
        // of every page, and reading each field by a loop over its range cost about 300
        // instructions a time (`scripts/parse-instructions`).
        let (&b'Z', body) = b.split_last()? else {
            return None;
        };
        let (head, fraction) = body.split_at_checked(19)?;
        // XORed with the form, a digit becomes its value (0-9), the right separator in its
        // place becomes zero, and any other byte becomes something above 9.
        let word = |at: usize, (form, separators): Form| -> Option<u64> {
            let x = u64::from_le_bytes(head.get(at..at + 8)?.try_into().ok()?) ^ form;
            const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
            let digit_or_zero = x & HIGH == 0 && (x + 0x0606_0606_0606_0606) & HIGH == 0;
            (digit_or_zero && x & separators == 0).then_some(x)
        };
        let (date, time) = (word(0, DATE)?, word(8, TIME)?);
        let (s1, s0) = (head[17].wrapping_sub(b'0'), head[18].wrapping_sub(b'0'));
        if head[16] != b':' || s1 > 9 || s0 > 9 {
            return None;
        }
        let byte = |x: u64, i: u32| ((x >> (8 * i)) & 0xff) as u32;
        let two = |x: u64, i: u32| byte(x, i) * 10 + byte(x, i + 1);
        let year = two(date, 0) * 100 + two(date, 2);
        let second = u32::from(s1) * 10 + u32::from(s0);
        let nanos = match fraction {
            [] => 0,
            [b'.', f @ ..] if (1..=9).contains(&f.len()) => {
                let mut n = 0u32;
                for &c in f {
                    let v = u32::from(c.wrapping_sub(b'0'));
                    if v > 9 {
                        return None;
                    }
                    n = n * 10 + v;
                }
                n * SCALE[f.len()]
            }
            _ => return None,
        };
        Self::from_civil(
            [
                year,
                two(date, 5),
                two(time, 0),
                two(time, 3),
                two(time, 6),
                second,
            ],
            nanos,
        )
    }
}

/// Eight bytes of RFC 3339's fixed form as a word, and a mask of its separator bytes.
type Form = (u64, u64);

/// `YYYY-MM-` and `DDTHH:MM`, made once at compile time.
const DATE: Form = form(*b"0000-00-");
const TIME: Form = form(*b"00T00:00");

const fn form(bytes: [u8; 8]) -> Form {
    let mut separators = 0u64;
    let mut i = 0;
    while i < 8 {
        if bytes[i] != b'0' {
            separators |= 0xff << (8 * i);
        }
        i += 1;
    }
    (u64::from_le_bytes(bytes), separators)
}

/// SigV4's `20260102T030405Z`, on the stack ([`Timestamp::amz_date`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AmzDate([u8; 16]);

impl AmzDate {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits, `T` and `Z` are written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// What `n` fractional digits are multiplied by to make nanoseconds.
const SCALE: [u32; 10] = [
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

fn is_leap(y: u32) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The two decimal digits of `n % 100`.
fn pair(n: u32) -> [u8; 2] {
    const DIGITS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let i = (n % 100) as usize * 2;
    [DIGITS[i], DIGITS[i + 1]]
}

/// Days from 1970-01-01 to a proleptic Gregorian date: Howard Hinnant's `days_from_civil`
/// ("chrono-Compatible Low-Level Date Algorithms"), exact for every year here.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_nanos_z())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_each_dialect() {
        let t = Timestamp::from_nanos(1_767_323_045_123_456_789); // 2026-01-02T03:04:05.123456789Z
        assert_eq!(t.to_millis_z(), "2026-01-02T03:04:05.123Z");
        assert_eq!(t.to_secs_z(), "2026-01-02T03:04:05Z");
        assert_eq!(t.to_nanos_z(), "2026-01-02T03:04:05.123456789Z");
        assert_eq!(t.to_amz_date(), "20260102T030405Z");
        let whole = Timestamp::from_secs(1_767_323_045);
        assert_eq!(whole.to_millis_z(), "2026-01-02T03:04:05.000Z");
        assert_eq!(whole.to_nanos_z(), "2026-01-02T03:04:05.000000000Z");
        let early = Timestamp::from_nanos(7_000_001);
        assert_eq!(early.to_millis_z(), "1970-01-01T00:00:00.007Z");
        assert_eq!(early.to_nanos_z(), "1970-01-01T00:00:00.007000001Z");
    }

    #[test]
    fn parses_round_trip() {
        let t = Timestamp::from_nanos(1_767_323_045_123_456_789);
        assert_eq!(Timestamp::parse_rfc3339(&t.to_nanos_z()), Some(t));
        assert_eq!(
            Timestamp::parse_amz_date("20260102T030405Z"),
            Some(Timestamp::from_secs(1_767_323_045))
        );
        assert_eq!(Timestamp::parse_amz_date("2026010T030405Z"), None);
        assert_eq!(Timestamp::parse_amz_date("20261302T030405Z"), None);
        assert_eq!(Timestamp::parse_amz_date("2026-1-02T030405Z"), None);
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }

    fn via_time(s: &str) -> Option<Timestamp> {
        let d = OffsetDateTime::parse(s, &Rfc3339).ok()?;
        i64::try_from(d.unix_timestamp_nanos()).ok().map(Timestamp)
    }

    proptest::proptest! {
        #[test]
        fn fast_rfc3339_agrees_with_time(
            y in 1600u32..2400, mo in 0u32..14, d in 0u32..33, h in 0u32..26, mi in 0u32..62,
            se in 0u32..62, frac in proptest::option::of("[0-9]{1,10}"),
        ) {
            let s = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}{}Z",
                frac.map(|f| format!(".{f}")).unwrap_or_default());
            proptest::prop_assert_eq!(Timestamp::parse_rfc3339(&s), via_time(&s), "{}", s);
        }
    }

    proptest::proptest! {
        #[test]
        fn amz_date_is_the_rfc3339_text_without_separators(nanos in proptest::num::i64::ANY) {
            let t = Timestamp(nanos);
            let amz = t.amz_date();
            proptest::prop_assert_eq!(amz.as_str(), t.to_secs_z().replace(['-', ':'], ""));
            proptest::prop_assert_eq!(
                Timestamp::parse_amz_date(amz.as_str()),
                Some(Timestamp::from_secs(t.as_secs()))
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn writes_what_time_formats(nanos in proptest::num::i64::ANY, digits in 0u32..12) {
            let t = Timestamp(nanos);
            let mut ours = String::from("<");
            t.write_rfc3339(&mut ours, digits);
            let d = t.datetime();
            let mut theirs = format!(
                "<{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                d.year(), u8::from(d.month()), d.day(), d.hour(), d.minute(), d.second()
            );
            let digits = digits.min(9) as usize;
            if digits > 0 {
                theirs.push('.');
                theirs.push_str(&format!("{:09}", d.nanosecond())[..digits]);
            }
            theirs.push('Z');
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn writes_the_edges_of_the_range() {
        for (nanos, text) in [
            (i64::MIN, "1677-09-21T00:12:43.145224192Z"),
            (i64::MAX, "2262-04-11T23:47:16.854775807Z"),
            (
                951_782_400 * NANOS_PER_SEC + 90_000_009,
                "2000-02-29T00:00:00.090000009Z",
            ),
            (-NANOS_PER_SEC, "1969-12-31T23:59:59.000000000Z"),
        ] {
            assert_eq!(Timestamp(nanos).to_nanos_z(), text);
        }
    }

    #[test]
    fn every_byte_at_every_position_agrees_with_time() {
        let good = *b"2024-02-29T23:59:58.123Z";
        for at in 0..good.len() {
            for c in 0..=255u8 {
                let mut b = good;
                b[at] = c;
                if let Ok(s) = std::str::from_utf8(&b) {
                    assert_eq!(Timestamp::parse_rfc3339(s), via_time(s), "{s}");
                }
            }
        }
    }

    #[test]
    fn fast_path_edges() {
        for s in [
            "2024-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2000-02-29T23:59:59.999999999Z",
            "1677-09-21T00:12:43.145224192Z",
            "1677-09-21T00:12:43.145224191Z",
            "2262-04-11T23:47:16.854775807Z",
            "2262-04-11T23:47:16.854775808Z",
            "2026-01-02T03:04:05.Z",
            "2026-01-02t03:04:05Z",
            "2026-01-02T03:04:05z",
            "2026-01-02T03:04:60Z",
            "2026-12-31T23:59:60Z",
            "2026-01-02T03:04:05+01:00",
            "2026-01-02T03:04:05.1234567891Z",
            "+026-01-02T03:04:05Z",
            "2026-01-02T03:04:0éZ",
            "0000-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(s), via_time(s), "{s}");
        }
    }

    #[test]
    fn before_epoch_is_ordered_and_formats() {
        let t = Timestamp::from_nanos(-1);
        assert!(t < Timestamp::from_nanos(0));
        assert_eq!(t.to_nanos_z(), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(t.as_secs(), -1);
    }
}
