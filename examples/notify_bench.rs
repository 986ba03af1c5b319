//! Notification throughput against the fakes of `crates/notify-fakes`: deliveries per second to
//! each channel with the provider answering at once and after 100 ms, then 1 000 alerts × 5
//! recipients × 3 channels end to end (Telegram paced on the fake's clock, whose time is printed
//! beside the wall time).
//!
//! `DHIS2GW_BENCH_DB=postgres://… DHIS2GW_BENCH_REDIS=redis://… cargo run --release --example notify_bench`
//! (the database is migrated and its notification tables emptied). `NOTIFY_BENCH_ONLY=email`
//! (or `sms`, `telegram`, `end_to_end`, comma-separated) runs only those parts.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dhis2gw::config::{Settings, SmsProvider, SmtpTls};
use dhis2gw::notify::deliver::Deliverer;
use dhis2gw::notify::send::Clock;
use dhis2gw::notify::{AlertKind, AlertNotice, plan_deliveries};
use notify_fakes::clock::VirtualClock;
use notify_fakes::sms::FakeSmsGateway;
use notify_fakes::smtp::{SmtpMode, SmtpSink};
use notify_fakes::telegram::FakeTelegram;
use tokio::sync::watch;

struct FakeClock(VirtualClock);

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        self.0.now()
    }
    fn reserve(&self, at: Duration) {
        self.0.reserve(at)
    }
    fn done(&self, at: Duration) {
        self.0.done(at)
    }
    fn sleep_until(&self, at: Duration) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(self.0.sleep_until(at))
    }
}

fn notice(alert_id: i64) -> AlertNotice {
    AlertNotice {
        alert_id,
        kind: AlertKind::Rise,
        disease_code: Some("MEASLES".into()),
        disease_name: "Measles".into(),
        data_element: "de1".into(),
        org_unit: "D".into(),
        org_unit_name: "District".into(),
        org_unit_path: "/R/P/D".into(),
        week: "2026W47".parse().unwrap(),
        count: 9.0,
        expected: Some(3.0),
        upper_bound: Some(5.0),
        reason: "rise".into(),
        facilities: vec![],
        capture_url: Some("https://dhis2.example.org/capture".into()),
        severity: "high".into(),
    }
}

struct World {
    settings: Settings,
    pool: dhis2gw::db::Pool,
    redis: dhis2gw::queue::RedisClients,
    smtp: SmtpSink,
    sms: FakeSmsGateway,
    telegram: FakeTelegram,
    _ca: tempfile::NamedTempFile,
}

async fn world(clock: Option<VirtualClock>) -> World {
    let mut settings = Settings::defaults();
    settings.database.uri = std::env::var("DHIS2GW_BENCH_DB").expect("DHIS2GW_BENCH_DB");
    settings.server.redis_address =
        std::env::var("DHIS2GW_BENCH_REDIS").expect("DHIS2GW_BENCH_REDIS");
    settings.server.queue_prefix = format!("bench{}", uuid::Uuid::new_v4().simple());
    let smtp = SmtpSink::start(SmtpMode::StartTls).await;
    let sms = FakeSmsGateway::start().await;
    let telegram = FakeTelegram::start_with(clock).await;
    let mut ca = tempfile::NamedTempFile::new().unwrap();
    ca.write_all(smtp.ca_pem().as_bytes()).unwrap();
    let n = &mut settings.notifications;
    n.smtp_host = "localhost".into();
    n.smtp_port = smtp.port();
    n.smtp_tls = SmtpTls::Starttls;
    n.smtp_ca_file = ca.path().display().to_string();
    n.smtp_from_address = "alerts@bench.test".into();
    n.sms_provider = SmsProvider::Http;
    n.sms_http_url = sms.url().into();
    n.sms_http_body = "to={to}&text={message}".into();
    n.telegram_bot_token = "1:bench".into();
    n.telegram_api_url = telegram.url().into();
    n.templates_dir = "/nonexistent".into();
    let pool = dhis2gw::db::connect(&settings.database).unwrap();
    dhis2gw::db::migrate::run(&pool).await.unwrap();
    pool.get()
        .await
        .unwrap()
        .batch_execute("TRUNCATE notify_attempts, notify_deliveries, notify_notices, notify_recipients CASCADE")
        .await
        .unwrap();
    let redis = dhis2gw::queue::connect(&settings.server, 4).await.unwrap();
    World {
        settings,
        pool,
        redis,
        smtp,
        sms,
        telegram,
        _ca: ca,
    }
}

async fn seed(w: &World, recipients: usize, channels: &[&str]) {
    let client = w.pool.get().await.unwrap();
    for i in 0..recipients {
        let email = channels
            .contains(&"email")
            .then(|| format!("r{i}@bench.test"));
        let phone = channels.contains(&"sms").then(|| format!("+26097{:07}", i));
        let chat = channels
            .contains(&"telegram")
            .then(|| format!("{}", 1000 + i));
        client
            .execute(
                "INSERT INTO notify_recipients (source, source_key, name, first_name, org_unit_paths, email, phone, telegram)
                 VALUES ('dhis2', $1, 'R', 'R', ARRAY['/R/P/D'], $2, $3, $4)",
                &[&format!("u{i}"), &email, &phone, &chat],
            )
            .await
            .unwrap();
    }
}

/// Plans `alerts` alerts, then runs the delivery task until every delivery settled; the time
/// counts from the start of the task.
async fn run(w: &World, alerts: i64, clock: Option<VirtualClock>) -> (u64, Duration) {
    let mut planned = 0;
    for a in 1..=alerts {
        let mut client = w.pool.get().await.unwrap();
        let tx = client.transaction().await.unwrap();
        planned += plan_deliveries(&tx, &notice(a)).await.unwrap();
        tx.commit().await.unwrap();
    }
    let (_tx, rx) = watch::channel(Arc::new(w.settings.clone()));
    let mut deliverer = Deliverer::new(w.pool.clone(), &w.redis, rx);
    if let Some(clock) = clock {
        deliverer = deliverer.with_clock(Arc::new(FakeClock(clock)));
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let task = tokio::spawn(deliverer.run(stop_rx));
    loop {
        let open: i64 = w
            .pool
            .get()
            .await
            .unwrap()
            .query_one(
                "SELECT count(*) FROM notify_deliveries WHERE status = 'queued'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    stop_tx.send(true).unwrap();
    task.await.unwrap();
    (planned, elapsed)
}

#[tokio::main]
async fn main() {
    let only = std::env::var("NOTIFY_BENCH_ONLY").unwrap_or_default();
    let wanted = |part: &str| only.is_empty() || only.split(',').any(|p| p.trim() == part);
    for latency in [Duration::ZERO, Duration::from_millis(100)] {
        for channel in ["email", "sms", "telegram"] {
            if !wanted(channel) {
                continue;
            }
            let w = world(None).await;
            w.smtp.set_latency(latency);
            w.sms.set_latency(latency);
            w.telegram.set_latency(latency);
            let n = if latency.is_zero() { 300 } else { 100 };
            seed(&w, n, &[channel]).await;
            let (count, elapsed) = run(&w, 1, None).await;
            println!(
                "{channel:8} latency {:>3} ms: {count} deliveries in {:.2} s = {:.1}/s",
                latency.as_millis(),
                elapsed.as_secs_f64(),
                count as f64 / elapsed.as_secs_f64()
            );
        }
    }
    if !wanted("end_to_end") {
        return;
    }
    let clock = VirtualClock::default();
    let w = world(Some(clock.clone())).await;
    seed(&w, 5, &["email", "sms", "telegram"]).await;
    let (count, elapsed) = run(&w, 1000, Some(clock.clone())).await;
    println!(
        "end to end: 1000 alerts x 5 recipients x 3 channels = {count} deliveries in {:.1} s wall ({:.0}/s); Telegram's pacing took {:.0} s on the fake's clock",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        clock.now().as_secs_f64()
    );
    assert_eq!(
        w.smtp.mails().len() + w.sms.accepted().len() + w.telegram.sent().len(),
        count as usize
    );
}
