//! The Redis job queue on a real Redis: leases, and settles of many jobs in one script call
//! (ack, retry later, release), where only the holder of a live lease may settle a job.

use std::time::Duration;

use dhis2gw::queue::{self, JobQueue, Lease, QueueStats, Settle};
use fred::prelude::*;

use crate::support::app::test_settings;

async fn fresh_queue() -> JobQueue {
    let settings = test_settings().await;
    let redis = queue::connect(&settings.server, 1)
        .await
        .expect("connect to the test Redis");
    // The clients connect in the background; wait for them here.
    redis
        .pool
        .wait_for_connect()
        .await
        .expect("connect to the test Redis");
    JobQueue::new(&redis, "test")
}

/// A fresh queue holding jobs 1 to 4, oldest first.
async fn queue_of_four() -> JobQueue {
    let queue = fresh_queue().await;
    queue
        .enqueue(&[(1, None), (2, None), (3, None), (4, None)])
        .await
        .unwrap();
    queue
}

/// A lease of job `id` under a token no worker was given.
fn forged(id: i64) -> Lease {
    Lease {
        id,
        token: "not-the-holder".into(),
    }
}

#[tokio::test]
async fn one_call_settles_many_jobs_and_refuses_a_lease_that_is_not_held() {
    let queue = queue_of_four().await;
    let leases = queue.lease(4, Duration::from_secs(30)).await.unwrap();
    let ids: Vec<i64> = leases.iter().map(|l| l.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 4], "oldest first");
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let settled = queue
        .settle(&[
            (leases[0].clone(), Settle::Ack),
            (leases[1].clone(), Settle::RetryAt(later)),
            (leases[2].clone(), Settle::Release),
            (forged(4), Settle::Ack),
        ])
        .await
        .unwrap();
    assert_eq!(settled, vec![true, true, true, false]);
    assert_eq!(
        queue.stats().await.unwrap(),
        QueueStats {
            pending: 1,
            leased: 1,
            scheduled: 1
        },
        "3 released to pending, 2 scheduled, 4 still leased by its real holder, 1 forgotten"
    );
    assert_eq!(
        queue.holds(&[1, 2, 3, 4]).await.unwrap(),
        vec![false, true, true, true]
    );
    // A lease settled once is gone: settling it again is refused.
    assert_eq!(
        queue
            .settle(&[(leases[0].clone(), Settle::Ack)])
            .await
            .unwrap(),
        vec![false]
    );
    assert!(queue.ack(&leases[3]).await.unwrap());
    assert!(queue.settle(&[]).await.unwrap().is_empty());
}

/// The scripts send one command per structure for a whole batch, in chunks of 1 000 arguments:
/// a batch of more than one chunk, with an id given twice, behaves as job-by-job calls would.
#[tokio::test]
async fn batches_larger_than_one_chunk_and_repeated_ids() {
    let queue = fresh_queue().await;
    let mut jobs: Vec<(i64, Option<chrono::DateTime<chrono::Utc>>)> =
        (1..=1500).map(|id| (id, None)).collect();
    jobs.push((7, None));
    assert_eq!(queue.enqueue(&jobs).await.unwrap(), 1500, "7 counted once");
    assert_eq!(
        queue.enqueue(&[(1, None), (1500, None)]).await.unwrap(),
        0,
        "already queued"
    );
    let leases = queue.lease(1200, Duration::from_secs(30)).await.unwrap();
    let ids: Vec<i64> = leases.iter().map(|l| l.id).collect();
    assert_eq!(ids, (1..=1200).collect::<Vec<i64>>(), "oldest first");
    let tokens: std::collections::HashSet<&str> = leases.iter().map(|l| l.token.as_str()).collect();
    assert_eq!(tokens.len(), 1200, "one token per lease");
    assert_eq!(
        queue.stats().await.unwrap(),
        QueueStats {
            pending: 300,
            leased: 1200,
            scheduled: 0
        }
    );
    let mut settles: Vec<(Lease, Settle)> =
        leases.iter().map(|l| (l.clone(), Settle::Ack)).collect();
    settles.push((leases[0].clone(), Settle::Release));
    let settled = queue.settle(&settles).await.unwrap();
    assert!(
        settled[..1200].iter().all(|s| *s),
        "every held lease settles"
    );
    assert!(
        !settled[1200],
        "the same job twice in one call settles once"
    );
    assert_eq!(
        queue.stats().await.unwrap(),
        QueueStats {
            pending: 300,
            leased: 0,
            scheduled: 0
        },
        "acked jobs are forgotten; the repeated release did nothing"
    );
    assert_eq!(
        queue.holds(&[1, 1200, 1201, 1500]).await.unwrap(),
        vec![false, false, true, true]
    );
}

/// The worker pool's call: the jobs that finished are settled, then new ones leased, in one
/// script call. A job released in that call is back at the head of the queue, so it is the
/// first one leased again.
#[tokio::test]
async fn one_call_settles_finished_jobs_then_leases_new_ones() {
    let queue = queue_of_four().await;
    let first = queue.lease(2, Duration::from_secs(30)).await.unwrap();
    let (settled, leases) = queue
        .settle_and_lease(
            &[
                (first[0].clone(), Settle::Ack),
                (first[1].clone(), Settle::Release),
                (forged(4), Settle::Ack),
            ],
            2,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(settled, vec![true, true, false]);
    let ids: Vec<i64> = leases.iter().map(|l| l.id).collect();
    assert_eq!(
        ids,
        vec![2, 3],
        "the released job first, then the oldest pending"
    );
    assert_ne!(leases[0].token, first[1].token, "a new lease, a new token");
    assert_eq!(
        queue.stats().await.unwrap(),
        QueueStats {
            pending: 1,
            leased: 2,
            scheduled: 0
        }
    );
    // The new leases are the ones that count; nothing pending is left out of a larger ask.
    let (settled, leases) = queue
        .settle_and_lease(
            &[
                (leases[0].clone(), Settle::Ack),
                (leases[1].clone(), Settle::Ack),
            ],
            10,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(settled, vec![true, true]);
    assert_eq!(leases.iter().map(|l| l.id).collect::<Vec<_>>(), vec![4]);
    let (settled, leases) = queue
        .settle_and_lease(&[], 10, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(
        settled.is_empty() && leases.is_empty(),
        "an empty queue leases nothing"
    );
    assert_eq!(
        queue.holds(&[1, 2, 3, 4]).await.unwrap(),
        vec![false, false, false, true]
    );
}

/// The upgrade to hash-tagged keys (`queue:{name}:part`): a Redis still holding the old layout
/// (`queue:name:part`, its marker included) and none of the new keys is rebuilt from PostgreSQL
/// by the first instance of the new version, which deletes the old keys.
#[tokio::test]
async fn a_redis_in_the_old_layout_is_rebuilt_from_postgresql_and_the_old_keys_deleted() {
    use crate::support::app::{Deliveries, TestApp};
    use crate::support::pipeline::{Env, aggregate_body};
    use serde_json::json;

    let env = Env::start().await;
    let id = env
        .submit(&aggregate_body("202401", json!({"MAL_SUSP": 1})))
        .await["submission_id"]
        .as_i64()
        .unwrap();
    let Env { app, sim, .. } = env;
    let settings = (*app.settings).clone();
    app.stop().await;

    // The open submission is queued under the old names only, and the new marker is absent.
    let redis = queue::connect(&settings.server, 1).await.unwrap();
    redis.pool.wait_for_connect().await.unwrap();
    let jobs = JobQueue::new(&redis, dhis2gw::submissions::QUEUE_NAME);
    assert!(jobs.keys()[1].contains(":queue:{submissions}:pending"));
    let client = redis.pool.next();
    for key in jobs
        .keys()
        .iter()
        .map(String::as_str)
        .chain([jobs.marker_key()])
    {
        let _: i64 = client.del(key).await.unwrap();
    }
    let old = jobs.old_layout_keys().clone();
    assert!(old[1].ends_with(":queue:submissions:pending"), "{old:?}");
    let _: i64 = client.sadd(old[0].as_str(), id).await.unwrap();
    let _: i64 = client.rpush(old[1].as_str(), id).await.unwrap();
    let _: () = client
        .set(old[5].as_str(), "2026-01-01T00:00:00Z", None, None, false)
        .await
        .unwrap();
    assert_eq!(jobs.holds(&[id]).await.unwrap(), [false]);
    assert!(!jobs.marker_present().await.unwrap());

    // The new version starts on the same database and Redis.
    let app = TestApp::spawn_delivering(settings, Deliveries::OnRequest).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let held = jobs.holds(&[id]).await.unwrap() == [true];
        // One EXISTS per key: on Redis Cluster they are in different slots.
        let mut old_left = 0;
        for key in &old {
            let n: i64 = client.exists(key.as_str()).await.unwrap();
            old_left += n;
        }
        if held && old_left == 0 && jobs.marker_present().await.unwrap() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not rebuilt after 20 s: held {held}, old keys left {old_left}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And the rebuilt queue delivers it.
    app.run_pending_deliveries().await;
    assert_eq!(sim.received_data_value_sets().len(), 1);
    assert_eq!(jobs.stats().await.unwrap(), QueueStats::default());
    app.stop().await;
}
