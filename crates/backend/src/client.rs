//! What a backend client is: something that speaks one storage protocol and says what that
//! protocol can do. Emulation of what it cannot do is the planner's job, never a client's.

use async_trait::async_trait;
use dragoman_model::{Cursor, Entry, Error, Operation, Outcome};

/// What a backend's listing can do natively. The planner reads these flags and emulates the
/// rest, so a new backend kind states facts about its protocol instead of re-implementing
/// paging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Lists in the canonical order (key bytes, initiation time, upload id).
    pub canonical_order: bool,
    /// Filters by key prefix.
    pub prefix: bool,
    /// Groups keys into common prefixes.
    pub delimiter: bool,
    /// Resumes after one upload of a key (S3's `upload-id-marker`).
    pub resume_after_upload: bool,
    /// Resumes after an upload that no longer exists, placed by its initiation time.
    pub resume_after_gone_upload: bool,
    /// Resumes after every key under a common prefix (a key marker alone would return the
    /// keys under it).
    pub resume_after_prefix: bool,
    /// Continues with an opaque token of its own instead of a position.
    pub opaque_continuation: bool,
    /// Aborts by upload id alone, without checking the key.
    pub abort_ignores_key: bool,
    /// Cannot abort without the upload's key (S3, BOS): a caller that names only the id
    /// (Qumulo) needs the key found first.
    pub abort_needs_key: bool,
    /// The largest page one call returns.
    pub max_page: u16,
}

impl Capabilities {
    /// A store that does everything natively (the embedded store).
    pub const NATIVE: Self = Self {
        canonical_order: true,
        prefix: true,
        delimiter: true,
        resume_after_upload: true,
        resume_after_gone_upload: true,
        resume_after_prefix: true,
        opaque_continuation: false,
        abort_ignores_key: false,
        abort_needs_key: false,
        max_page: 1000,
    };

    /// A marker-paged service (S3, BOS): prefix, delimiter and key markers; whether it
    /// honours an upload-id marker is the argument.
    pub const fn marker_paged(resume_after_upload: bool) -> Self {
        Self {
            canonical_order: true,
            prefix: true,
            delimiter: true,
            resume_after_upload,
            resume_after_gone_upload: false,
            resume_after_prefix: false,
            opaque_continuation: false,
            abort_ignores_key: false,
            abort_needs_key: true,
            max_page: 1000,
        }
    }

    /// A service that pages with an opaque token in an order of its own (Qumulo).
    pub const fn opaque(max_page: u16) -> Self {
        Self {
            canonical_order: false,
            prefix: false,
            delimiter: false,
            resume_after_upload: false,
            resume_after_gone_upload: false,
            resume_after_prefix: false,
            opaque_continuation: true,
            abort_ignores_key: true,
            abort_needs_key: false,
            max_page,
        }
    }

    /// Whether the planner can page through the backend by position, or must read the bucket
    /// into a sorted snapshot.
    pub fn pages_by_position(&self) -> bool {
        self.canonical_order && self.prefix && self.delimiter && !self.opaque_continuation
    }
}

/// One listing request in the backend's terms. Clients use only what their capabilities
/// claim: a marker client turns `after` into markers, an opaque client sends `continuation`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    pub after: Option<Cursor>,
    pub continuation: Option<String>,
    pub max: u16,
}

/// One page as the backend answered it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NativePage {
    /// Uploads and common prefixes, in the backend's order.
    pub entries: Vec<Entry>,
    pub truncated: bool,
    /// The opaque token of the next page (opaque clients only).
    pub continuation: Option<String>,
}

/// One call to a backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// One page of a listing.
    Page(PageRequest),
    /// Any other canonical operation (never `ListUploads`, which the planner turns into pages).
    Op(Operation),
}

impl Call {
    /// A short stable name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Page(_) => "list_page",
            Self::Op(op) => op.name(),
        }
    }

    /// Whether sending the call twice has the effect of sending it once, so a failed try may
    /// be retried. Creating and aborting never are: a lost answer to a create that succeeded
    /// would leave an upload behind.
    pub fn is_idempotent_read(&self) -> bool {
        matches!(
            self,
            Self::Page(_) | Self::Op(Operation::HeadBucket { .. } | Operation::ListBuckets)
        )
    }
}

/// A backend's answer to a [`Call`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one reply per call; boxing would only add an allocation"
)]
pub enum Reply {
    Page(NativePage),
    Done(Outcome),
}

/// A storage protocol. Implementations sign, send and parse; they never emulate.
#[async_trait]
pub trait Client: Send + Sync + 'static {
    /// `embedded`, `s3`, `bos` or `qumulo`: for logs and metrics.
    fn kind(&self) -> &'static str;

    fn capabilities(&self) -> Capabilities;

    async fn call(&self, call: Call) -> Result<Reply, Error>;

    /// The bytes an upload's parts hold (ListParts, every page), when the protocol can say.
    async fn upload_size(
        &self,
        _bucket: &str,
        _key: &str,
        _upload_id: &str,
    ) -> Result<Option<u64>, Error> {
        Ok(None)
    }

    /// The caller dialect whose requests this protocol takes as they are (`s3` for an S3
    /// service), if any.
    fn forwards(&self) -> Option<&'static str> {
        None
    }

    /// Sends a caller's request on, re-signed, both bodies streaming.
    async fn forward(
        &self,
        call: crate::ForwardCall,
    ) -> Result<::http::Response<dragoman_dialect::StreamBody>, Error> {
        Err(Error::NotImplemented {
            what: format!(
                "{} {} on a {} backend",
                call.method,
                if call.key.is_some() {
                    "object"
                } else {
                    "bucket"
                },
                self.kind()
            ),
        })
    }
}

/// The total size of an upload's parts from a paged ListParts: `page(marker)` fetches the
/// page after `marker` (`None` first) and answers its parts' total size and the next marker.
/// At most 20 pages (10,000 parts at 1000 per page), so a backend cannot make it loop.
pub(crate) async fn sum_parts<F, Fut>(
    backend: &str,
    upload_id: &str,
    mut page: F,
) -> Result<Option<u64>, Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(u64, Option<u64>), Error>>,
{
    let (mut total, mut marker) = (0u64, None);
    for _ in 0..20 {
        let (size, next) = page(marker.take()).await?;
        total = total.saturating_add(size);
        match next {
            Some(n) => marker = Some(n.to_string()),
            None => return Ok(Some(total)),
        }
    }
    Err(Error::BadBackendAnswer {
        message: format!("{backend}: ListParts of {upload_id} does not end"),
    })
}

/// The answer a client gives to an operation its protocol lacks.
pub fn unsupported(kind: &str, op: &Operation) -> Error {
    Error::NotImplemented {
        what: format!("{} on a {kind} backend", op.name()),
    }
}
