//! Export as HAR 1.2 and as JSON lines.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::form;
use crate::record::{BodyRecord, Exchange};

/// The exchanges as one HAR 1.2 document (`log.version` `1.2`, the
/// creator, one entry per exchange with its request, response, timings).
pub fn har(exchanges: &[Exchange]) -> String {
    let doc = json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "strata-recorder", "version": env!("CARGO_PKG_VERSION") },
            "entries": exchanges.iter().map(entry).collect::<Vec<_>>(),
        }
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The exchanges as JSON lines: one [`Exchange`] per line.
pub fn jsonl(exchanges: &[Exchange]) -> String {
    let mut out = String::new();
    for exchange in exchanges {
        out.push_str(&serde_json::to_string(exchange).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn headers(list: &[(String, String)]) -> Vec<Value> {
    list.iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect()
}

fn header<'a>(list: &'a [(String, String)], name: &str) -> Option<&'a str> {
    list.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `text` (and `encoding: base64` when the prefix is not UTF-8).
fn text(body: &BodyRecord, into: &mut serde_json::Map<String, Value>) {
    if body.prefix.is_empty() {
        return;
    }
    match std::str::from_utf8(&body.prefix) {
        Ok(text) => {
            into.insert("text".into(), text.into());
        }
        Err(_) => {
            into.insert("text".into(), STANDARD.encode(&body.prefix).into());
            into.insert("encoding".into(), "base64".into());
        }
    }
}

fn entry(exchange: &Exchange) -> Value {
    let s = &exchange.summary;
    let scheme = if s.uri.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    let url = if s.uri.starts_with('/') {
        format!(
            "{scheme}://{}{}",
            s.host.as_deref().unwrap_or("localhost"),
            s.uri
        )
    } else {
        s.uri.clone()
    };
    let query: Vec<Value> = s
        .uri
        .split_once('?')
        .map(|(_, q)| {
            form::pairs(q)
                .map(|(n, v)| json!({ "name": form::decode(n), "value": form::decode(v.unwrap_or_default()) }))
                .collect()
        })
        .unwrap_or_default();
    let mut request = json!({
        "method": s.method,
        "url": url,
        "httpVersion": exchange.http_version,
        "cookies": [],
        "headers": headers(&exchange.request_headers),
        "queryString": query,
        "headersSize": -1,
        "bodySize": exchange.request_body.total_len,
    });
    if exchange.request_body.total_len > 0 {
        let mut post = serde_json::Map::new();
        let mime = header(&exchange.request_headers, "content-type").unwrap_or("");
        post.insert("mimeType".into(), mime.into());
        text(&exchange.request_body, &mut post);
        post.entry("text").or_insert_with(|| "".into());
        request["postData"] = Value::Object(post);
    }
    let mut content = serde_json::Map::new();
    content.insert("size".into(), exchange.response_body.total_len.into());
    let mime = header(&exchange.response_headers, "content-type").unwrap_or("");
    content.insert("mimeType".into(), mime.into());
    text(&exchange.response_body, &mut content);
    if let Some(why) = &exchange.response_body.omitted {
        content.insert("comment".into(), format!("body not kept: {why}").into());
    }
    let status = s.status.unwrap_or(0);
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|c| c.canonical_reason())
        .unwrap_or("");
    let total = s.duration_us as f64 / 1000.0;
    let wait = s.ttfb_us.map_or(total, |t| t as f64 / 1000.0);
    json!({
        "startedDateTime": iso8601(s.started_ms),
        "time": total,
        "request": request,
        "response": {
            "status": status,
            "statusText": reason,
            "httpVersion": exchange.http_version,
            "cookies": [],
            "headers": headers(&exchange.response_headers),
            "content": content,
            "redirectURL": header(&exchange.response_headers, "location").unwrap_or(""),
            "headersSize": -1,
            "bodySize": exchange.response_body.total_len,
        },
        "cache": {},
        "timings": { "send": 0.0, "wait": wait, "receive": (total - wait).max(0.0) },
        "comment": format!("id {}, {:?}", s.id, s.outcome).to_lowercase(),
        "_id": s.id,
        "_route": s.route,
        "_clientIp": s.client_ip,
        "_session": s.session,
        "_user": s.user,
        "_traceId": s.trace_id,
    })
}

/// `2026-12-01T14:10:11.123Z` from Unix milliseconds.
pub(crate) fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_iso8601() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::iso8601(1_796_134_211_123),
            "2026-12-01T14:10:11.123Z"
        );
        assert_eq!(super::iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
