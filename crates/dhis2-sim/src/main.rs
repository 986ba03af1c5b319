//! `dhis2-sim`: the DHIS2 simulator as a standalone server, for demos and manual testing.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
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
    let seed = match &cli.seed {
        Some(path) => Seed::load(path)?,
        None => Seed::builtin(),
    };
    let credentials = demo_credentials(&seed);
    let handle = sim::start(
        SimConfig {
            version: cli.dhis2_version.clone(),
            seed,
        },
        cli.listen,
    )
    .await?;
    println!(
        "DHIS2 {} simulator listening on {}",
        cli.dhis2_version,
        handle.base_url()
    );
    println!("  API:      {}/api/system/info", handle.base_url());
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
