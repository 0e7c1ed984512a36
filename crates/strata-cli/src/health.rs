//! `strata health URL`: the report, and an exit code a container
//! `HEALTHCHECK` understands.

use std::io::Write;
use std::time::Duration;

use crate::fail::{FAILURE, Fail, WARN};
use crate::term::output;

pub(crate) async fn run(
    url: &str,
    timeout: Duration,
    json: bool,
    out: &mut dyn Write,
) -> Result<u8, Fail> {
    let (status, body) = crate::http::send(http::Method::GET, url, None, None, timeout).await?;
    let report: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let verdict = report
        .as_ref()
        .and_then(|r| r.get("status"))
        .and_then(|s| s.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| if status.is_success() { "pass" } else { "fail" }.to_owned());
    let code = match verdict.as_str() {
        "pass" | "ok" | "up" if status.is_success() => 0,
        "warn" if status.is_success() => WARN,
        _ => FAILURE,
    };
    let mut rows = vec![vec!["check".into(), "status".into(), "output".into()]];
    rows.push(vec![
        "(service)".into(),
        verdict.clone(),
        format!("HTTP {}", status.as_u16()),
    ]);
    if let Some(checks) = report
        .as_ref()
        .and_then(|r| r.get("checks"))
        .and_then(|c| c.as_object())
    {
        for (name, entries) in checks {
            for entry in entries.as_array().into_iter().flatten() {
                let field = |k: &str| {
                    entry
                        .get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_owned()
                };
                rows.push(vec![name.clone(), field("status"), field("output")]);
            }
        }
    }
    let value = report.unwrap_or_else(|| {
        serde_json::json!({"status": verdict, "http_status": status.as_u16(),
            "body": String::from_utf8_lossy(&body)})
    });
    output(out, json, &value, &rows);
    Ok(code)
}
