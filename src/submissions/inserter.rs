//! Group commit for accepted submissions: concurrent requests hand their row to a writer task,
//! which inserts whatever has gathered as ONE statement (one WAL flush for the lot), then
//! enqueues the new ids with ONE Redis call and answers every request (on the side, while the
//! next batch commits). A request is answered only after its row is committed (and, Redis
//! permitting, enqueued); if Redis is down the row is safe and the reconciler enqueues it later.
//! (Not a [`GroupCommit`](crate::group_commit::GroupCommit), which answers when its call
//! returns: here the answers wait for the enqueue, which runs beside the next batch's insert.)

use std::sync::{Arc, Mutex};

use deadpool_postgres::Pool;
use tokio::sync::{Notify, mpsc, oneshot};

use super::error::SubmissionError;
use crate::db::submissions::{self, Inserted, NewSubmission};
use crate::group_commit::{BatchError, next_batch};
use crate::queue::JobQueue;

/// Largest batch one statement carries. There is one writer: while its batch commits, the next
/// one gathers, so batches grow with the load, and its Redis call and answers run on the side.
/// Two writers made smaller batches and measured slower (`bench/README.md`).
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Inserted, SubmissionError>>;

struct Job {
    submission: NewSubmission,
    reply: Reply,
}

/// Where accepted submissions are logged and enqueued. The writer starts on first use.
pub struct Inserter {
    tx: mpsc::Sender<Job>,
    /// Taken by the first `insert`, which starts the writer.
    rx: Mutex<Option<mpsc::Receiver<Job>>>,
    db: Pool,
    queue: JobQueue,
    /// Wakes this instance's idle workers after an enqueue.
    wake: Arc<Notify>,
    /// Asks the reconciler to run soon (an enqueue failed).
    reconcile: Arc<Notify>,
}

impl Inserter {
    pub fn new(db: Pool, queue: JobQueue, wake: Arc<Notify>, reconcile: Arc<Notify>) -> Inserter {
        let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
        Inserter {
            tx,
            rx: Mutex::new(Some(rx)),
            db,
            queue,
            wake,
            reconcile,
        }
    }

    /// Logs one submission (batched with concurrent ones) and enqueues it when new.
    pub async fn insert(&self, submission: NewSubmission) -> Result<Inserted, SubmissionError> {
        self.start_writer();
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { submission, reply })
            .await
            .map_err(|_| SubmissionError::Internal("the submission writer stopped".into()))?;
        answer.await.map_err(|_| {
            SubmissionError::Internal("a submission writer dropped a request".into())
        })?
    }

    fn start_writer(&self) {
        let Some(rx) = self.rx.lock().expect("inserter lock").take() else {
            return;
        };
        let writer = Writer {
            db: self.db.clone(),
            queue: self.queue.clone(),
            wake: self.wake.clone(),
            reconcile: self.reconcile.clone(),
        };
        tokio::spawn(writer.run(rx));
    }
}

/// Enqueues the new rows of a committed batch (one Redis call). On failure the rows are safe in
/// PostgreSQL and the reconciler is asked to enqueue them.
async fn enqueue_new(queue: &JobQueue, wake: &Notify, reconcile: &Notify, inserted: &[Inserted]) {
    let new: Vec<(i64, Option<chrono::DateTime<chrono::Utc>>)> = inserted
        .iter()
        .filter_map(|i| match i {
            Inserted::New { id, .. } => Some((*id, None)),
            Inserted::Existing { .. } => None,
        })
        .collect();
    if new.is_empty() {
        return;
    }
    match queue.enqueue(&new).await {
        Ok(_) => wake.notify_one(),
        Err(e) => {
            tracing::warn!(error = %e, count = new.len(), "submissions logged but not enqueued; the reconciler will enqueue them");
            reconcile.notify_one();
        }
    }
}

struct Writer {
    db: Pool,
    queue: JobQueue,
    wake: Arc<Notify>,
    reconcile: Arc<Notify>,
}

impl Writer {
    /// Runs until every sender is gone (the application was dropped).
    async fn run(self, mut rx: mpsc::Receiver<Job>) {
        while let Some(batch) = next_batch(&mut rx, MAX_BATCH).await {
            self.write(batch).await;
        }
    }

    async fn write(&self, batch: Vec<Job>) {
        let (submissions, replies): (Vec<NewSubmission>, Vec<Reply>) = batch
            .into_iter()
            .map(|job| (job.submission, job.reply))
            .unzip();
        let inserted = match self.insert(&submissions).await {
            Ok(inserted) => inserted,
            Err(e) => {
                let unavailable = e.is_unavailable();
                let message = e.to_string();
                if unavailable {
                    tracing::warn!(error = %message, count = replies.len(), "cannot log submissions: PostgreSQL unavailable");
                } else {
                    tracing::error!(error = %message, count = replies.len(), "cannot log submissions");
                }
                for reply in replies {
                    let _ = reply.send(Err(e.for_caller()));
                }
                return;
            }
        };
        // The rows are committed: enqueue and answer on the side, so this writer can start the
        // next batch (its commit then overlaps this batch's Redis call).
        let queue = self.queue.clone();
        let wake = self.wake.clone();
        let reconcile = self.reconcile.clone();
        tokio::spawn(async move {
            enqueue_new(&queue, &wake, &reconcile, &inserted).await;
            for (reply, result) in replies.into_iter().zip(inserted) {
                let _ = reply.send(Ok(result));
            }
        });
    }

    async fn insert(&self, batch: &[NewSubmission]) -> Result<Vec<Inserted>, SubmissionError> {
        let client = self.db.get().await?;
        Ok(submissions::insert_batch(&client, batch).await?)
    }
}
