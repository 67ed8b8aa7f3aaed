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

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

/// How many handles a thread keeps per kind; past that it starts over (the label sets are
/// few and fixed, so this only bounds a misuse).
const MAX: usize = 256;

struct RequestHandle {
    registry: u64,
    dialect: &'static str,
    operation: &'static str,
    status: u16,
    count: Counter,
    seconds: Histogram,
}

struct CallHandle {
    registry: u64,
    backend: Arc<str>,
    call: &'static str,
    outcome: &'static str,
    count: Counter,
    seconds: Histogram,
}

thread_local! {
    static REQUESTS: RefCell<Vec<RequestHandle>> = const { RefCell::new(Vec::new()) };
    static CALLS: RefCell<Vec<CallHandle>> = const { RefCell::new(Vec::new()) };
}

/// The same static string: the same address and length (so the same text).
fn same(a: &'static str, b: &'static str) -> bool {
    std::ptr::eq(a, b)
}

pub(crate) fn request(
    registry: u64,
    dialect: &'static str,
    operation: &'static str,
    status: u16,
    create: impl FnOnce() -> (Counter, Histogram),
    record: impl FnOnce(&Counter, &Histogram),
) {
    REQUESTS.with_borrow_mut(|handles| {
        if let Some(h) = handles.iter().rev().find(|h| {
            h.registry == registry
                && h.status == status
                && same(h.operation, operation)
                && same(h.dialect, dialect)
        }) {
            return record(&h.count, &h.seconds);
        }
        let (count, seconds) = create();
        record(&count, &seconds);
        if handles.len() == MAX {
            handles.clear();
        }
        handles.push(RequestHandle {
            registry,
            dialect,
            operation,
            status,
            count,
            seconds,
        });
    })
}

pub(crate) fn call(
    registry: u64,
    backend: &Arc<str>,
    call: &'static str,
    outcome: &'static str,
    create: impl FnOnce() -> (Counter, Histogram),
    record: impl FnOnce(&Counter, &Histogram),
) {
    CALLS.with_borrow_mut(|handles| {
        if let Some(h) = handles.iter().rev().find(|h| {
            h.registry == registry
                && same(h.call, call)
                && same(h.outcome, outcome)
                && *h.backend == **backend
        }) {
            return record(&h.count, &h.seconds);
        }
        let (count, seconds) = create();
        record(&count, &seconds);
        if handles.len() == MAX {
            handles.clear();
        }
        handles.push(CallHandle {
            registry,
            backend: Arc::clone(backend),
            call,
            outcome,
            count,
            seconds,
        });
    })
}
