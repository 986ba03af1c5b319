//! One test's world: settings pointing every channel at a fresh fake, a migrated database, the
//! shared Redis under a prefix of its own, and helpers to seed recipients, plan alerts and run
//! the delivery task until nothing is left to send.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dhis2gw::config::{Settings, SmsProvider, SmtpTls};
use dhis2gw::db::Pool;
use dhis2gw::notify::deliver::Deliverer;
use dhis2gw::notify::{AlertKind, AlertNotice, plan_deliveries};
use notify_fakes::sms::FakeSmsGateway;
use notify_fakes::smtp::{SmtpMode, SmtpSink};
use notify_fakes::telegram::FakeTelegram;
use tokio::sync::watch;

use crate::support::app::test_settings;

pub struct NotifyEnv {
    pub settings: Settings,
    pub pool: Pool,
    pub redis: dhis2gw::queue::RedisClients,
    pub smtp: SmtpSink,
    pub telegram: FakeTelegram,
    pub sms: FakeSmsGateway,
    _ca: tempfile::NamedTempFile,
}

pub const TOKEN: &str = "123456:SECRET-bot-token";
pub const SMS_SECRET: &str = "sms-secret-42";

impl NotifyEnv {
    pub async fn start(mode: SmtpMode, telegram: FakeTelegram) -> NotifyEnv {
        let mut settings = test_settings().await;
        let smtp = SmtpSink::start(mode).await;
        let sms = FakeSmsGateway::start().await;
        let mut ca = tempfile::NamedTempFile::new().unwrap();
        ca.write_all(smtp.ca_pem().as_bytes()).unwrap();
        let n = &mut settings.notifications;
        n.smtp_host = "localhost".into();
        n.smtp_port = smtp.port();
        n.smtp_tls = match mode {
            SmtpMode::Plain => SmtpTls::Plain,
            SmtpMode::StartTls => SmtpTls::Starttls,
            SmtpMode::ImplicitTls => SmtpTls::Tls,
        };
        n.smtp_ca_file = ca.path().display().to_string();
        n.smtp_from_address = "alerts@dhis2gw.test".into();
        n.smtp_from_name = "MoH Surveillance".into();
        n.sms_provider = SmsProvider::Http;
        n.sms_http_url = sms.url().to_string();
        n.sms_http_body =
            "username=gw&phone_number={to}&message={message}&certificate={secret}".into();
        n.sms_http_success_contains = "OK".into();
        n.sms_secret = SMS_SECRET.into();
        n.telegram_bot_token = TOKEN.into();
        n.telegram_api_url = telegram.url().to_string();
        n.default_country_code = "260".into();
        n.templates_dir = "/nonexistent/dhis2gw-templates".into();
        n.max_attempts = 6;
        let pool = dhis2gw::db::connect(&settings.database).unwrap();
        let redis = dhis2gw::queue::connect(&settings.server, 2).await.unwrap();
        NotifyEnv {
            settings,
            pool,
            redis,
            smtp,
            telegram,
            sms,
            _ca: ca,
        }
    }

    pub fn deliverer(&self) -> Deliverer {
        let (_tx, rx) = watch::channel(Arc::new(self.settings.clone()));
        // The sender is dropped: the settings never change during a test.
        Deliverer::new(self.pool.clone(), &self.redis, rx)
            .with_backoff_base(Duration::from_millis(200))
    }

    /// A DHIS2 user in the directory, as the directory job would store it.
    pub async fn add_user(
        &self,
        id: &str,
        first_name: &str,
        paths: &[&str],
        email: Option<&str>,
        phone: Option<&str>,
        telegram: Option<&str>,
    ) {
        let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        self.pool
            .get()
            .await
            .unwrap()
            .execute(
                "INSERT INTO notify_recipients (source, source_key, name, first_name,
                        org_unit_paths, email, phone, telegram)
                 VALUES ('dhis2', $1, $2, $2, $3, $4, $5, $6)",
                &[&id, &first_name, &paths, &email, &phone, &telegram],
            )
            .await
            .unwrap();
    }

    /// Ann in the district, reachable on all three channels (e-mail, SMS, Telegram chat 501).
    pub async fn add_ann(&self) {
        self.add_user(
            "u1",
            "Ann",
            &[DISTRICT],
            Some("ann@moh.test"),
            Some("0971000001"),
            Some("501"),
        )
        .await;
    }

    /// Plans `notice` in a transaction of its own, as the alert run does; returns the count.
    pub async fn plan(&self, notice: &AlertNotice) -> u64 {
        let mut client = self.pool.get().await.unwrap();
        let tx = client.transaction().await.unwrap();
        let n = plan_deliveries(&tx, notice).await.unwrap();
        tx.commit().await.unwrap();
        n
    }

    /// `(status, count)` of the deliveries.
    pub async fn statuses(&self) -> Vec<(String, i64)> {
        self.pool
            .get()
            .await
            .unwrap()
            .query(
                "SELECT status, count(*) FROM notify_deliveries GROUP BY status ORDER BY status",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    /// Runs `deliverer` until no delivery is queued (or `timeout`), then stops it.
    pub async fn run_until_settled(&self, deliverer: Deliverer, timeout: Duration) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(deliverer.run(stop_rx));
        self.wait_settled(timeout).await;
        stop_tx.send(true).unwrap();
        task.await.unwrap();
    }

    pub async fn wait_settled(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let open = self
                .count("SELECT count(*) FROM notify_deliveries WHERE status = 'queued'")
                .await;
            if open == 0 {
                return;
            }
            if Instant::now() >= deadline {
                let errors: Vec<String> = self
                    .pool
                    .get()
                    .await
                    .unwrap()
                    .query(
                        "SELECT channel || ': ' || coalesce(last_error, '-') FROM notify_deliveries
                          WHERE status = 'queued' LIMIT 5",
                        &[],
                    )
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                panic!("{open} deliveries still queued after {timeout:?}: {errors:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.pool
            .get()
            .await
            .unwrap()
            .query_one(sql, &[])
            .await
            .unwrap()
            .get(0)
    }
}

pub const DISTRICT: &str = "/ZM/LusakaP/LusakaD";

/// A cluster alert in Lusaka district.
pub fn notice(alert_id: i64) -> AlertNotice {
    AlertNotice {
        alert_id,
        kind: AlertKind::Cluster,
        disease_code: Some("MEASLES".into()),
        disease_name: "Measles".into(),
        data_element: "deMeasles01".into(),
        org_unit: "LusakaD".into(),
        org_unit_name: "Lusaka".into(),
        org_unit_path: DISTRICT.into(),
        week: "2026W47".parse().unwrap(),
        count: 7.0,
        expected: Some(2.0),
        upper_bound: Some(4.5),
        reason: "7 cases in 3 facilities".into(),
        facilities: vec!["Chelstone Clinic (3)".into(), "Kanyama Clinic (4)".into()],
        capture_url: Some("https://dhis2.example.org/capture/#/enrollment?id=E1".into()),
        severity: "high".into(),
    }
}
