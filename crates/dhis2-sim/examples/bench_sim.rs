//! The DHIS2 stand-ins for the benchmark (`bench/run.sh`):
//!
//! - the simulator (`dhis2_sim`, as `dhis2-sim`), plus a fixed latency added to every
//!   request, to measure delivery against a slow DHIS2;
//! - `--minimal`: a bare answerer of `POST /api/dataValueSets`. It checks the credentials are
//!   there, parses the body and counts its data values, and answers the ImportSummary a DHIS2
//!   2.40 sends for a successful import (the same bytes as the simulator's). It keeps and
//!   validates nothing, so that on a machine shared with dhis2gw it costs about what the load
//!   generator costs the accept benchmark, and the delivery rate measures dhis2gw, not the
//!   simulator's bookkeeping.
//!
//! `cargo run --release --example bench-sim -- --listen 127.0.0.1:18080 [--latency-ms 200 | --minimal]`

use std::net::SocketAddr;
use std::time::Duration;

use dhis2_sim::{self as sim, SimConfig};
use poem::http::StatusCode;
use poem::listener::TcpListener;
use poem::{Body, Request, Response, Route, Server, handler, post};
use serde::Deserialize;
use serde::de::IgnoredAny;

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
    if std::env::args().any(|a| a == "--minimal") {
        println!("bench-sim (minimal) http://{listen}");
        let app = Route::new()
            .at("/api/dataValueSets", post(data_value_sets))
            .at("/api/:version/dataValueSets", post(data_value_sets));
        Server::new(TcpListener::bind(listen))
            .run_with_graceful_shutdown(
                app,
                async {
                    let _ = tokio::signal::ctrl_c().await;
                },
                Some(Duration::from_secs(1)),
            )
            .await?;
        return Ok(());
    }
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

/// Only what the count needs; everything else in the body is skipped (but still parsed).
#[derive(Deserialize)]
struct DataValueSet {
    #[serde(rename = "dataValues", default)]
    data_values: Vec<IgnoredAny>,
}

#[handler]
async fn data_value_sets(req: &Request, body: Body) -> Response {
    if req.header("authorization").is_none() {
        return json(StatusCode::UNAUTHORIZED, UNAUTHORIZED.to_owned());
    }
    let bytes = match body.into_bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return json(StatusCode::BAD_REQUEST, error_body(&e.to_string())),
    };
    match serde_json::from_slice::<DataValueSet>(&bytes) {
        Ok(set) => json(
            StatusCode::OK,
            IMPORTED.replace(
                "\"imported\":0",
                &format!("\"imported\":{}", set.data_values.len()),
            ),
        ),
        Err(e) => json(StatusCode::CONFLICT, error_body(&e.to_string())),
    }
}

fn json(status: StatusCode, body: String) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json;charset=UTF-8")
        .body(body)
}

fn error_body(message: &str) -> String {
    serde_json::json!({
        "httpStatus": "Conflict", "httpStatusCode": 409, "status": "ERROR",
        "message": format!("JSON parse error: {message}"),
    })
    .to_string()
}

const UNAUTHORIZED: &str = r#"{"httpStatus":"Unauthorized","httpStatusCode":401,"status":"ERROR","message":"Unauthorized"}"#;

/// A DHIS2 2.40 answer to a successful synchronous import; `imported` is filled in.
const IMPORTED: &str = r#"{"httpStatus":"OK","httpStatusCode":200,"message":"Import was successful.","response":{"conflicts":[],"dataSetComplete":"false","description":"Import process completed successfully","importCount":{"deleted":0,"ignored":0,"imported":0,"updated":0},"importOptions":{"async":false,"datasetAllowsPeriods":false,"dryRun":false,"firstRowIsHeader":true,"force":false,"idSchemes":{},"ignoreEmptyCollection":false,"importStrategy":"CREATE_AND_UPDATE","mergeDataValues":false,"mergeMode":"REPLACE","reportMode":"FULL","requireAttributeOptionCombo":false,"requireCategoryOptionCombo":false,"sharing":false,"skipAudit":false,"skipCache":false,"skipExistingCheck":false,"skipLastUpdated":false,"skipNotifications":false,"skipPatternValidation":false,"strictAttributeOptionCombos":false,"strictCategoryOptionCombos":false,"strictDataElements":false,"strictOrganisationUnits":false,"strictPeriods":false},"rejectedIndexes":[],"responseType":"ImportSummary","status":"SUCCESS"},"status":"OK"}"#;
