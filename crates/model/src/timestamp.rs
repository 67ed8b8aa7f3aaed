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
        let d = self.datetime();
        let mut buf = [0u8; 32];
        let mut at = 0;
        let mut put = |n: u32, width: usize, sep: Option<u8>| {
            let mut n = n;
            for i in (0..width).rev() {
                buf[at + i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
            at += width;
            if let Some(sep) = sep {
                buf[at] = sep;
                at += 1;
            }
        };
        put(u32::try_from(d.year()).unwrap_or(0), 4, Some(b'-'));
        put(u32::from(u8::from(d.month())), 2, Some(b'-'));
        put(u32::from(d.day()), 2, Some(b'T'));
        put(u32::from(d.hour()), 2, Some(b':'));
        put(u32::from(d.minute()), 2, Some(b':'));
        let digits = digits.min(9);
        if digits == 0 {
            put(u32::from(d.second()), 2, Some(b'Z'));
        } else {
            put(u32::from(d.second()), 2, Some(b'.'));
            put(
                d.nanosecond() / 10u32.pow(9 - digits),
                digits as usize,
                Some(b'Z'),
            );
        }
        // Only ASCII digits and separators were written.
        out.push_str(std::str::from_utf8(&buf[..at]).unwrap_or_default());
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
        self.to_secs_z().replace(['-', ':'], "")
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
        let rfc = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}Z");
        Self::parse_rfc3339(&rfc)
    }

    /// Parses RFC 3339 with any number of fractional digits (`Z` or an offset).
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let d = OffsetDateTime::parse(s, &Rfc3339).ok()?;
        i64::try_from(d.unix_timestamp_nanos()).ok().map(Self)
    }
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

    #[test]
    fn before_epoch_is_ordered_and_formats() {
        let t = Timestamp::from_nanos(-1);
        assert!(t < Timestamp::from_nanos(0));
        assert_eq!(t.to_nanos_z(), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(t.as_secs(), -1);
    }
}
