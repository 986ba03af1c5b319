//! A simulated timeline. Senders announce each send's planned time (`reserve`), wait for it
//! (`sleep_until`) and say when it is over (`done`); time jumps forward to a planned send only
//! once every earlier one is over, so pacing that would take minutes runs at full speed and the
//! fake's stamps are the times the sends were planned for.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

#[derive(Default)]
struct Inner {
    now: Duration,
    pending: BTreeMap<Duration, usize>,
}

/// Clones share one timeline.
#[derive(Clone, Default)]
pub struct VirtualClock {
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
}

impl VirtualClock {
    pub fn now(&self) -> Duration {
        self.inner.lock().unwrap().now
    }

    pub fn reserve(&self, at: Duration) {
        *self.inner.lock().unwrap().pending.entry(at).or_default() += 1;
    }

    pub fn done(&self, at: Duration) {
        let mut inner = self.inner.lock().unwrap();
        if let Some(n) = inner.pending.get_mut(&at) {
            *n -= 1;
            if *n == 0 {
                inner.pending.remove(&at);
            }
        }
        drop(inner);
        self.changed.notify_waiters();
    }

    /// Returns once no send planned before `at` is outstanding, with the clock at `at` (or later).
    pub async fn sleep_until(&self, at: Duration) {
        loop {
            let notified = self.changed.notified();
            {
                let mut inner = self.inner.lock().unwrap();
                let earliest = inner.pending.keys().next().copied();
                if earliest.is_none_or(|e| e >= at) {
                    inner.now = inner.now.max(at);
                    return;
                }
            }
            notified.await;
        }
    }
}
