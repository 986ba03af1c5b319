//! System endpoints and the current user: `/api/system/info`, `/api/system/ping`,
//! `/api/system/id`, `/api/me`.

use poem::Response;
use poem::http::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::fields;
use super::ids::{new_uid, now, timestamp};
use super::request::Ctx;
use super::webmessage::{WebMessage, json_response};

const SYSTEM_ID: &str = "5b1ef5a3-5b1c-4d5b-8a0e-0b7f1e0d4c21";

/// What `SystemInfo.clearSensitiveInfo()` removes for users who are not superusers.
const SENSITIVE: [&str; 14] = [
    "javaVersion",
    "javaVendor",
    "javaOpts",
    "osName",
    "osArchitecture",
    "osVersion",
    "externalDirectory",
    "databaseInfo",
    "readReplicaCount",
    "memoryInfo",
    "cpuCores",
    "environmentVariable",
    "fileStoreProvider",
    "nodeId",
];

/// `GET /api/system/ping` → `pong`; DHIS2 leaves it open to anonymous callers.
pub fn ping() -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/plain;charset=UTF-8")
        .body("pong")
}

pub fn info(ctx: &Ctx) -> Response {
    let version = ctx.version.as_str();
    // A stable fake git revision per version, like the 7-char hash DHIS2 reports.
    let revision: String = hex::encode(Sha256::digest(version.as_bytes()))
        .chars()
        .take(7)
        .collect();
    let mut info = json!({
        "contextPath": ctx.base_url(),
        "userAgent": ctx.req.header("user-agent").unwrap_or_default(),
        "calendar": "iso8601",
        "dateFormat": "yyyy-mm-dd",
        "serverDate": timestamp(now()),
        "serverTimeZoneId": "Etc/UTC",
        "serverTimeZoneDisplayName": "Coordinated Universal Time",
        "lastAnalyticsTableSuccess": "2024-01-01T03:00:00.000",
        "intervalSinceLastAnalyticsTableSuccess": "0 h, 5 m, 0 s",
        "lastAnalyticsTableRuntime": "1 m, 2 s",
        "version": version,
        "revision": revision,
        "buildTime": "2024-01-15T10:00:00.000",
        "jasperReportsVersion": "6.20.6",
        "environmentVariable": "DHIS2_HOME",
        "fileStoreProvider": "filesystem",
        "readOnlyMode": "off",
        "nodeId": "dhis2-sim",
        "javaVersion": "17.0.10",
        "javaVendor": "Eclipse Adoptium",
        "javaOpts": "-Xms1g -Xmx2g",
        "osName": "Linux",
        "osArchitecture": "amd64",
        "osVersion": "6.1.0",
        "externalDirectory": "/opt/dhis2",
        "databaseInfo": { "type": "PostgreSQL", "name": "dhis2", "user": "dhis", "spatialSupport": true, "databaseVersion": "14.10" },
        "readReplicaCount": 0,
        "memoryInfo": "Mem Total in JVM: 2048 Free in JVM: 1024 Max Limit: 2048",
        "cpuCores": 4,
        "encryption": false,
        "emailConfigured": false,
        "redisEnabled": false,
        "systemId": SYSTEM_ID,
        "systemName": ctx.state.catalog.seed.system_name,
        "instanceBaseUrl": ctx.base_url(),
        "isMetadataVersionEnabled": true,
        "isMetadataSyncEnabled": false,
    });
    if let Some(object) = info.as_object_mut()
        && !ctx.user.is_superuser()
    {
        for key in SENSITIVE {
            object.remove(key);
        }
    }
    respond_with_fields(ctx, &info, "*")
}

pub fn me(ctx: &Ctx) -> Response {
    let user = ctx.user;
    let catalog = &ctx.state.catalog;
    let Some(mut me) = catalog.object(&user.id).and_then(Value::as_object).cloned() else {
        return WebMessage::error(404, "User not found").into_response();
    };
    let writable_data_sets: Vec<&str> = catalog
        .seed
        .data_sets
        .iter()
        .map(|ds| ds.id.as_str())
        .collect();
    let programs: Vec<&str> = catalog
        .seed
        .programs
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    let extra = [
        ("authorities", json!(user.authorities)),
        ("teiSearchOrganisationUnits", json!([])),
        (
            "settings",
            json!({ "keyUiLocale": "en", "keyDbLocale": "en" }),
        ),
        ("programs", json!(programs)),
        ("dataSets", json!(writable_data_sets)),
        ("favorites", json!([])),
        ("translations", json!([])),
        (
            "access",
            json!({ "manage": true, "externalize": true, "write": true, "read": true, "update": true, "delete": true }),
        ),
    ];
    me.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
    if ctx.version.minor() >= 41 {
        me.insert("patTokens".into(), json!([]));
        me.insert("attributeValues".into(), json!([]));
    }
    respond_with_fields(ctx, &Value::Object(me), "*")
}

/// `GET /api/system/id?limit=N` → `{"codes": [...]}` (at most 10000).
pub fn ids(ctx: &Ctx) -> Response {
    let limit = ctx
        .req
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 10_000);
    let codes: Vec<String> = (0..limit).map(|_| new_uid()).collect();
    json_response(200, &json!({ "codes": codes }))
}

fn respond_with_fields(ctx: &Ctx, object: &Value, default_fields: &str) -> Response {
    let fields = fields::parse(ctx.req.param("fields").unwrap_or(default_fields));
    let selected = fields::select(object, &fields, &ctx.state.catalog);
    json_response(200, &selected)
}
