//! A token bucket limiting how many jobs per second an instance starts
//! (`server.rate_limit_per_second`; 0 = unlimited). The rate is read on every call, so a SIGHUP
//! that changes it takes effect at once.

use std::time::{Duration, Instant};

/// Tokens refill continuously at `rate` per second, up to one second's worth (the burst).
#[derive(Debug)]
pub struct TokenBucket {
    tokens: f64,
    last: Instant,
}

impl Default for TokenBucket {
    fn default() -> Self {
        TokenBucket::new()
    }
}

impl TokenBucket {
    pub fn new() -> TokenBucket {
        TokenBucket {
            tokens: 1.0,
            last: Instant::now(),
        }
    }

    fn refill(&mut self, rate: u32, now: Instant) {
        let burst = f64::from(rate.max(1));
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(burst);
        self.last = now;
    }

    /// How many of `wanted` jobs may start now at `rate` per second (all of them when the rate
    /// is 0), or how long to wait for the next token when none may.
    pub fn available(&mut self, rate: u32, wanted: usize) -> Result<usize, Duration> {
        if rate == 0 {
            return Ok(wanted);
        }
        self.refill(rate, Instant::now());
        let whole = self.tokens.floor() as usize;
        if whole >= 1 {
            Ok(whole.min(wanted))
        } else {
            let missing = 1.0 - self.tokens;
            Err(Duration::from_secs_f64(missing / f64::from(rate)))
        }
    }

    /// Spends `count` tokens (jobs actually started).
    pub fn spend(&mut self, rate: u32, count: usize) {
        if rate > 0 {
            self.tokens -= count as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_when_rate_is_zero() {
        let mut bucket = TokenBucket::new();
        assert_eq!(bucket.available(0, 50), Ok(50));
        bucket.spend(0, 50);
        assert_eq!(bucket.available(0, 50), Ok(50));
    }

    #[test]
    fn limits_to_the_tokens_there_are_and_says_how_long_to_wait() {
        let mut bucket = TokenBucket::new();
        assert_eq!(bucket.available(10, 5), Ok(1));
        bucket.spend(10, 1);
        let wait = bucket.available(10, 5).unwrap_err();
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert!(wait > Duration::from_millis(50), "{wait:?}");
    }

    #[test]
    fn refills_at_the_rate_up_to_one_second_of_burst() {
        let mut bucket = TokenBucket::new();
        bucket.last -= Duration::from_secs(10);
        assert_eq!(bucket.available(20, 100), Ok(20));
        bucket.spend(20, 20);
        assert!(bucket.available(20, 100).is_err());
    }
}
