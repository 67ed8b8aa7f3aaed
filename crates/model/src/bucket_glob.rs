//! Bucket patterns, as routes, access rules and sweeps name buckets: `glob-match`'s globs
//! (`*`, `?`, `[a-z]`, `{a,b}`; `*` stops at `/`, `**` does not).
//!
//! Most patterns in a configuration are a literal name or a literal prefix and one `*`, and
//! every request matches its bucket against the routes and the caller's patterns: through
//! `glob_match` that was about 350 instructions a pattern (2,200 of a page-10 request). Those
//! two shapes are answered here by comparing bytes; anything else goes to `glob_match`.

/// Whether a byte has a meaning in a glob. (A `/` is counted too: there it also matches a
/// platform's other separator.)
fn is_glob_syntax(b: &u8) -> bool {
    matches!(
        b,
        b'*' | b'?' | b'[' | b']' | b'{' | b'}' | b'!' | b'\\' | b'/'
    )
}

/// Whether `pattern` names exactly one bucket, itself.
pub fn is_literal_pattern(pattern: &str) -> bool {
    !pattern.as_bytes().iter().any(is_glob_syntax)
}

/// Whether `bucket` matches the glob `pattern`, exactly as `glob_match::glob_match` says.
pub fn bucket_matches(pattern: &str, bucket: &str) -> bool {
    match pattern.as_bytes().iter().position(is_glob_syntax) {
        None => pattern == bucket,
        Some(at) if at + 1 == pattern.len() && pattern.ends_with('*') => bucket
            .strip_prefix(&pattern[..at])
            .is_some_and(|rest| !rest.contains('/')),
        Some(_) => glob_match::glob_match(pattern, bucket),
    }
}

#[cfg(test)]
mod tests {
    use super::{bucket_matches, is_literal_pattern};

    #[test]
    fn literal_and_prefix_patterns() {
        assert!(bucket_matches("logs", "logs"));
        assert!(!bucket_matches("logs", "logs2"));
        assert!(!bucket_matches("logs", "log"));
        assert!(bucket_matches("logs-*", "logs-2026"));
        assert!(bucket_matches("logs-*", "logs-"));
        assert!(!bucket_matches("logs-*", "logs"));
        assert!(!bucket_matches("logs-*", "logs-a/b"));
        assert!(bucket_matches("*", "anything"));
        assert!(bucket_matches("team-{a,b}", "team-b"));
        assert!(is_literal_pattern("logs-2026"));
        for glob in ["logs-*", "a?", "[ab]", "{a,b}", "!a", "a\\b"] {
            assert!(!is_literal_pattern(glob), "{glob}");
        }
    }

    proptest::proptest! {
        /// Patterns and names from an alphabet dense in glob syntax, so that the shortcut's
        /// shapes, their near misses and real globs all occur.
        #[test]
        fn agrees_with_glob_match(
            pattern in "[ab/*?\\[\\]{},!\\\\-]{0,8}",
            bucket in "[ab/*?-]{0,8}",
        ) {
            proptest::prop_assert_eq!(
                bucket_matches(&pattern, &bucket),
                glob_match::glob_match(&pattern, &bucket),
                "{} against {}", pattern, bucket
            );
        }

        #[test]
        fn agrees_on_literal_prefixes(prefix in "[ab/-]{0,6}", bucket in "[ab/-]{0,8}") {
            for pattern in [prefix.clone(), format!("{prefix}*"), format!("{prefix}**")] {
                proptest::prop_assert_eq!(
                    bucket_matches(&pattern, &bucket),
                    glob_match::glob_match(&pattern, &bucket),
                    "{} against {}", pattern, bucket
                );
            }
        }
    }
}
