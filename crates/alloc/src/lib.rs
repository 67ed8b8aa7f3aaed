//! The process allocator: mimalloc, built without transparent huge pages, with a thread that
//! gives freed memory back to the system once a second and runtime workers that give back what
//! their own heaps keep when they go idle, so that what a burst of connections used is
//! returned when the burst is over.
//!
//! Why mimalloc: measured with `scripts/perf-peers`, glibc mapped and unmapped every
//! page-sized buffer (above its mmap threshold) on each request, and kept freed memory after a
//! burst of connections.
//!
//! Why the rest (each measured with `tests/load/peers.py --only "S3 -> BOS"`, 1000
//! connections; the figures are in BENCHMARKS.md):
//! - No transparent huge pages (the `no_thp` build feature): with them every 2 MiB region
//!   mimalloc touched became resident at once: 21 MiB at start instead of 12, and half the
//!   growth under load.
//! - Freed memory is purged only after a delay (1 s), and mimalloc checks the delay only when the
//!   thread that freed allocates again, which an idle gateway never does: RSS stayed at its
//!   peak after the load. Purging at once (delay 0) gave it back but doubled the CPU per request
//!   at page 1000 (715 -> 1398 µs), since the page-sized buffers were decommitted and faulted in
//!   again on every request. A forced collection from a thread of its own once a second purges
//!   what is free in mimalloc's arenas whatever thread freed it, at no measurable cost per request.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod global;

pub use global::MiMalloc;

/// How often freed memory goes back to the system.
pub const GIVE_BACK_PERIOD: Duration = Duration::from_secs(1);

/// Starts the thread that gives freed memory back every `period`. Call once, from `main`.
/// If the thread cannot be started the gateway runs on, keeping what it freed (and says so).
///
/// `wake_workers` makes the runtime's idle workers run once (by spawning a task for each):
/// it is called in a period after a worker parked without giving back (see
/// [`on_worker_park`]), so that it parks again, now past its own period, and gives back.
pub fn give_back_every(period: Duration, wake_workers: impl Fn() + Send + 'static) {
    let started = std::thread::Builder::new()
        .name("dragoman-alloc".into())
        .spawn(move || {
            loop {
                std::thread::sleep(period);
                give_back();
                if PARKED_HOLDING.swap(false, Ordering::Relaxed) {
                    wake_workers();
                }
            }
        });
    if let Err(e) = started {
        tracing::warn!("freed memory will not be given back to the system: {e}");
    }
}

/// Purges every page mimalloc holds free, in any thread's arena, without waiting for its delay.
pub fn give_back() {
    // SAFETY: `mi_collect` takes no pointers and is safe to call from any thread at any time;
    // with `force` it also purges free arena memory that has not yet reached its purge delay.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// At most this often, a worker thread that goes idle gives back what its own heap holds.
pub const WORKER_GIVE_BACK_PERIOD: Duration = Duration::from_millis(200);

thread_local! {
    static LAST_GIVEN_BACK: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// A worker parked without giving back, since it had done so within its period.
static PARKED_HOLDING: AtomicBool = AtomicBool::new(false);

/// For the runtime's `on_thread_park`: when a worker goes idle, and it has not done so in the
/// last [`WORKER_GIVE_BACK_PERIOD`], it gives back the free pages its own heap keeps. The
/// collector thread cannot reach those (mimalloc collects a heap only from its own thread):
/// without this, the front stayed at 60 MiB at rest after the perf-peers CPU runs and at 78
/// MiB after a page-1000 burst; with it, 28 and 34, at no measurable CPU cost (side by side,
/// S3 -> BOS at page 10 and 1000, in BENCHMARKS.md).
///
/// A worker that parks within its period does not give back, and under load that is most
/// parks; but the last park of a burst may be one of them, and the worker then sleeps on what
/// it freed (S3 -> S3 page 10 stayed at 43 MiB, 13 s after a burst that peaked at 52, and
/// fell to 19 once a request woke the workers). Such a park is noted, and the collector
/// thread wakes the workers in its next period (see [`give_back_every`]).
pub fn on_worker_park() {
    let now = Instant::now();
    if LAST_GIVEN_BACK.with(|last| due(last, now, WORKER_GIVE_BACK_PERIOD)) {
        give_back();
    } else {
        PARKED_HOLDING.store(true, Ordering::Relaxed);
    }
}

/// Whether `period` has passed since `last`; if so, `last` becomes `now`.
fn due(last: &Cell<Option<Instant>>, now: Instant, period: Duration) -> bool {
    match last.get() {
        Some(t) if now.duration_since(t) < period => false,
        _ => {
            last.set(Some(now));
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout};

    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    #[test]
    fn a_worker_gives_back_at_most_once_a_period() {
        let last = Cell::new(None);
        let t0 = Instant::now();
        let period = Duration::from_millis(200);
        assert!(due(&last, t0, period));
        assert!(!due(&last, t0 + Duration::from_millis(199), period));
        assert!(due(&last, t0 + period, period));
        assert!(!due(&last, t0 + period, period));
    }

    #[test]
    fn a_worker_that_parks_holding_is_woken_in_the_next_period() {
        // A fresh thread: its first park gives back, its second, at once, cannot.
        let parks = std::thread::spawn(|| {
            on_worker_park();
            on_worker_park();
        });
        assert!(parks.join().is_ok());
        let (woken, wakes) = std::sync::mpsc::channel();
        give_back_every(Duration::from_millis(10), move || {
            let _ = woken.send(());
        });
        assert!(wakes.recv_timeout(Duration::from_secs(5)).is_ok());
        // Once woken, nothing is held: no more wake-ups.
        assert!(wakes.recv_timeout(Duration::from_millis(200)).is_err());
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn freed_memory_goes_back_to_the_system() {
        const SIZE: usize = 64 << 20;
        let layout = Layout::from_size_align(SIZE, 4096).unwrap_or_else(|e| panic!("{e}"));
        let before = rss_kib();
        #[allow(unsafe_code)]
        // SAFETY: the block is MiMalloc's, written only within its size, freed once with the
        // layout it was allocated with.
        unsafe {
            let p = MiMalloc.alloc(layout);
            assert!(!p.is_null());
            for i in (0..SIZE).step_by(4096) {
                p.add(i).write(1);
            }
            let touched = rss_kib();
            assert!(touched > before + 60 * 1024, "{before} -> {touched} KiB");
            MiMalloc.dealloc(p, layout);
        }
        give_back();
        let after = rss_kib();
        assert!(
            after < before + 8 * 1024,
            "{before} KiB before, {after} KiB after giving back"
        );
    }
}
