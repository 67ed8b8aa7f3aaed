//! A configured secret: a password, a secret key, a token, a signing key. Its `Debug`,
//! `Display` and serialization all write `****`, so that no log line, error message or
//! printed configuration can show it by accident; the value is read only through
//! [`Secret::expose`], which says at the call site that it is meant.

use serde::{Deserialize, Serialize, Serializer};

#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for signing and comparing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn masked(&self) -> &'static str {
        if self.0.is_empty() { "" } else { "****" }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.masked())
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.masked())
    }
}

/// Serializes masked: an unset secret stays empty, so that defaults survive a round trip.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_itself() {
        let s = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{s}"), "****");
        assert_eq!(format!("{s:?}"), "\"****\"");
        assert_eq!(format!("{:?}", Some(&s)), "Some(\"****\")");
        assert_eq!(s.expose(), "hunter2-hunter2");
        assert_eq!(format!("{}", Secret::default()), "");
    }
}
