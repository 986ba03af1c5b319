//! `dhis2-sim`: the DHIS2 simulator as a standalone server, for demos and manual testing.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use dhis2_sim::surveillance::Surveillance;
use dhis2_sim::{self as sim, Seed, SimConfig};

/// A fake DHIS2 Web API (2.37–2.41) with a small built-in country.
#[derive(Debug, Parser)]
#[command(name = "dhis2-sim", version, about)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// DHIS2 version to emulate, e.g. 2.38.4, 2.40.3, 2.41.0.
    #[arg(long = "dhis2-version", default_value = "2.40.3")]
    dhis2_version: String,
    /// YAML seed file (same shape as crates/dhis2-sim/tests/fixtures/sim-seed.yml); the built-in seed otherwise.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Extra delay before every request is answered, in milliseconds.
    #[arg(long, env = "DHIS2_SIM_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// Seeded weekly surveillance data (analytics, the alert program): these flags replace the
    /// seed file's `surveillance` key; any of them turns it on. The same flags give the same
    /// data, so another program can be served exactly what dhis2gw was.
    #[command(flatten)]
    surveillance: SurveillanceArgs,
}

#[derive(Debug, clap::Args)]
struct SurveillanceArgs {
    /// Seed of the weekly counts (everything follows from it).
    #[arg(
        id = "surveillance_seed",
        long = "surveillance-seed",
        env = "DHIS2_SIM_SURVEILLANCE_SEED"
    )]
    seed: Option<u64>,
    /// Districts (level 3) generated under a region under `--surveillance-parent`.
    #[arg(long, env = "DHIS2_SIM_DISTRICTS")]
    districts: Option<usize>,
    /// Facilities (level 4) per district.
    #[arg(long, env = "DHIS2_SIM_FACILITIES")]
    facilities: Option<usize>,
    /// Diseases (data elements `Dis00000000`, `Dis00000001`, …).
    #[arg(long, env = "DHIS2_SIM_DISEASES")]
    diseases: Option<usize>,
    /// Weeks with data, ending with `--last-week`.
    #[arg(long, env = "DHIS2_SIM_WEEKS")]
    weeks: Option<usize>,
    /// The newest week with data, e.g. 2026W47.
    #[arg(long, env = "DHIS2_SIM_LAST_WEEK")]
    last_week: Option<String>,
    /// Store zero counts (analytics answers "0" rows) instead of omitting them.
    #[arg(long, env = "DHIS2_SIM_ZEROS_STORED")]
    zeros_stored: bool,
}

impl SurveillanceArgs {
    /// The seed's surveillance data with these flags applied; `None` when neither gives any.
    fn apply(&self, base: Option<Surveillance>) -> Option<Surveillance> {
        let any = self.seed.is_some()
            || self.districts.is_some()
            || self.facilities.is_some()
            || self.diseases.is_some()
            || self.weeks.is_some()
            || self.last_week.is_some()
            || self.zeros_stored;
        if !any {
            return base;
        }
        let mut s = base.unwrap_or(Surveillance {
            seed: 20,
            districts: 116,
            facilities_per_district: 25,
            diseases: 10,
            last_week: "2026W47".into(),
            weeks: 5,
            parent: "sEl465gkHn9".into(),
            zeros_stored: false,
            string_decimals: true,
        });
        if let Some(v) = self.seed {
            s.seed = v;
        }
        if let Some(v) = self.districts {
            s.districts = v;
        }
        if let Some(v) = self.facilities {
            s.facilities_per_district = v;
        }
        if let Some(v) = self.diseases {
            s.diseases = v;
        }
        if let Some(v) = self.weeks {
            s.weeks = v;
        }
        if let Some(v) = &self.last_week {
            s.last_week.clone_from(v);
        }
        s.zeros_stored |= self.zeros_stored;
        Some(s)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let mut seed = match &cli.seed {
        Some(path) => Seed::load(path)?,
        None => Seed::builtin(),
    };
    seed.surveillance = cli.surveillance.apply(seed.surveillance.take());
    if let Some(s) = &seed.surveillance {
        anyhow::ensure!(
            dhis2_sim::surveillance::parse_week(&s.last_week).is_some(),
            "--last-week {}: not an ISO week like 2026W47",
            s.last_week
        );
    }
    let credentials = demo_credentials(&seed);
    let seed_summary = seed.surveillance.as_ref().map(|s| {
        format!(
            "Surveillance: seed {}, {} diseases x {} districts x {} facilities, {} weeks to {}, latency {} ms",
            s.seed, s.diseases, s.districts, s.facilities_per_district, s.weeks, s.last_week, cli.latency_ms
        )
    });
    let handle = sim::start(
        SimConfig {
            version: cli.dhis2_version.clone(),
            seed,
        },
        cli.listen,
    )
    .await?;
    handle.set_latency(std::time::Duration::from_millis(cli.latency_ms));
    println!(
        "DHIS2 {} simulator listening on {}",
        cli.dhis2_version,
        handle.base_url()
    );
    println!("  API:      {}/api/system/info", handle.base_url());
    if let Some(s) = &seed_summary {
        println!("  {s}");
    }
    for line in credentials {
        println!("  {line}");
    }
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    println!("Shutting down.");
    handle.shutdown().await;
    Ok(())
}

/// One line per seeded user and token, so the demo can be driven with curl right away.
fn demo_credentials(seed: &Seed) -> Vec<String> {
    let users = seed.users.iter().filter(|u| !u.disabled).map(|u| {
        let role = if u.is_superuser() {
            "superuser"
        } else if u.has_authority("F_DATAVALUE_ADD") {
            "data entry"
        } else {
            "read only"
        };
        format!("Basic:    {}:{} ({role})", u.username, u.password)
    });
    let tokens = seed.api_tokens.iter().map(|t| {
        let now = chrono::Utc::now().naive_utc();
        let state = match t.expire {
            Some(expire) if expire < now => "expired".to_owned(),
            Some(expire) => format!("valid until {expire}"),
            None => "valid".to_owned(),
        };
        format!("ApiToken: {} (user {}, {state})", t.key, t.username)
    });
    users.chain(tokens).collect()
}
