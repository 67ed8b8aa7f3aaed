//! Canonical errors as S3 `<Error>` documents: `Code` and `Message` first, the code's own
//! elements next, `RequestId` and `HostId` last (spec/s3.md §1.5).

use bytes::Bytes;
use dragoman_model::{Error, RequestMeta};
use http::{Response, StatusCode};

use crate::xml::{DECL, builder, text, xml_response};

/// The S3 status and code of each canonical error. Backend statuses survive the mapping, so
/// clients keep their retry behaviour (a 503 stays a 503).
fn status_and_code(err: &Error) -> (StatusCode, &'static str) {
    use StatusCode as S;
    match err {
        Error::NoSuchBucket { .. } => (S::NOT_FOUND, "NoSuchBucket"),
        Error::NoSuchUpload { .. } => (S::NOT_FOUND, "NoSuchUpload"),
        Error::BucketAlreadyExists { .. } => (S::CONFLICT, "BucketAlreadyOwnedByYou"),
        Error::BucketNotEmpty { .. } => (S::CONFLICT, "BucketNotEmpty"),
        Error::InvalidBucketName { .. } => (S::BAD_REQUEST, "InvalidBucketName"),
        Error::InvalidArgument { .. } => (S::BAD_REQUEST, "InvalidArgument"),
        Error::InvalidRequest { .. } => (S::BAD_REQUEST, "InvalidRequest"),
        Error::InvalidUri { .. } => (S::BAD_REQUEST, "InvalidURI"),
        Error::ContentHashMismatch { .. } => (S::BAD_REQUEST, "XAmzContentSHA256Mismatch"),
        Error::AccessDenied { .. }
        | Error::Unauthenticated { .. }
        | Error::RequestExpired { .. } => (S::FORBIDDEN, "AccessDenied"),
        Error::SignatureDoesNotMatch(_) => (S::FORBIDDEN, "SignatureDoesNotMatch"),
        Error::UnknownAccessKey { .. } => (S::FORBIDDEN, "InvalidAccessKeyId"),
        Error::RequestTimeTooSkewed { .. } => (S::FORBIDDEN, "RequestTimeTooSkewed"),
        Error::MalformedAuthorization {
            in_query: false, ..
        } => (S::BAD_REQUEST, "AuthorizationHeaderMalformed"),
        Error::MalformedAuthorization { in_query: true, .. } => {
            (S::BAD_REQUEST, "AuthorizationQueryParametersError")
        }
        Error::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
        Error::NotImplemented { .. } => (S::NOT_IMPLEMENTED, "NotImplemented"),
        Error::HeadersTooLarge => (S::BAD_REQUEST, "RequestHeaderSectionTooLarge"),
        Error::KeyTooLong { .. } => (S::BAD_REQUEST, "KeyTooLongError"),
        Error::TlsRequired => (S::FORBIDDEN, "AccessDenied"),
        Error::BodyTooLarge => (S::BAD_REQUEST, "MaxMessageLengthExceeded"),
        Error::RequestTimeout => (S::BAD_REQUEST, "RequestTimeout"),
        Error::Throttled { .. } | Error::TooManyAttempts { .. } => {
            (S::SERVICE_UNAVAILABLE, "SlowDown")
        }
        Error::BackendUnavailable { .. } => (S::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
        Error::BackendTimeout => (S::GATEWAY_TIMEOUT, "GatewayTimeout"),
        Error::BadBackendAnswer { .. } => (S::BAD_GATEWAY, "BadGateway"),
        Error::Internal { .. } => (S::INTERNAL_SERVER_ERROR, "InternalError"),
    }
}

/// The elements between `Message` and `RequestId`.
fn details(out: &mut String, err: &Error) {
    match err {
        Error::NoSuchBucket { bucket }
        | Error::BucketAlreadyExists { bucket }
        | Error::BucketNotEmpty { bucket }
        | Error::InvalidBucketName { bucket, .. } => text(out, "BucketName", bucket),
        Error::NoSuchUpload { upload_id } => text(out, "UploadId", upload_id),
        Error::KeyTooLong { size, max } => {
            text(out, "Size", &size.to_string());
            text(out, "MaxSizeAllowed", &max.to_string());
        }
        Error::InvalidArgument { name, value, .. } => {
            text(out, "ArgumentName", name);
            text(out, "ArgumentValue", value);
        }
        Error::SignatureDoesNotMatch(m) => {
            text(out, "AWSAccessKeyId", &m.access_key);
            text(out, "StringToSign", &m.string_to_sign);
            text(out, "SignatureProvided", &m.signature_provided);
            text(out, "StringToSignBytes", &hex_bytes(&m.string_to_sign));
            text(out, "CanonicalRequest", &m.canonical_request);
            text(
                out,
                "CanonicalRequestBytes",
                &hex_bytes(&m.canonical_request),
            );
        }
        Error::UnknownAccessKey { access_key } => text(out, "AWSAccessKeyId", access_key),
        Error::RequestTimeTooSkewed {
            request_time,
            server_time,
        } => {
            text(out, "RequestTime", request_time);
            text(out, "ServerTime", &server_time.to_secs_z());
            text(out, "MaxAllowedSkewMilliseconds", "900000");
        }
        Error::MalformedAuthorization {
            region: Some(region),
            ..
        } => text(out, "Region", region),
        Error::ContentHashMismatch { claimed, computed } => {
            text(out, "ClientComputedContentSHA256", claimed);
            text(out, "S3ComputedContentSHA256", computed);
        }
        _ => {}
    }
}

/// AWS's `…Bytes` elements: the bytes as space-separated lower-case hex pairs.
fn hex_bytes(s: &str) -> String {
    s.bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn message(err: &Error) -> String {
    match err {
        Error::RequestExpired { .. } => "Request has expired".to_owned(),
        Error::Unauthenticated { message } => message.clone(),
        other => other.to_string(),
    }
}

/// Renders a canonical error. A HEAD answer carries the status and headers only.
pub fn encode_error(err: &Error, meta: &RequestMeta, head: bool) -> Response<Bytes> {
    let (status, code) = status_and_code(err);
    if head {
        return builder(status, meta)
            .body(Bytes::new())
            .unwrap_or_else(|_| dragoman_dialect::unbuildable());
    }
    let mut out = String::with_capacity(512);
    out.push_str(DECL);
    out.push_str("<Error>");
    text(&mut out, "Code", code);
    text(&mut out, "Message", &message(err));
    details(&mut out, err);
    text(&mut out, "RequestId", &meta.request_id);
    text(&mut out, "HostId", &meta.debug_id);
    out.push_str("</Error>");
    let mut resp = xml_response(status, meta, out);
    if let Some(secs) = err.retry_after() {
        resp.headers_mut()
            .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> RequestMeta {
        RequestMeta {
            request_id: "4442587FB7D0A2F9".into(),
            debug_id: "aG9zdA==".into(),
        }
    }

    fn body(r: &Response<Bytes>) -> String {
        String::from_utf8_lossy(r.body()).into_owned()
    }

    #[test]
    fn no_such_bucket_document() {
        let r = encode_error(
            &Error::NoSuchBucket {
                bucket: "nb".into(),
            },
            &meta(),
            false,
        );
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["x-amz-request-id"], "4442587FB7D0A2F9");
        assert_eq!(r.headers()["x-amz-id-2"], "aG9zdA==");
        assert_eq!(
            body(&r),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>\
<Message>The specified bucket does not exist</Message><BucketName>nb</BucketName>\
<RequestId>4442587FB7D0A2F9</RequestId><HostId>aG9zdA==</HostId></Error>"
        );
    }

    #[test]
    fn invalid_argument_names_the_argument() {
        let e = Error::invalid_argument(
            "max-uploads",
            "-1",
            "Argument max-uploads must be an integer between 0 and 2147483647",
        );
        let b = body(&encode_error(&e, &meta(), false));
        assert!(b.contains("<Code>InvalidArgument</Code><Message>Argument max-uploads must be an integer between 0 and 2147483647</Message><ArgumentName>max-uploads</ArgumentName><ArgumentValue>-1</ArgumentValue><RequestId>"), "{b}");
    }

    #[test]
    fn head_errors_have_no_body() {
        let r = encode_error(
            &Error::NoSuchBucket {
                bucket: "nb".into(),
            },
            &meta(),
            true,
        );
        assert_eq!(r.status(), 404);
        assert!(r.body().is_empty());
        assert!(r.headers().contains_key("x-amz-request-id"));
    }

    #[test]
    fn every_error_renders_with_a_status_and_ids() {
        let all = [
            Error::BackendTimeout,
            Error::Throttled {
                message: "slow".into(),
            },
            Error::BackendUnavailable {
                message: "down".into(),
            },
            Error::BadBackendAnswer {
                message: "garbled".into(),
            },
            Error::HeadersTooLarge,
            Error::MethodNotAllowed,
            Error::RequestExpired {
                message: "x".into(),
            },
            Error::MalformedAuthorization {
                message: "m".into(),
                region: Some("us-east-1".into()),
                in_query: false,
            },
        ];
        let codes: Vec<u16> = all
            .iter()
            .map(|e| encode_error(e, &meta(), false).status().as_u16())
            .collect();
        assert_eq!(codes, [504, 503, 503, 502, 400, 405, 403, 400]);
        for e in &all {
            let b = body(&encode_error(e, &meta(), false));
            assert!(
                b.ends_with(
                    "<RequestId>4442587FB7D0A2F9</RequestId><HostId>aG9zdA==</HostId></Error>"
                ),
                "{b}"
            );
        }
    }
}
