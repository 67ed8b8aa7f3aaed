//! Upload ids: 16 hex digits of the initiation time in nanoseconds, then 16 random hex digits.
//!
//! The time comes first so that ids sort in initiation order, and so that an id whose upload
//! was since aborted still names a place in the canonical order.

use dragoman_model::Timestamp;
use rand::Rng;

pub fn new_upload_id(initiated: Timestamp) -> String {
    // Nanoseconds before 1970 do not occur for new uploads; clamp rather than wrap.
    let t = u64::try_from(initiated.as_nanos()).unwrap_or(0);
    let r: u64 = rand::rng().random();
    format!("{t:016x}{r:016x}")
}

/// The initiation time an id of this format carries (the model owns the format's reading,
/// since dialects read it in markers too).
pub use dragoman_model::initiated_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_time_order_and_carry_their_time() {
        let a = new_upload_id(Timestamp::from_nanos(9));
        let b = new_upload_id(Timestamp::from_nanos(10));
        let c = new_upload_id(Timestamp::from_nanos(1_767_323_045_000_000_000));
        assert!(a < b && b < c);
        assert_eq!(initiated_of(&b), Some(Timestamp::from_nanos(10)));
        assert_eq!(
            initiated_of(&c),
            Some(Timestamp::from_nanos(1_767_323_045_000_000_000))
        );
    }

    #[test]
    fn foreign_ids_carry_no_time() {
        assert_eq!(initiated_of("abc"), None);
        assert_eq!(initiated_of("0000000000000001000000000000000G"), None);
        assert_eq!(initiated_of("ffffffffffffffff0000000000000000"), None);
        assert_eq!(initiated_of(&"A".repeat(32)), None);
    }
}
