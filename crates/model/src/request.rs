/// What every response carries to identify its request, whatever the dialect: a request id
/// (`x-amz-request-id`, `x-bce-request-id`, …) and a second id for support (`x-amz-id-2`,
/// `x-bce-debug-id`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: String,
    pub debug_id: String,
}
