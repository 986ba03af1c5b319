//! What a channel answers for one message ([`SendOutcome`]), and the clock that paces sends
//! ([`Clock`]): the system clock in the daemon; a test may substitute its own timeline.

use std::sync::Arc;
use std::time::Duration;

/// The provider's verdict on one message, with its answer as text for the delivery log.
#[derive(Clone, Debug, PartialEq)]
pub enum SendOutcome {
    /// Accepted by the provider.
    Sent(String),
    /// A transient failure: try again, not before `after` when the provider said so.
    Retry {
        answer: String,
        after: Option<Duration>,
    },
    /// A permanent failure (bad address, blocked bot): never retried.
    Failed(String),
    /// Telegram said the chat blocked (or removed) the bot: failed, and the address is marked.
    Blocked(String),
}

impl SendOutcome {
    pub fn answer(&self) -> &str {
        match self {
            SendOutcome::Sent(a) | SendOutcome::Failed(a) | SendOutcome::Blocked(a) => a,
            SendOutcome::Retry { answer, .. } => answer,
        }
    }
}

/// A timeline for pacing. `reserve` announces a send planned at `at` before waiting for it, and
/// `done` its end, so a simulated timeline can advance only past sends that have happened.
pub trait Clock: Send + Sync {
    /// Time since an arbitrary origin.
    fn now(&self) -> Duration;
    fn reserve(&self, _at: Duration) {}
    fn done(&self, _at: Duration) {}
    fn sleep_until(&self, at: Duration) -> futures::future::BoxFuture<'_, ()>;
}

/// The real clock (tokio's, so a paused test runtime also works).
pub struct SystemClock {
    origin: tokio::time::Instant,
}

impl SystemClock {
    pub fn shared() -> Arc<dyn Clock> {
        Arc::new(SystemClock {
            origin: tokio::time::Instant::now(),
        })
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
    fn sleep_until(&self, at: Duration) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep_until(self.origin + at))
    }
}
