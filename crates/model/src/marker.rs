//! Upload-id markers that keep their place.
//!
//! S3 and BOS callers resume a listing with the last upload's id (`NextUploadIdMarker`).
//! Once that upload is aborted — exactly what a cleanup tool does between pages — a backend
//! can no longer say where the id stood, and an AWS-faithful one refuses the marker. So the
//! marker dragoman hands out carries the position: an id dragoman issued already starts with
//! its initiation time; any other id gets the time appended as `~t<16 hex digits>`. And where
//! the time alone cannot place the upload (a backend that reports times to the second orders
//! uploads of one key within one second by a clock of its own), the marker also names the
//! upload that followed it, `.<its id in hex>`: the listing resumes at that one. Plain ids from
//! elsewhere are still accepted as they are.

use std::borrow::Cow;

use crate::Timestamp;

/// What separates an upload id from the initiation time in a marker.
const TIME: &str = "~t";

/// The initiation time an upload id dragoman issued carries (16 hex digits of nanoseconds,
/// then 16 random ones), or `None` for any other id.
pub fn initiated_of(upload_id: &str) -> Option<Timestamp> {
    let b = upload_id.as_bytes();
    if b.len() != 32 || !b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let t = u64::from_str_radix(upload_id.get(..16)?, 16).ok()?;
    i64::try_from(t).ok().map(Timestamp::from_nanos)
}

/// The marker for the upload `(upload_id, initiated)`, followed in the backend's order by
/// `next` (of the same key): the id itself when it carries its time and nothing follows (or
/// no time is known), else `<id>~t<time>[.<next in hex>]`.
pub fn upload_id_marker<'a>(
    upload_id: &'a str,
    initiated: Option<Timestamp>,
    next: Option<&str>,
) -> Cow<'a, str> {
    let Some(t) = initiated else {
        return Cow::Borrowed(upload_id);
    };
    if next.is_none() && initiated_of(upload_id) == Some(t) {
        return Cow::Borrowed(upload_id);
    }
    let nanos = u64::try_from(t.as_nanos()).unwrap_or(0);
    let mut m =
        String::with_capacity(upload_id.len() + TIME.len() + 17 + 2 * next.map_or(0, str::len));
    m.push_str(upload_id);
    m.push_str(TIME);
    m.push_str(const_hex::Buffer::<8>::new().format(&nanos.to_be_bytes()));
    if let Some(next) = next {
        m.push('.');
        m.push_str(&const_hex::encode(next));
    }
    Cow::Owned(m)
}

/// What a marker names: the upload id, its initiation time and the upload that followed it,
/// for a marker written by [`upload_id_marker`]; a plain upload id otherwise (whose time the
/// backend must resolve).
pub fn parse_upload_id_marker(marker: &str) -> (&str, Option<Timestamp>, Option<String>) {
    let plain = (marker, None, None);
    let Some((id, rest)) = marker.rsplit_once(TIME) else {
        return plain;
    };
    let (hex, next) = match rest.split_once('.') {
        Some((hex, next)) => (hex, Some(next)),
        None => (rest, None),
    };
    let is_hex = |s: &str| s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    if id.is_empty() || hex.len() != 16 || !is_hex(hex) {
        return plain;
    }
    let Some(time) = u64::from_str_radix(hex, 16)
        .ok()
        .and_then(|n| i64::try_from(n).ok())
    else {
        return plain;
    };
    let next = match next {
        None => None,
        Some(n) if n.len() % 2 == 0 && is_hex(n) => {
            let bytes: Option<Vec<u8>> = (0..n.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(n.get(i..i + 2)?, 16).ok())
                .collect();
            match bytes.and_then(|b| String::from_utf8(b).ok()) {
                Some(s) => Some(s),
                None => return plain,
            }
        }
        Some(_) => return plain,
    };
    (id, Some(Timestamp::from_nanos(time)), next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dragoman_ids_stay_plain_and_others_carry_their_place() {
        let own = "000000000000000a0123456789abcdef";
        let ten = Some(Timestamp::from_nanos(10));
        assert_eq!(upload_id_marker(own, ten, None), own);
        // Even a dragoman id carries what follows it, when something does.
        assert_ne!(upload_id_marker(own, ten, Some("x")), own);
        let foreign = "2~abc.DEF_xyz-1";
        let t = Some(Timestamp::from_nanos(255));
        let m = upload_id_marker(foreign, t, None);
        assert_eq!(m, "2~abc.DEF_xyz-1~t00000000000000ff");
        assert_eq!(parse_upload_id_marker(&m), (foreign, t, None));
        let m = upload_id_marker(foreign, t, Some("n~1"));
        assert_eq!(m, "2~abc.DEF_xyz-1~t00000000000000ff.6e7e31");
        assert_eq!(
            parse_upload_id_marker(&m),
            (foreign, t, Some("n~1".to_owned()))
        );
        // "Nothing of this key follows" is a marker too.
        let m = upload_id_marker(foreign, t, Some(""));
        assert_eq!(m, "2~abc.DEF_xyz-1~t00000000000000ff.");
        assert_eq!(
            parse_upload_id_marker(&m),
            (foreign, t, Some(String::new()))
        );
        assert_eq!(upload_id_marker(foreign, None, None), foreign);
        assert_eq!(parse_upload_id_marker(foreign), (foreign, None, None));
        for odd in [
            "~t00000000000000ff",
            "x~tFFFFFFFFFFFFFFFF",
            "x~t00000000000000ff.zz",
            "x~t00000000000000ff.6",
            "x~t00000000000000ff.ff",
        ] {
            assert_eq!(parse_upload_id_marker(odd), (odd, None, None), "{odd}");
        }
    }

    proptest! {
        #[test]
        fn markers_round_trip(
            id in "[A-Za-z0-9._~-]{1,40}",
            nanos in 0i64..i64::MAX,
            next in proptest::option::of("[A-Za-z0-9._~-]{1,40}"),
        ) {
            let t = Timestamp::from_nanos(nanos);
            let m = upload_id_marker(&id, Some(t), next.as_deref());
            let (back, time, after) = parse_upload_id_marker(&m);
            prop_assert_eq!(back, id.as_str());
            prop_assert!(time == Some(t) || (time.is_none() && initiated_of(&id) == Some(t)));
            prop_assert_eq!(after, next);
        }
    }
}
