//! Storage classes of every vendor, mapped through one canonical enum.
//!
//! The table is the single place where a vendor's name for a class meets another vendor's name.

/// A storage class. Classes one vendor has and the other lacks keep their own variant, so a
/// round trip through dragoman never renames a class into something the vendor did not say.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StorageClass {
    Standard,
    StandardIa,
    OnezoneIa,
    ReducedRedundancy,
    IntelligentTiering,
    Glacier,
    GlacierIr,
    DeepArchive,
    Outposts,
    Snow,
    ExpressOnezone,
    Cold,
    Archive,
    MazStandard,
    MazStandardIa,
    MazCold,
    /// A name no table knows; kept verbatim.
    Other(String),
}

/// (canonical, S3 name, BOS name). `None`: that vendor has no such class.
const TABLE: &[(StorageClass, Option<&str>, Option<&str>)] = &[
    (StorageClass::Standard, Some("STANDARD"), Some("STANDARD")),
    (
        StorageClass::StandardIa,
        Some("STANDARD_IA"),
        Some("STANDARD_IA"),
    ),
    (StorageClass::OnezoneIa, Some("ONEZONE_IA"), None),
    (
        StorageClass::ReducedRedundancy,
        Some("REDUCED_REDUNDANCY"),
        None,
    ),
    (
        StorageClass::IntelligentTiering,
        Some("INTELLIGENT_TIERING"),
        None,
    ),
    (StorageClass::Glacier, Some("GLACIER"), None),
    (StorageClass::GlacierIr, Some("GLACIER_IR"), None),
    (StorageClass::DeepArchive, Some("DEEP_ARCHIVE"), None),
    (StorageClass::Outposts, Some("OUTPOSTS"), None),
    (StorageClass::Snow, Some("SNOW"), None),
    (StorageClass::ExpressOnezone, Some("EXPRESS_ONEZONE"), None),
    (StorageClass::Cold, None, Some("COLD")),
    (StorageClass::Archive, None, Some("ARCHIVE")),
    (StorageClass::MazStandard, None, Some("MAZ_STANDARD")),
    (StorageClass::MazStandardIa, None, Some("MAZ_STANDARD_IA")),
    (StorageClass::MazCold, None, Some("MAZ_COLD")),
];

impl StorageClass {
    /// The stable name used in the embedded store and in logs.
    pub fn canonical_name(&self) -> &str {
        match self {
            Self::Other(s) => s,
            known => TABLE
                .iter()
                .find(|(c, _, _)| c == known)
                .and_then(|(_, s3, bos)| s3.or(*bos))
                .unwrap_or("STANDARD"),
        }
    }

    pub fn from_canonical_name(name: &str) -> Self {
        TABLE
            .iter()
            .find(|(_, s3, bos)| *s3 == Some(name) || *bos == Some(name))
            .map(|(c, _, _)| c.clone())
            .unwrap_or_else(|| Self::Other(name.to_owned()))
    }

    /// The S3 name. A BOS-only class is written as S3's nearest documented equivalent would be
    /// misleading, so it keeps its BOS name: S3 clients treat the element as a free string.
    pub fn to_s3(&self) -> &str {
        self.canonical_name()
    }

    pub fn from_s3(name: &str) -> Self {
        TABLE
            .iter()
            .find(|(_, s3, _)| *s3 == Some(name))
            .map(|(c, _, _)| c.clone())
            .unwrap_or_else(|| Self::Other(name.to_owned()))
    }

    pub fn to_bos(&self) -> &str {
        self.canonical_name()
    }

    pub fn from_bos(name: &str) -> Self {
        TABLE
            .iter()
            .find(|(_, _, bos)| *bos == Some(name))
            .map(|(c, _, _)| c.clone())
            .unwrap_or_else(|| Self::Other(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_class_round_trips_through_its_vendors() {
        for (class, s3, bos) in TABLE {
            if let Some(s3) = s3 {
                assert_eq!(&StorageClass::from_s3(s3), class);
                assert_eq!(class.to_s3(), *s3);
            }
            if let Some(bos) = bos {
                assert_eq!(&StorageClass::from_bos(bos), class);
                assert_eq!(class.to_bos(), *bos);
            }
            assert_eq!(
                &StorageClass::from_canonical_name(class.canonical_name()),
                class
            );
        }
    }

    #[test]
    fn unknown_names_survive_verbatim() {
        let c = StorageClass::from_s3("FSX_ONTAP");
        assert_eq!(c, StorageClass::Other("FSX_ONTAP".into()));
        assert_eq!(c.to_s3(), "FSX_ONTAP");
        assert_eq!(
            StorageClass::from_s3("COLD"),
            StorageClass::Other("COLD".into())
        );
        assert_eq!(StorageClass::from_bos("COLD"), StorageClass::Cold);
    }
}
