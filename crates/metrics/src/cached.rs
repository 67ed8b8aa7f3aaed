//! Each worker thread's handles to the per-request series, found without a lock.
//!
//! `Family::get_or_create` takes the family's read lock and hashes the label set with SipHash
//! on every call, and a backend's label clones its `Arc<str>` name: four times per proxied
//! request, with both worker threads bouncing the same lock words and reference counts
//! between their caches. The handles it returns share their series (a counter or histogram
//! clone records into the same values), so a thread keeps the handles it has used, keyed by
//! the labels' static strings (compared by address, which their few call sites make stable),
//! and asks the family only for a label set it has not seen. Recording goes through the
//! kept handle by reference: a clone would bounce the series' reference counts instead.

use std::cell::RefCell;
use std::sync::Arc;
use std::thread::LocalKey;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

/// How many handles a thread keeps per kind; past that it starts over (the label sets are
/// few and fixed, so this only bounds a misuse).
const MAX: usize = 256;

/// A thread's handle to one label set's counter and histogram in one registry.
struct Handle<K> {
    registry: u64,
    key: K,
    count: Counter,
    seconds: Histogram,
}

struct RequestKey {
    dialect: &'static str,
    operation: &'static str,
    status: u16,
}

struct CallKey {
    backend: Arc<str>,
    call: &'static str,
    outcome: &'static str,
}

type Handles<K> = RefCell<Vec<Handle<K>>>;

thread_local! {
    static REQUESTS: Handles<RequestKey> = const { RefCell::new(Vec::new()) };
    static CALLS: Handles<CallKey> = const { RefCell::new(Vec::new()) };
}

/// The same static string: the same address and length (so the same text).
fn same(a: &'static str, b: &'static str) -> bool {
    std::ptr::eq(a, b)
}

/// Records through this thread's handle for the label set `matches` finds, creating it
/// (`key`, `create`) the first time. The key is built only then: building it for a lookup
/// would clone a backend's name.
fn record_with<K: 'static>(
    cache: &'static LocalKey<Handles<K>>,
    registry: u64,
    matches: impl Fn(&K) -> bool,
    key: impl FnOnce() -> K,
    create: impl FnOnce() -> (Counter, Histogram),
    record: impl FnOnce(&Counter, &Histogram),
) {
    cache.with_borrow_mut(|handles| {
        if let Some(h) = handles
            .iter()
            .rev()
            .find(|h| h.registry == registry && matches(&h.key))
        {
            return record(&h.count, &h.seconds);
        }
        let (count, seconds) = create();
        record(&count, &seconds);
        if handles.len() == MAX {
            handles.clear();
        }
        handles.push(Handle {
            registry,
            key: key(),
            count,
            seconds,
        });
    })
}

pub(crate) fn request(
    registry: u64,
    dialect: &'static str,
    operation: &'static str,
    status: u16,
    create: impl FnOnce() -> (Counter, Histogram),
    record: impl FnOnce(&Counter, &Histogram),
) {
    let matches = |k: &RequestKey| {
        k.status == status && same(k.operation, operation) && same(k.dialect, dialect)
    };
    let key = || RequestKey {
        dialect,
        operation,
        status,
    };
    record_with(&REQUESTS, registry, matches, key, create, record);
}

pub(crate) fn call(
    registry: u64,
    backend: &Arc<str>,
    call: &'static str,
    outcome: &'static str,
    create: impl FnOnce() -> (Counter, Histogram),
    record: impl FnOnce(&Counter, &Histogram),
) {
    let matches =
        |k: &CallKey| same(k.call, call) && same(k.outcome, outcome) && *k.backend == **backend;
    let key = || CallKey {
        backend: Arc::clone(backend),
        call,
        outcome,
    };
    record_with(&CALLS, registry, matches, key, create, record);
}
