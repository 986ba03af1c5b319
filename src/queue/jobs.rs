//! A durable-enough job queue of ids on Redis: enqueue, lease with expiry, heartbeat, settle
//! (ack / retry later / release), and the maintenance step that forwards due retries and takes
//! back the jobs of dead workers. Jobs carry only an id; what to do with it lives in PostgreSQL.
//! Layout and guarantees: `docs/queue.md`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fred::prelude::*;
use fred::types::scripts::Script;
use fred::types::{ClusterHash, CustomCommand};

use super::RedisClients;
use super::scripts::{ENQUEUE_SCRIPT, MAINTAIN_SCRIPT, RENEW_SCRIPT, SETTLE_AND_LEASE_SCRIPT};

/// Every queue call gives up after this long; callers back off and try again.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);

/// Failures talking to Redis. Never fatal: callers log, back off and retry.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueueError {
    #[error("Redis: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("Redis answered a queue script with an unexpected shape: {0}")]
    Shape(String),
}

/// One leased job: its id and the token that proves the lease is ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub id: i64,
    pub token: String,
}

/// What to do with a leased job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Done: forget it.
    Ack,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// Give it back, at the head of the queue.
    Release,
}

/// How many ids are in each state, for `/ready`-style reporting and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub pending: u64,
    pub leased: u64,
    pub scheduled: u64,
}

/// A named queue under the configured key prefix and Redis database (both taken from the one
/// [`RedisClients`] every producer and consumer is built with).
#[derive(Clone)]
pub struct JobQueue {
    redis: RedisClients,
    /// known, pending, lease, holder, scheduled — the order the scripts expect.
    keys: Arc<[String; 5]>,
    /// Set when the queue was last rebuilt from PostgreSQL (see [`JobQueue::marker_present`]).
    marker: Arc<str>,
    /// The keys of the layout before hash tags (`queue:<name>:<part>`), deleted when the queue
    /// is rebuilt (see [`JobQueue::set_marker`]).
    old_layout: Arc<[String; 6]>,
}

/// The parts of a queue, in the order of [`JobQueue::keys`], then the marker.
const PARTS: [&str; 6] = [
    "known",
    "pending",
    "lease",
    "holder",
    "scheduled",
    "rebuilt_at",
];

impl JobQueue {
    pub fn new(redis: &RedisClients, name: &str) -> JobQueue {
        // `{name}` is a hash tag: on Redis Cluster every key of one queue is in one slot, which
        // the scripts need (they name all five keys).
        let key = |part: &str| redis.key(&format!("queue:{{{name}}}:{part}"));
        let [known, pending, lease, holder, scheduled, marker] = PARTS.map(key);
        JobQueue {
            redis: redis.clone(),
            keys: Arc::new([known, pending, lease, holder, scheduled]),
            marker: marker.into(),
            old_layout: Arc::new(PARTS.map(|part| redis.key(&format!("queue:{name}:{part}")))),
        }
    }

    /// The Redis keys of this queue (known, pending, lease, holder, scheduled).
    pub fn keys(&self) -> &[String; 5] {
        &self.keys
    }

    fn client(&self) -> fred::clients::WithOptions<Client> {
        self.redis.pool.next().with_options(&Options {
            timeout: Some(COMMAND_TIMEOUT),
            fail_fast: true,
            max_attempts: Some(1),
            ..Default::default()
        })
    }

    /// EVALSHA, loading the script first when Redis does not know it (after a restart or a
    /// SCRIPT FLUSH). Sent as custom commands so the timeout and fail-fast options apply.
    async fn eval<R: FromValue>(&self, script: &Script, args: Vec<Value>) -> Result<R, QueueError> {
        let client = self.client();
        let mut command: Vec<Value> = Vec::with_capacity(args.len() + 7);
        command.push(Value::from(script.sha1().clone()));
        command.push(Value::from(self.keys.len() as i64));
        command.extend(self.keys.iter().map(|k| Value::from(k.as_str())));
        command.extend(args);
        // On Redis Cluster the script runs on the node of the queue's slot, and is loaded there
        // (the first string argument is the SHA1, not a key: route by the slot explicitly).
        let slot = ClusterHash::Custom(fred::util::redis_keyslot(self.keys[0].as_bytes()));
        let evalsha = CustomCommand::new_static("EVALSHA", slot.clone(), false);
        match client
            .custom::<R, _>(evalsha.clone(), command.clone())
            .await
        {
            Err(e) if e.details().starts_with("NOSCRIPT") => {
                let lua = script.lua().cloned().unwrap_or_default();
                let load = CustomCommand::new_static("SCRIPT", slot, false);
                let _: String = client
                    .custom(load, vec![Value::from("LOAD"), Value::from(lua)])
                    .await?;
                Ok(client.custom(evalsha, command).await?)
            }
            other => Ok(other?),
        }
    }

    /// Adds jobs the queue does not hold yet: due now, or scheduled at the given time. Ids the
    /// queue already holds (pending, leased or scheduled) are left as they are, so enqueueing
    /// twice is harmless. Returns how many were added.
    pub async fn enqueue(
        &self,
        jobs: &[(i64, Option<DateTime<Utc>>)],
    ) -> Result<usize, QueueError> {
        let mut args = vec![Value::from("add")];
        for (id, due) in jobs {
            args.push(Value::from(*id));
            args.push(Value::from(due.map_or(0, |d| d.timestamp_millis())));
        }
        let added: i64 = self.eval(&ENQUEUE_SCRIPT, args).await?;
        Ok(added as usize)
    }

    /// Makes jobs due now: adds the missing ones and pulls scheduled ones forward (a requeue).
    pub async fn enqueue_now(&self, ids: &[i64]) -> Result<usize, QueueError> {
        let mut args = vec![Value::from("now")];
        for id in ids {
            args.push(Value::from(*id));
            args.push(Value::from(0));
        }
        let added: i64 = self.eval(&ENQUEUE_SCRIPT, args).await?;
        Ok(added as usize)
    }

    /// Leases up to `max` pending jobs, oldest first, each until `lease` from now.
    pub async fn lease(&self, max: usize, lease: Duration) -> Result<Vec<Lease>, QueueError> {
        Ok(self.settle_and_lease(&[], max, lease).await?.1)
    }

    /// Extends the given leases; returns the ids whose lease is no longer ours.
    pub async fn renew(&self, leases: &[Lease], lease: Duration) -> Result<Vec<i64>, QueueError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec![Value::from(lease.as_millis() as i64)];
        for l in leases {
            args.push(Value::from(l.id));
            args.push(Value::from(l.token.as_str()));
        }
        let lost: Vec<i64> = self.eval(&RENEW_SCRIPT, args).await?;
        Ok(lost)
    }

    /// The job is done: forget it. False when the lease had already been lost.
    pub async fn ack(&self, lease: &Lease) -> Result<bool, QueueError> {
        self.settle_one(lease, Settle::Ack).await
    }

    /// Try the job again at `due`.
    pub async fn retry_at(&self, lease: &Lease, due: DateTime<Utc>) -> Result<bool, QueueError> {
        self.settle_one(lease, Settle::RetryAt(due)).await
    }

    /// Give the job back, at the head of the queue (e.g. on shutdown).
    pub async fn release(&self, lease: &Lease) -> Result<bool, QueueError> {
        self.settle_one(lease, Settle::Release).await
    }

    async fn settle_one(&self, lease: &Lease, how: Settle) -> Result<bool, QueueError> {
        let settled = self.settle(&[(lease.clone(), how)]).await?;
        Ok(settled.first() == Some(&true))
    }

    /// Settles many leased jobs in one script call. Per job: true when settled, false when its
    /// lease had already been lost.
    pub async fn settle(&self, jobs: &[(Lease, Settle)]) -> Result<Vec<bool>, QueueError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.settle_and_lease(jobs, 0, Duration::ZERO).await?.0)
    }

    /// Settles `jobs` (as [`JobQueue::settle`]), then leases up to `max` pending jobs (as
    /// [`JobQueue::lease`]), in one script call.
    pub async fn settle_and_lease(
        &self,
        jobs: &[(Lease, Settle)],
        max: usize,
        lease: Duration,
    ) -> Result<(Vec<bool>, Vec<Lease>), QueueError> {
        let prefix = if max > 0 {
            uuid::Uuid::new_v4().simple().to_string()
        } else {
            String::new()
        };
        let mut args = Vec::with_capacity(3 + jobs.len() * 4);
        args.push(Value::from(lease.as_millis() as i64));
        args.push(Value::from(prefix));
        args.push(Value::from(max as i64));
        for (lease, how) in jobs {
            let (action, due_ms) = match how {
                Settle::Ack => ("ack", 0),
                Settle::RetryAt(due) => ("retry", due.timestamp_millis()),
                Settle::Release => ("release", 0),
            };
            args.push(Value::from(lease.id));
            args.push(Value::from(lease.token.as_str()));
            args.push(Value::from(action));
            args.push(Value::from(due_ms));
        }
        let flat: Vec<String> = self.eval(&SETTLE_AND_LEASE_SCRIPT, args).await?;
        if flat.len() < jobs.len() || !(flat.len() - jobs.len()).is_multiple_of(2) {
            return Err(QueueError::Shape(format!(
                "{} values answered for {} settles",
                flat.len(),
                jobs.len()
            )));
        }
        let (settled, leased) = flat.split_at(jobs.len());
        let settled = settled.iter().map(|s| s == "1").collect();
        let leased = leased
            .chunks(2)
            .map(|pair| {
                let (id, token) = (&pair[0], &pair[1]);
                id.parse()
                    .map(|id| Lease {
                        id,
                        token: token.clone(),
                    })
                    .map_err(|_| QueueError::Shape(format!("job id {id:?}")))
            })
            .collect::<Result<_, _>>()?;
        Ok((settled, leased))
    }

    /// Forwards due scheduled jobs and takes back expired leases, at most `limit` of each.
    /// Returns (forwarded, recovered).
    pub async fn maintain(&self, limit: usize) -> Result<(u64, u64), QueueError> {
        let counts: Vec<u64> = self
            .eval(&MAINTAIN_SCRIPT, vec![Value::from(limit as i64)])
            .await?;
        match counts.as_slice() {
            [forwarded, recovered] => Ok((*forwarded, *recovered)),
            _ => Err(QueueError::Shape(format!("maintain reply {counts:?}"))),
        }
    }

    /// For each id, whether the queue holds it in any state.
    pub async fn holds(&self, ids: &[i64]) -> Result<Vec<bool>, QueueError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let members: Vec<Value> = ids.iter().map(|id| Value::from(*id)).collect();
        let held: Vec<bool> = self
            .client()
            .smismember(self.keys[0].as_str(), members)
            .await?;
        Ok(held)
    }

    /// Whether the queue's marker key is there. The reconciler sets it after it has rebuilt the
    /// queue from PostgreSQL; a Redis that restarted empty or was flushed has lost it, which
    /// tells the reconciler to rebuild again without scanning on every round.
    pub async fn marker_present(&self) -> Result<bool, QueueError> {
        let count: i64 = self.client().exists(&*self.marker).await?;
        Ok(count == 1)
    }

    /// Sets the marker at the start of a rebuild from PostgreSQL. When the marker was not there
    /// (a Redis that lost it, or the first start after the upgrade to hash-tagged keys), the
    /// keys of the old layout are deleted first: the rebuild re-enqueues what they held.
    pub async fn set_marker(&self) -> Result<(), QueueError> {
        if !self.marker_present().await? {
            let deleted = self.forget_old_layout().await?;
            if deleted > 0 {
                tracing::info!(
                    deleted,
                    marker = &*self.marker,
                    "deleted the queue keys of the layout before hash tags; rebuilding from PostgreSQL"
                );
            }
        }
        let stamp = chrono::Utc::now().to_rfc3339();
        let _: () = self
            .client()
            .set(&*self.marker, stamp, None, None, false)
            .await?;
        Ok(())
    }

    /// Deletes the keys of the layout before hash tags (`queue:<name>:<part>`), one DEL per key
    /// (they hash to different slots on Redis Cluster). Returns how many there were.
    pub async fn forget_old_layout(&self) -> Result<usize, QueueError> {
        let client = self.client();
        let mut deleted = 0;
        for key in self.old_layout.iter() {
            let n: i64 = client.del(key.as_str()).await?;
            deleted += n as usize;
        }
        Ok(deleted)
    }

    /// The keys of the layout before hash tags: known, pending, lease, holder, scheduled and
    /// the marker.
    pub fn old_layout_keys(&self) -> &[String; 6] {
        &self.old_layout
    }

    /// The marker key (see [`JobQueue::marker_present`]).
    pub fn marker_key(&self) -> &str {
        &self.marker
    }

    /// When the earliest job waiting for a later retry falls due; None when none waits.
    pub async fn next_scheduled(&self) -> Result<Option<DateTime<Utc>>, QueueError> {
        // [id, score] of the lowest score; the score is the due time in ms.
        let first: Vec<String> = self
            .client()
            .zrange(self.keys[4].as_str(), 0, 0, None, false, None, true)
            .await?;
        let Some(score) = first.get(1) else {
            return Ok(None);
        };
        let due_ms = score
            .parse::<f64>()
            .map_err(|_| QueueError::Shape(format!("scheduled score {score:?}")))?;
        Ok(DateTime::from_timestamp_millis(due_ms as i64))
    }

    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        let client = self.client();
        let pending: u64 = client.llen(self.keys[1].as_str()).await?;
        let leased: u64 = client.zcard(self.keys[2].as_str()).await?;
        let scheduled: u64 = client.zcard(self.keys[4].as_str()).await?;
        Ok(QueueStats {
            pending,
            leased,
            scheduled,
        })
    }
}
