//! Group commit: concurrent callers hand their input to one task, which runs whatever has
//! gathered as ONE call (one SQL statement and commit, one Redis script), then answers each
//! caller. While a call runs the next batch gathers, so batches grow with the load and a quiet
//! system still gets an answer in one round trip. Used by the delivery workers for their
//! PostgreSQL reads, marks and records.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

type Reply<O, E> = oneshot::Sender<Result<O, E>>;

/// An error every caller of a failed batch gets a copy of.
pub trait BatchError: Send + 'static {
    /// The error as one caller sees it (its kind kept: "unavailable" stays "unavailable").
    fn for_caller(&self) -> Self;
    /// The error of a batch that answered the wrong number of outputs (a bug).
    fn wrong_count(inputs: usize, outputs: usize) -> Self;
    /// The error of a call whose batching task is gone.
    fn stopped() -> Self;
}

/// Runs one call for a batch of inputs; answers one output per input, in input order.
pub trait RunBatch<I, O, E>: Send + Sync + 'static {
    fn run(&self, batch: Vec<I>) -> impl Future<Output = Result<Vec<O>, E>> + Send;
}

/// A queue in front of one [`RunBatch`]. Cheap to share; the task stops when it is dropped.
pub struct GroupCommit<I, O, E> {
    tx: mpsc::Sender<(I, Reply<O, E>)>,
}

impl<I: Send + 'static, O: Send + 'static, E: BatchError> GroupCommit<I, O, E> {
    /// Starts the batching task (needs a Tokio runtime). `max_batch` bounds one call.
    pub fn start(max_batch: usize, runner: impl RunBatch<I, O, E>) -> GroupCommit<I, O, E> {
        let (tx, rx) = mpsc::channel(max_batch * 4);
        tokio::spawn(gather(rx, max_batch, Arc::new(runner)));
        GroupCommit { tx }
    }

    /// Adds `input` to the next batch and waits for its output.
    pub async fn call(&self, input: I) -> Result<O, E> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((input, reply))
            .await
            .map_err(|_| E::stopped())?;
        answer.await.map_err(|_| E::stopped())?
    }
}

/// Waits for one item, then takes whatever else is already waiting, up to `max` in all: the
/// batch that gathered while the previous one ran. `None` once every sender is gone.
pub async fn next_batch<T>(rx: &mut mpsc::Receiver<T>, max: usize) -> Option<Vec<T>> {
    let first = rx.recv().await?;
    let mut batch = vec![first];
    while batch.len() < max {
        match rx.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn gather<I, O, E: BatchError, R: RunBatch<I, O, E>>(
    mut rx: mpsc::Receiver<(I, Reply<O, E>)>,
    max_batch: usize,
    runner: Arc<R>,
) {
    while let Some(batch) = next_batch(&mut rx, max_batch).await {
        let (inputs, replies): (Vec<I>, Vec<Reply<O, E>>) = batch.into_iter().unzip();
        match runner.run(inputs).await {
            Ok(outputs) if outputs.len() == replies.len() => {
                for (reply, output) in replies.into_iter().zip(outputs) {
                    let _ = reply.send(Ok(output));
                }
            }
            Ok(outputs) => {
                let inputs = replies.len();
                for reply in replies {
                    let _ = reply.send(Err(E::wrong_count(inputs, outputs.len())));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.for_caller()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Debug, PartialEq)]
    enum TestError {
        Down(u32),
        Bug(String),
    }

    impl BatchError for TestError {
        fn for_caller(&self) -> Self {
            match self {
                TestError::Down(n) => TestError::Down(*n),
                TestError::Bug(s) => TestError::Bug(s.clone()),
            }
        }
        fn wrong_count(inputs: usize, outputs: usize) -> Self {
            TestError::Bug(format!("{inputs} in, {outputs} out"))
        }
        fn stopped() -> Self {
            TestError::Bug("stopped".into())
        }
    }

    /// Doubles each input and remembers the batch sizes it saw; 13 fails the batch, 7 makes
    /// it answer one output too few.
    struct Doubler(Arc<Mutex<Vec<usize>>>);

    impl RunBatch<u32, u32, TestError> for Doubler {
        async fn run(&self, batch: Vec<u32>) -> Result<Vec<u32>, TestError> {
            self.0.lock().unwrap().push(batch.len());
            tokio::task::yield_now().await;
            if batch.contains(&13) {
                return Err(TestError::Down(13));
            }
            let short = batch.contains(&7);
            let mut out: Vec<u32> = batch.into_iter().map(|n| n * 2).collect();
            if short {
                out.pop();
            }
            Ok(out)
        }
    }

    #[tokio::test]
    async fn answers_each_caller_and_batches_concurrent_calls() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let group = Arc::new(GroupCommit::start(8, Doubler(sizes.clone())));
        let calls: Vec<_> = (20..40u32)
            .map(|n| {
                let group = group.clone();
                tokio::spawn(async move { (n, group.call(n).await.unwrap()) })
            })
            .collect();
        for call in calls {
            let (n, doubled) = call.await.unwrap();
            assert_eq!(doubled, n * 2);
        }
        let sizes = sizes.lock().unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), 20);
        assert!(
            sizes.iter().all(|s| *s <= 8),
            "batch over the limit: {sizes:?}"
        );
        assert!(sizes.len() < 20, "no call was batched: {sizes:?}");
    }

    #[tokio::test]
    async fn a_failed_batch_fails_every_caller_with_the_same_kind_of_error() {
        let group = GroupCommit::start(8, Doubler(Arc::default()));
        assert_eq!(group.call(13).await.unwrap_err(), TestError::Down(13));
        assert_eq!(group.call(4).await.unwrap(), 8);
        assert_eq!(
            group.call(7).await.unwrap_err(),
            TestError::Bug("1 in, 0 out".into())
        );
    }
}
