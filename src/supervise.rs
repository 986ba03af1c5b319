//! Supervision of the daemon's long-running tasks: the HTTP server, the delivery workers, the
//! notification listener, the configuration reloader and whatever else registers through
//! [`Tasks::add`]. Every task runs until the daemon stops; one that ends before (a panic, an
//! error, or a plain return) is logged with its cause, turns `/ready` 503 naming it
//! ([`TaskHealth`]), and makes the daemon drain and stop with [`TaskDied`] (exit status 70), so
//! that systemd restarts it instead of leaving an API that accepts what nobody delivers.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long `/ready` names a dead task before the daemon drains and stops: long enough for a
/// load balancer or a monitor polling it to see why, short enough for a prompt restart.
pub const DEAD_TASK_LINGER: Duration = Duration::from_secs(2);

/// Turns true when the daemon stops; every task must end soon after (its own drain included).
pub type Stop = watch::Receiver<bool>;

type TaskFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type StartTask = Box<dyn FnOnce(Stop) -> TaskFuture + Send>;

/// What a task's future may return: nothing, or a result whose error is its cause of death.
pub trait TaskOutput: Send + 'static {
    fn into_result(self) -> anyhow::Result<()>;
}

impl TaskOutput for () {
    fn into_result(self) -> anyhow::Result<()> {
        Ok(())
    }
}

impl<E: Into<anyhow::Error> + Send + 'static> TaskOutput for Result<(), E> {
    fn into_result(self) -> anyhow::Result<()> {
        self.map_err(Into::into)
    }
}

/// The tasks a daemon runs, named for the log and `/ready`; started together by [`run`].
#[derive(Default)]
pub struct Tasks(Vec<(&'static str, StartTask)>);

impl Tasks {
    /// Registers a task: `start` gets the [`Stop`] signal and returns the task's future.
    pub fn add<F, Fut>(&mut self, name: &'static str, start: F)
    where
        F: FnOnce(Stop) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TaskOutput,
    {
        self.0.push((
            name,
            Box::new(move |stop| Box::pin(async move { start(stop).await.into_result() })),
        ));
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|(name, _)| *name).collect()
    }
}

/// How a task ended badly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Death {
    Panicked,
    Failed,
    /// Returned while the daemon was not stopping.
    Returned,
}

impl fmt::Display for Death {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Death::Panicked => "panicked",
            Death::Failed => "failed",
            Death::Returned => "stopped unexpectedly",
        })
    }
}

/// The daemon stopped because a task died; `cause` is the panic message or the error chain.
#[derive(Debug, Clone, thiserror::Error)]
#[error("background task `{task}` {death}: {cause}")]
pub struct TaskDied {
    pub task: &'static str,
    pub death: Death,
    pub cause: String,
}

/// The first task that died, for `/ready` (cheap to clone; empty while all is well).
#[derive(Clone, Default)]
pub struct TaskHealth(Arc<Mutex<Option<TaskDied>>>);

impl TaskHealth {
    /// What `/ready` says: the task and how it ended, not its cause (that is in the log).
    pub fn problem(&self) -> Option<String> {
        self.lock().as_ref().map(|dead| {
            format!(
                "background task `{}` {}; dhis2gw is stopping (the log has the cause)",
                dead.task, dead.death
            )
        })
    }

    fn record(&self, died: &TaskDied) {
        self.lock().get_or_insert_with(|| died.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<TaskDied>> {
        // A poisoned lock only means a reader panicked; the value is still whole.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs every task until `shutdown` resolves or a task dies, then tells them all to stop and
/// waits for them (each drains within its own grace). `Ok` only when every task ended cleanly
/// after the stop; otherwise the first death, which `health` shows from the moment it happened
/// (the stop comes `linger` after it: [`DEAD_TASK_LINGER`] in the daemon).
pub async fn run(
    tasks: Tasks,
    shutdown: impl Future<Output = ()>,
    health: &TaskHealth,
    linger: Duration,
) -> Result<(), TaskDied> {
    let (stop_tx, stop) = watch::channel(false);
    let mut running = JoinSet::new();
    let mut names = HashMap::new();
    for (name, start) in tasks.0 {
        let handle = running.spawn(start(stop.clone()));
        names.insert(handle.id(), name);
    }
    tokio::pin!(shutdown);
    let stop_after_death = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(stop_after_death);
    let mut first_death: Option<TaskDied> = None;
    let mut stopping = false;
    loop {
        let dying = first_death.is_some();
        tokio::select! {
            _ = &mut shutdown, if !stopping => {
                stopping = true;
                let _ = stop_tx.send(true);
            }
            _ = &mut stop_after_death, if dying && !stopping => {
                stopping = true;
                let _ = stop_tx.send(true);
            }
            joined = running.join_next_with_id() => {
                let Some(joined) = joined else { break };
                let (id, ending) = match joined {
                    Ok((id, result)) => (id, result.map_err(Ending::Error)),
                    Err(e) => (e.id(), Err(Ending::Panic(e))),
                };
                let task = names.get(&id).copied().unwrap_or("unnamed");
                let Some(died) = report_exit(task, ending, stopping) else { continue };
                if first_death.is_none() {
                    health.record(&died);
                    first_death = Some(died);
                    stop_after_death.as_mut().reset(tokio::time::Instant::now() + linger);
                }
            }
        }
    }
    first_death.map_or(Ok(()), Err)
}

/// A task's end as the join saw it: an error it returned, or its panic.
enum Ending {
    Error(anyhow::Error),
    Panic(tokio::task::JoinError),
}

/// Logs how a task ended; a death (anything but a clean end after the stop) is returned.
fn report_exit(task: &'static str, ending: Result<(), Ending>, stopping: bool) -> Option<TaskDied> {
    let died = match ending {
        Ok(()) if stopping => {
            tracing::debug!(task, "background task stopped");
            return None;
        }
        Ok(()) => TaskDied {
            task,
            death: Death::Returned,
            cause: "it returned while dhis2gw was not stopping".into(),
        },
        Err(Ending::Error(e)) => TaskDied {
            task,
            death: Death::Failed,
            cause: format!("{e:#}"),
        },
        Err(Ending::Panic(e)) => TaskDied {
            task,
            death: Death::Panicked,
            cause: match e.try_into_panic() {
                Ok(payload) => panic_message(payload.as_ref()),
                Err(e) => e.to_string(),
            },
        },
    };
    tracing::error!(
        task,
        death = %died.death,
        cause = %died.cause,
        "background task died; dhis2gw stops so that it is restarted"
    );
    Some(died)
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A short linger keeps these tests quick; the daemon's is [`DEAD_TASK_LINGER`].
    const LINGER: Duration = Duration::from_millis(50);

    async fn explode(_: Stop) {
        panic!("boom {}", 7)
    }

    /// A task that runs until told to stop.
    async fn until_stopped(mut stop: Stop) {
        let _ = stop.wait_for(|s| *s).await;
    }

    #[tokio::test]
    async fn a_shutdown_stops_every_task_and_ends_well() {
        let mut tasks = Tasks::default();
        tasks.add("one", until_stopped);
        tasks.add("two", |stop| async move {
            until_stopped(stop).await;
            Ok::<(), std::io::Error>(())
        });
        let health = TaskHealth::default();
        let outcome = run(tasks, async {}, &health, LINGER).await;
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(health.problem(), None);
    }

    #[tokio::test]
    async fn an_early_return_stops_the_others_after_the_linger() {
        let mut tasks = Tasks::default();
        tasks.add("steady", until_stopped);
        tasks.add("quitter", |_| async {});
        let health = TaskHealth::default();
        let started = tokio::time::Instant::now();
        let died = run(tasks, std::future::pending(), &health, LINGER)
            .await
            .unwrap_err();
        assert_eq!((died.task, died.death), ("quitter", Death::Returned));
        assert!(started.elapsed() >= LINGER);
        assert!(health.problem().unwrap().contains("`quitter` stopped"));
    }

    #[tokio::test]
    async fn a_failure_keeps_its_error_chain_and_a_panic_its_message() {
        let mut tasks = Tasks::default();
        tasks.add("failing", |_| async {
            let inner = std::io::Error::other("connection refused");
            Err::<(), _>(anyhow::Error::new(inner).context("cannot reach it"))
        });
        let died = run(
            tasks,
            std::future::pending(),
            &TaskHealth::default(),
            LINGER,
        )
        .await
        .unwrap_err();
        assert_eq!(died.death, Death::Failed);
        assert_eq!(died.cause, "cannot reach it: connection refused");

        let mut tasks = Tasks::default();
        tasks.add("panicking", explode);
        let died = run(
            tasks,
            std::future::pending(),
            &TaskHealth::default(),
            LINGER,
        )
        .await
        .unwrap_err();
        assert_eq!(
            (died.death, died.cause.as_str()),
            (Death::Panicked, "boom 7")
        );
    }

    #[tokio::test]
    async fn a_failure_while_stopping_is_still_a_death() {
        let mut tasks = Tasks::default();
        tasks.add("drain fails", |stop| async move {
            until_stopped(stop).await;
            anyhow::bail!("could not give the jobs back")
        });
        let health = TaskHealth::default();
        let died = run(tasks, async {}, &health, LINGER).await.unwrap_err();
        assert_eq!((died.task, died.death), ("drain fails", Death::Failed));
        assert!(health.problem().is_some());
    }
}
