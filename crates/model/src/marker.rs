//! Upload-id markers that keep their place.
//!
//! S3 and BOS callers resume a listing with the last upload's id (`NextUploadIdMarker`).
//! Once that upload is aborted — exactly what a cleanup tool does between pages — a backend
//! can no longer say where the id stood, and an AWS-faithful one refuses the marker. So the
//! marker dragoman hands out carries the position: an id dragoman issued already starts with
//! its initiation time; any other id gets the time appended as `~t<16 hex digits>`. Plain ids
//! from elsewhere are still accepted as they are.

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

/// The marker for the upload `(upload_id, initiated)`: the id itself when it carries its
/// time (or no time is known), else the id with its time appended.
pub fn upload_id_marker(upload_id: &str, initiated: Option<Timestamp>) -> Cow<'_, str> {
    match initiated {
        Some(t) if initiated_of(upload_id) != Some(t) => {
            let nanos = u64::try_from(t.as_nanos()).unwrap_or(0);
            Cow::Owned(format!("{upload_id}{TIME}{nanos:016x}"))
        }
        _ => Cow::Borrowed(upload_id),
    }
}

/// The upload id and initiation time a marker names: a marker written by
/// [`upload_id_marker`], or a plain upload id (whose time the backend must resolve).
pub fn parse_upload_id_marker(marker: &str) -> (&str, Option<Timestamp>) {
    if let Some((id, hex)) = marker.rsplit_once(TIME)
        && !id.is_empty()
        && hex.len() == 16
        && hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        && let Ok(nanos) = u64::from_str_radix(hex, 16)
        && let Ok(nanos) = i64::try_from(nanos)
    {
        return (id, Some(Timestamp::from_nanos(nanos)));
    }
    (marker, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dragoman_ids_stay_plain_and_others_carry_their_time() {
        let own = "000000000000000a0123456789abcdef";
        assert_eq!(upload_id_marker(own, Some(Timestamp::from_nanos(10))), own);
        let foreign = "2~abc.DEF_xyz-1";
        let m = upload_id_marker(foreign, Some(Timestamp::from_nanos(255)));
        assert_eq!(m, "2~abc.DEF_xyz-1~t00000000000000ff");
        assert_eq!(
            parse_upload_id_marker(&m),
            (foreign, Some(Timestamp::from_nanos(255)))
        );
        assert_eq!(upload_id_marker(foreign, None), foreign);
        assert_eq!(parse_upload_id_marker(foreign), (foreign, None));
        assert_eq!(
            parse_upload_id_marker("~t00000000000000ff"),
            ("~t00000000000000ff", None)
        );
        assert_eq!(
            parse_upload_id_marker("x~tFFFFFFFFFFFFFFFF"),
            ("x~tFFFFFFFFFFFFFFFF", None)
        );
    }

    proptest! {
        #[test]
        fn markers_round_trip(id in "[A-Za-z0-9._~-]{1,40}", nanos in 0i64..i64::MAX) {
            let t = Timestamp::from_nanos(nanos);
            let m = upload_id_marker(&id, Some(t));
            let (back, time) = parse_upload_id_marker(&m);
            prop_assert_eq!(back, id.as_str());
            prop_assert!(time == Some(t) || (time.is_none() && initiated_of(&id) == Some(t)));
        }
    }
}
