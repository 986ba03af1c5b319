//! The scheduler's time: the system clock in the daemon, a clock the tests move by hand, so that
//! a simulated day of firings runs in milliseconds and no test waits real minutes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// Now, and a way to wait for a later now.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Resolves once `now() >= at`.
    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            // Re-checked after each sleep: the wall clock may be stepped (NTP) while we wait.
            loop {
                let left = at - Utc::now();
                let Ok(left) = left.to_std() else { return };
                if left.is_zero() {
                    return;
                }
                tokio::time::sleep(left.min(Duration::from_secs(60))).await;
            }
        })
    }
}

/// A clock that moves only when told: for tests.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(watch::Sender::new(start)),
        }
    }

    /// Moves the clock to `at` (never backwards) and wakes whoever waits for it.
    pub fn set(&self, at: DateTime<Utc>) {
        self.now.send_if_modified(|now| {
            let later = at > *now;
            if later {
                *now = at;
            }
            later
        });
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.set(self.now() + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut now = self.now.subscribe();
        Box::pin(async move {
            // The sender lives as long as `self`, which outlives this future.
            let _ = now.wait_for(|now| *now >= at).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_when_moved_past_their_time() {
        let start: DateTime<Utc> = "2026-12-07T00:00:00Z".parse().unwrap();
        let clock = ManualClock::new(start);
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move {
                clock
                    .sleep_until(start + chrono::Duration::minutes(5))
                    .await
            })
        };
        clock.advance(chrono::Duration::minutes(4));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(chrono::Duration::minutes(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .unwrap()
            .unwrap();
        clock.set(start);
        assert_eq!(
            clock.now(),
            start + chrono::Duration::minutes(5),
            "never backwards"
        );
    }
}
