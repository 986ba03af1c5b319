//! The original gateway's URLs outside `/api/v2`, kept so that bookmarks and integrations still
//! work: `/` (a landing page), `/logs-viewer` (now the console's submissions page) and the
//! unauthenticated `/mappings/export/excel-template`. `/docs/{page}` is in
//! [`docs_pages`](super::docs_pages).

use poem::http::{HeaderValue, StatusCode, header};
use poem::web::Redirect;
use poem::{Response, handler};

/// No script, no external request: the page links and says what is where.
pub const LANDING_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const LANDING: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dhis2gw</title>
<style>
body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d2733;line-height:1.5}
h1{font-size:1.6rem;margin-bottom:.2rem}
p.lead{color:#4a5866;margin-top:0}
ul{list-style:none;padding:0}
li{border:1px solid #d5dde5;border-radius:6px;margin:.6rem 0;padding:.7rem 1rem}
a{color:#0b5cad;font-weight:600;text-decoration:none}
a:hover{text-decoration:underline}
span{display:block;color:#4a5866;font-size:.92rem}
@media (prefers-color-scheme:dark){body{background:#12171c;color:#e3e8ed}li{border-color:#34404b}a{color:#6cb2f5}p.lead,span{color:#a9b5c1}}
</style>
</head>
<body>
<h1>dhis2gw</h1>
<p class="lead">DHIS2 gateway: takes aggregate and tracker data over HTTP, logs it and delivers it to DHIS2.</p>
<ul>
<li><a href="/admin/">Console</a><span>Submissions, queue, mappings, users, alerts and jobs (sign in).</span></li>
<li><a href="/swagger/">API reference (Swagger UI)</a><span>Every route of <code>/api/v2</code>, its parameters and answers; the document itself is <a href="/openapi.json">/openapi.json</a>.</span></li>
<li><a href="/docs/">Operator documentation</a><span>Installing, configuring, submitting data, mappings, alerts, moving from the original gateway.</span></li>
<li><a href="/ready">Readiness</a><span>Whether PostgreSQL, Redis and the background tasks are up (JSON).</span></li>
</ul>
</body>
</html>
"#;

/// `GET /`: the landing page.
pub fn landing_page() -> Response {
    html_page(StatusCode::OK, LANDING)
}

/// `GET /logs-viewer`: the original's log viewer is the console's submissions page now.
#[handler]
pub fn logs_viewer() -> Redirect {
    Redirect::temporary("/admin/submissions")
}

/// `GET /mappings/export/excel-template`: the empty mappings workbook, without credentials as
/// the original served it (it holds only headers, examples and help; no data).
#[handler]
pub fn excel_template() -> Response {
    match crate::mappings::export::template_xlsx() {
        Ok(bytes) => Response::builder()
            .status(StatusCode::OK)
            .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .header(
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"dhis2_mappings_template.xlsx\"",
            )
            .body(bytes),
        Err(e) => {
            tracing::error!(error = %e, "the mappings template could not be built");
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("text/plain; charset=utf-8")
                .body("the mappings template could not be built")
        }
    }
}

/// An HTML answer with the pages' security headers.
pub fn html_page(status: StatusCode, body: impl Into<String>) -> Response {
    let mut resp = Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .body(body.into());
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(LANDING_CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}
