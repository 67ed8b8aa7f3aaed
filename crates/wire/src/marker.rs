//! Listing requests and pages of the marker-paged services (S3 and BOS): both resume after a
//! key marker and an optional upload-id marker, and answer uploads and common prefixes with
//! next markers. Their client codecs and dragoman's planner share these two types.

use dragoman_model::Entry;

/// One listing request to a marker-paged service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarkerRequest {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    /// Sent only when set (and only with a key marker).
    pub upload_id_marker: Option<String>,
    pub max: u16,
}

/// One page as a marker-paged service answered it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarkerPage {
    /// Uploads and common prefixes interleaved in key order.
    pub entries: Vec<Entry>,
    pub truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_upload_id_marker: Option<String>,
}

/// The query parameter names of one marker dialect (S3: `key-marker`; BOS: `keyMarker`, …).
pub struct MarkerNames {
    pub prefix: &'static str,
    pub delimiter: &'static str,
    pub key_marker: &'static str,
    pub upload_id_marker: &'static str,
    pub max: &'static str,
}

impl MarkerRequest {
    /// The unsigned `GET ?uploads` request, path-style (`/<bucket>` on `authority`) or
    /// virtual-hosted (`<bucket>.<authority>`, path `/`), with the query sorted as both dialects'
    /// SDKs send it. The upload-id marker goes only with a key marker.
    pub fn to_http(
        &self,
        scheme: &str,
        authority: &str,
        virtual_hosted: bool,
        names: &MarkerNames,
    ) -> Result<http::Request<bytes::Bytes>, dragoman_model::Error> {
        let max = self.max.to_string();
        let mut params: Vec<(&str, &str)> = vec![("uploads", ""), (names.max, &max)];
        if !self.prefix.is_empty() {
            params.push((names.prefix, &self.prefix));
        }
        if let Some(d) = self.delimiter.as_deref().filter(|d| !d.is_empty()) {
            params.push((names.delimiter, d));
        }
        if let Some(k) = self.key_marker.as_deref().filter(|k| !k.is_empty()) {
            params.push((names.key_marker, k));
            if let Some(u) = self.upload_id_marker.as_deref().filter(|u| !u.is_empty()) {
                params.push((names.upload_id_marker, u));
            }
        }
        // Sorted as their encoded `name=value` texts sort, and encoded straight into the URI: a
        // `String` per pair, a join and a `format!` were half of its instructions (callgrind).
        params.sort_unstable_by(|a, b| encoded_pair(a).cmp(encoded_pair(b)));
        let mut uri = String::with_capacity(
            scheme.len()
                + authority.len()
                + 3 * self.bucket.len()
                + 6
                + params
                    .iter()
                    .map(|(k, v)| k.len() + v.len() + 2)
                    .sum::<usize>(),
        );
        let host = write_origin(
            &mut uri,
            scheme,
            authority,
            virtual_hosted,
            Some(&self.bucket),
        );
        for (i, (k, v)) in params.iter().enumerate() {
            uri.push(if i == 0 { '?' } else { '&' });
            crate::uri_encode_into(&mut uri, k.as_bytes(), false);
            uri.push('=');
            crate::uri_encode_into(&mut uri, v.as_bytes(), false);
        }
        let failed = |e: &dyn std::fmt::Display| {
            dragoman_model::Error::internal(format!("cannot build a listing request: {e}"))
        };
        let host = http::HeaderValue::from_str(&uri[host]).map_err(|e| failed(&e))?;
        http::Request::builder()
            .method(http::Method::GET)
            .uri(uri)
            .header(http::header::HOST, host)
            .body(bytes::Bytes::new())
            .map_err(|e| failed(&e))
    }
}

/// The bytes of `name=value` as a query carries them, for sorting pairs without writing them out.
fn encoded_pair<'a>((k, v): &(&'a str, &'a str)) -> impl Iterator<Item = u8> + 'a {
    let encoded = |s: &'a str| crate::uri_encoded(s.as_bytes(), false).flat_map(str::bytes);
    encoded(k).chain(std::iter::once(b'=')).chain(encoded(v))
}

/// The host and path of a bucket (or, with `None`, of the service): path-style
/// (`<authority>/<bucket>`) or virtual-hosted (`<bucket>.<authority>/`). Bucket names reach
/// here validated by the caller's dialect, so a virtual host is a DNS label.
pub fn bucket_address(
    authority: &str,
    virtual_hosted: bool,
    bucket: Option<&str>,
) -> (String, String) {
    match bucket {
        None => (authority.to_owned(), "/".to_owned()),
        Some(b) if virtual_hosted => (format!("{b}.{authority}"), "/".to_owned()),
        Some(b) => (
            authority.to_owned(),
            format!("/{}", crate::uri_encode(b.as_bytes(), true)),
        ),
    }
}

/// Writes `scheme://` and [`bucket_address`]'s host and path to `uri`, returning where the
/// host is (for the `Host` header): the listing request is built for every page, and the
/// address as two `String`s, one of them `format!`ed, was a tenth of building it.
fn write_origin(
    uri: &mut String,
    scheme: &str,
    authority: &str,
    virtual_hosted: bool,
    bucket: Option<&str>,
) -> std::ops::Range<usize> {
    uri.push_str(scheme);
    uri.push_str("://");
    let start = uri.len();
    if let (Some(b), true) = (bucket, virtual_hosted) {
        uri.push_str(b);
        uri.push('.');
    }
    uri.push_str(authority);
    let host = start..uri.len();
    uri.push('/');
    if let (Some(b), false) = (bucket, virtual_hosted) {
        crate::uri_encode_into(uri, b.as_bytes(), true);
    }
    host
}

/// An unsigned, bodiless request for a bucket or the service (HEAD bucket, list buckets).
pub fn bucket_request(
    method: http::Method,
    scheme: &str,
    authority: &str,
    virtual_hosted: bool,
    bucket: Option<&str>,
) -> Result<http::Request<bytes::Bytes>, dragoman_model::Error> {
    object_request(
        method,
        scheme,
        authority,
        virtual_hosted,
        bucket,
        None,
        &[],
        bytes::Bytes::new(),
    )
}

/// An unsigned request for a bucket, or an object of it (`key`, every byte but `/` encoded),
/// with a query (names and values encoded, in the order given) and a body.
#[allow(
    clippy::too_many_arguments,
    reason = "one address and one request, spelled out"
)]
pub fn object_request(
    method: http::Method,
    scheme: &str,
    authority: &str,
    virtual_hosted: bool,
    bucket: Option<&str>,
    key: Option<&str>,
    query: &[(&str, &str)],
    body: bytes::Bytes,
) -> Result<http::Request<bytes::Bytes>, dragoman_model::Error> {
    let mut uri = String::with_capacity(64);
    let host = write_origin(&mut uri, scheme, authority, virtual_hosted, bucket);
    if let Some(k) = key {
        if !uri.ends_with('/') {
            uri.push('/');
        }
        crate::uri_encode_into(&mut uri, k.as_bytes(), true);
    }
    for (i, (k, v)) in query.iter().enumerate() {
        uri.push(if i == 0 { '?' } else { '&' });
        crate::uri_encode_into(&mut uri, k.as_bytes(), false);
        if !v.is_empty() || *k != "uploads" {
            uri.push('=');
            crate::uri_encode_into(&mut uri, v.as_bytes(), false);
        }
    }
    let failed = |e: &dyn std::fmt::Display| {
        dragoman_model::Error::internal(format!("cannot build a backend request: {e}"))
    };
    let host = http::HeaderValue::from_str(&uri[host]).map_err(|e| failed(&e))?;
    http::Request::builder()
        .method(method)
        .uri(uri)
        .header(http::header::HOST, host)
        .header(http::header::CONTENT_LENGTH, body.len())
        .body(body)
        .map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: MarkerNames = MarkerNames {
        prefix: "prefix",
        delimiter: "delimiter",
        key_marker: "key-marker",
        upload_id_marker: "upload-id-marker",
        max: "max-uploads",
    };

    /// Names of which some begin others, so that a pair's `=` takes part in the order.
    const PREFIXED: MarkerNames = MarkerNames {
        prefix: "p",
        delimiter: "p-d",
        key_marker: "key",
        upload_id_marker: "key-upload",
        max: "upload",
    };

    /// The URI as the first version built it: each pair encoded into a `String`, the strings
    /// sorted and joined.
    fn reference_uri(r: &MarkerRequest, names: &MarkerNames, authority: &str) -> String {
        let max = r.max.to_string();
        let mut params: Vec<(&str, &str)> = vec![("uploads", ""), (names.max, &max)];
        if !r.prefix.is_empty() {
            params.push((names.prefix, &r.prefix));
        }
        if let Some(d) = r.delimiter.as_deref().filter(|d| !d.is_empty()) {
            params.push((names.delimiter, d));
        }
        if let Some(k) = r.key_marker.as_deref().filter(|k| !k.is_empty()) {
            params.push((names.key_marker, k));
            if let Some(u) = r.upload_id_marker.as_deref().filter(|u| !u.is_empty()) {
                params.push((names.upload_id_marker, u));
            }
        }
        let mut query: Vec<String> = params
            .iter()
            .map(|(k, v)| {
                let e = |s: &str| crate::uri_encode(s.as_bytes(), false);
                format!("{}={}", e(k), e(v))
            })
            .collect();
        query.sort();
        format!(
            "http://{authority}/{}?{}",
            crate::uri_encode(r.bucket.as_bytes(), true),
            query.join("&")
        )
    }

    proptest::proptest! {
        /// Markers, prefixes and delimiters with characters that need escaping, and values
        /// whose escaped forms sort differently from their raw ones (`%` before letters).
        #[test]
        fn the_query_is_encoded_and_sorted_as_the_reference_does_it(
            bucket in "[a-z0-9.-]{3,12}",
            prefix in "[a-zA-Z/ %+=&é~_-]{0,6}",
            delimiter in proptest::option::of("[/|%=&é -]{0,2}"),
            key_marker in proptest::option::of("[a-zA-Z/ %+=&é~_-]{0,6}"),
            upload_id_marker in proptest::option::of("[a-zA-Z0-9=+/%]{0,6}"),
            max in 0u16..=1000,
        ) {
            let r = MarkerRequest { bucket, prefix, delimiter, key_marker, upload_id_marker, max };
            for names in [&NAMES, &PREFIXED] {
                let built = r.to_http("http", "127.0.0.1:9000", false, names)
                    .unwrap_or_else(|e| panic!("{e}"));
                proptest::prop_assert_eq!(
                    built.uri().to_string(),
                    reference_uri(&r, names, "127.0.0.1:9000")
                );
                proptest::prop_assert_eq!(&built.headers()[http::header::HOST], "127.0.0.1:9000");
                // Virtual-hosted: the bucket moves from the path into the host.
                let hosted = r.to_http("http", "s3.test:9000", true, names)
                    .unwrap_or_else(|e| panic!("{e}"));
                let host = format!("{}.s3.test:9000", r.bucket);
                proptest::prop_assert_eq!(&hosted.headers()[http::header::HOST], host.as_str());
                proptest::prop_assert_eq!(
                    hosted.uri().to_string(),
                    reference_uri(&r, names, "s3.test:9000")
                        .replacen(&format!("s3.test:9000/{}?", r.bucket), &format!("{host}/?"), 1)
                );
            }
        }

        /// An object's address and query as `bucket_address` and `uri_encode` spell them.
        #[test]
        fn object_requests_are_addressed_as_bucket_address_spells_it(
            bucket in proptest::option::of("[a-z0-9.-]{3,12}"),
            key in proptest::option::of("[a-zA-Z/ %+=&é~_-]{0,8}"),
            query in proptest::collection::vec(("[a-zA-Z-]{1,6}", "[a-zA-Z/ %+=&é~_-]{0,6}"), 0..3),
            virtual_hosted: bool,
        ) {
            let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let built = object_request(
                http::Method::PUT, "http", "127.0.0.1:9000", virtual_hosted,
                bucket.as_deref(), key.as_deref(), &pairs, bytes::Bytes::from_static(b"abc"),
            ).unwrap_or_else(|e| panic!("{e}"));
            let (host, mut path) = bucket_address("127.0.0.1:9000", virtual_hosted, bucket.as_deref());
            if let Some(k) = &key {
                if !path.ends_with('/') {
                    path.push('/');
                }
                path.push_str(&crate::uri_encode(k.as_bytes(), true));
            }
            let query: Vec<String> = pairs.iter().map(|(k, v)| {
                format!("{}={}", crate::uri_encode(k.as_bytes(), false), crate::uri_encode(v.as_bytes(), false))
            }).collect();
            let mut expected = format!("http://{host}{path}");
            if !query.is_empty() {
                expected.push('?');
                expected.push_str(&query.join("&"));
            }
            proptest::prop_assert_eq!(built.uri().to_string(), expected);
            proptest::prop_assert_eq!(&built.headers()[http::header::HOST], host.as_str());
            proptest::prop_assert_eq!(&built.headers()[http::header::CONTENT_LENGTH], "3");
        }
    }
}
