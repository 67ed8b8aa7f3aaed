//! Query strings as S3 reads them: `+` is a space, `%XX` is a byte, keys may repeat or lack `=`.

use dragoman_model::Error;
use percent_encoding::percent_decode;

/// Decoded query parameters in wire order. A flag without `=` has an empty value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// A parameter that is present and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

fn decode_component(raw: &str) -> Result<String, Error> {
    let plus_as_space = raw.replace('+', " ");
    percent_decode(plus_as_space.as_bytes())
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::InvalidUri {
            message: "the query string is not valid UTF-8 once percent-decoded".into(),
        })
}

/// Parses a raw query string (without `?`).
pub fn parse_query(raw: Option<&str>) -> Result<QueryParams, Error> {
    let Some(raw) = raw else {
        return Ok(QueryParams::default());
    };
    let mut out = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.push((decode_component(k)?, decode_component(v)?));
    }
    Ok(QueryParams(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_pluses_and_escapes() {
        let q = parse_query(Some("uploads&prefix=a%20b%2F&key-marker=x+y&max-uploads="))
            .unwrap_or_default();
        assert!(q.has("uploads"));
        assert_eq!(q.get("prefix"), Some("a b/"));
        assert_eq!(q.get("key-marker"), Some("x y"));
        assert_eq!(q.get("max-uploads"), Some(""));
        assert_eq!(q.non_empty("max-uploads"), None);
    }

    #[test]
    fn invalid_utf8_is_an_invalid_uri() {
        assert!(matches!(
            parse_query(Some("prefix=%FF%FE")),
            Err(Error::InvalidUri { .. })
        ));
    }
}
