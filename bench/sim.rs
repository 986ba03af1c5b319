//! The DHIS2 simulator for the benchmark (`bench/run.sh`): like `dhis2-sim`, plus a fixed
//! latency added to every request, to measure delivery against a slow DHIS2.
//!
//! `cargo run --release --example bench-sim -- --listen 127.0.0.1:18080 --latency-ms 200`

use std::net::SocketAddr;
use std::time::Duration;

use dhis2gw::sim::{self, SimConfig};

// The same allocator as the daemon, so the simulator's share of the machine stays small.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listen: SocketAddr = arg("--listen")
        .unwrap_or_else(|| "127.0.0.1:18080".into())
        .parse()?;
    let latency_ms: u64 = arg("--latency-ms").unwrap_or_else(|| "0".into()).parse()?;
    let handle = sim::start(SimConfig::default(), listen).await?;
    if latency_ms > 0 {
        handle.set_latency(Duration::from_millis(latency_ms));
    }
    println!("bench-sim {} latency {latency_ms} ms", handle.base_url());
    tokio::signal::ctrl_c().await?;
    handle.shutdown().await;
    Ok(())
}
