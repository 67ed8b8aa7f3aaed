//! Bounds password guessing on the login route: at most `max_failures` failed logins per
//! user name and per client address within `window`; past that, every attempt for that name
//! or from that address is refused (429, with `Retry-After`) until the window ends, right
//! password or not, so that guessing cannot go on at network speed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dragoman_model::Error;

/// The most names and addresses tracked at once; beyond it expired entries are dropped, and
/// new ones are not tracked until some expire (each address is still tracked by itself).
const MAX_TRACKED: usize = 100_000;

#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    pub max_failures: u32,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::from_secs(300),
        }
    }
}

#[derive(Debug)]
struct Failures {
    count: u32,
    since: Instant,
}

#[derive(Debug, Default)]
pub struct LoginGuard {
    limits: LoginLimits,
    failures: Mutex<HashMap<String, Failures>>,
}

fn keys(username: &str, from: Option<IpAddr>) -> Vec<String> {
    let mut keys = vec![format!("user:{username}")];
    if let Some(ip) = from {
        keys.push(format!("addr:{ip}"));
    }
    keys
}

impl LoginGuard {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Refuses an attempt for a name or from an address that used up its failures.
    pub fn admit(&self, username: &str, from: Option<IpAddr>) -> Result<(), Error> {
        let map = self.lock();
        let window = self.limits.window;
        for key in keys(username, from) {
            if let Some(f) = map.get(&key)
                && f.count >= self.limits.max_failures
                && f.since.elapsed() < window
            {
                let left = window.saturating_sub(f.since.elapsed());
                return Err(Error::TooManyAttempts {
                    retry_after_secs: left.as_secs().max(1),
                });
            }
        }
        Ok(())
    }

    pub fn failed(&self, username: &str, from: Option<IpAddr>) {
        let mut map = self.lock();
        let window = self.limits.window;
        if map.len() >= MAX_TRACKED {
            map.retain(|_, f| f.since.elapsed() < window);
        }
        for key in keys(username, from) {
            if map.len() >= MAX_TRACKED && !map.contains_key(&key) {
                continue;
            }
            let f = map.entry(key).or_insert(Failures {
                count: 0,
                since: Instant::now(),
            });
            if f.since.elapsed() >= window {
                *f = Failures {
                    count: 0,
                    since: Instant::now(),
                };
            }
            f.count += 1;
        }
    }

    /// A success clears the name's failures (not the address's: one right password must not
    /// reset an address that is guessing other names).
    pub fn succeeded(&self, username: &str) {
        self.lock().remove(&format!("user:{username}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_lock_a_name_and_an_address_for_the_window() {
        let g = LoginGuard::new(LoginLimits {
            max_failures: 3,
            window: Duration::from_millis(100),
        });
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..3 {
            assert!(g.admit("alice", Some(ip)).is_ok());
            g.failed("alice", Some(ip));
        }
        assert!(matches!(
            g.admit("alice", None),
            Err(Error::TooManyAttempts { .. })
        ));
        // The address is locked for every name.
        assert!(g.admit("bob", Some(ip)).is_err());
        assert!(g.admit("bob", Some([10, 0, 0, 2].into())).is_ok());
        std::thread::sleep(Duration::from_millis(120));
        assert!(g.admit("alice", Some(ip)).is_ok());
    }
}
