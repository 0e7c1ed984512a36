//! The viewer's JSON API, its page, and the HAR and JSON lines exports.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

#[path = "common/app.rs"]
mod app;

use http::{Method, StatusCode};
use serde_json::Value;
use strata_testkit::{body_bytes, get, request};
use tower::ServiceExt as _;

async fn json(handle: &strata_recorder::RecorderHandle, uri: &str) -> (StatusCode, Value) {
    let response = handle.viewer().oneshot(get(uri)).await.unwrap();
    let status = response.status();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (
        status,
        serde_json::from_slice(&body_bytes(response.into_body()).await).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn lists_filters_and_pages_exchanges() {
    let handle = app::recorded().await;
    let (status, page) = json(&handle, "/recorder/api/exchanges").await;
    assert_eq!(status, StatusCode::OK);
    let uris: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        [
            "/upload",
            "/broken",
            "/items/3",
            "/items/2?q=a%20b",
            "/items/1"
        ]
    );
    let (_, page) = json(&handle, "/recorder/api/exchanges?status=5").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["status"], 503);
    let (_, page) = json(
        &handle,
        "/recorder/api/exchanges?route=%2Fitems%2F%7Bid%7D&user=ada",
    )
    .await;
    assert_eq!(page["items"][0]["uri"], "/items/2?q=a%20b");
    let (_, first) = json(&handle, "/api/exchanges?limit=2").await;
    let next = first["next"].as_str().unwrap();
    let (_, second) = json(&handle, &format!("/api/exchanges?limit=2&before={next}")).await;
    assert_eq!(second["items"][0]["uri"], "/items/3");
    let (status, _) = json(&handle, "/api/exchanges?limit=many").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn serves_one_exchange_and_answers_404_for_an_unknown_id() {
    let handle = app::recorded().await;
    let (_, page) = json(&handle, "/api/exchanges?status=5").await;
    let id = page["items"][0]["id"].as_str().unwrap();
    let (status, exchange) = json(&handle, &format!("/api/exchanges/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(exchange["route"], "/broken");
    assert!(exchange["response_body"]["prefix"].is_string());
    let (status, _) = json(&handle, "/api/exchanges/00000000000000000000000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = handle
        .viewer()
        .oneshot(request(Method::POST, "/api/exchanges", ""))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

/// The fields HAR 1.2 requires, present with their types.
fn assert_har(doc: &Value, entries: usize) {
    let log = &doc["log"];
    assert_eq!(log["version"], "1.2");
    assert_eq!(log["creator"]["name"], "strata-recorder");
    assert!(log["creator"]["version"].is_string());
    let list = log["entries"].as_array().unwrap();
    assert_eq!(list.len(), entries);
    for e in list {
        let started = e["startedDateTime"].as_str().unwrap();
        assert_eq!(started.len(), 24, "{started}");
        assert!(started.ends_with('Z') && started.as_bytes()[10] == b'T');
        assert!(e["time"].is_number());
        let req = &e["request"];
        for key in ["method", "url", "httpVersion"] {
            assert!(req[key].is_string(), "request.{key}");
        }
        assert!(req["url"].as_str().unwrap().starts_with("http://"));
        for key in ["cookies", "headers", "queryString"] {
            assert!(req[key].is_array(), "request.{key}");
        }
        assert!(req["headersSize"].is_number() && req["bodySize"].is_number());
        if let Some(post) = req.get("postData") {
            assert!(post["mimeType"].is_string() && post["text"].is_string());
        }
        let res = &e["response"];
        assert!(res["status"].is_number() && res["statusText"].is_string());
        assert!(res["httpVersion"].is_string() && res["redirectURL"].is_string());
        assert!(res["cookies"].is_array() && res["headers"].is_array());
        assert!(res["content"]["size"].is_number() && res["content"]["mimeType"].is_string());
        assert!(res["headersSize"].is_number() && res["bodySize"].is_number());
        assert!(e["cache"].is_object());
        for key in ["send", "wait", "receive"] {
            assert!(e["timings"][key].as_f64().unwrap() >= 0.0, "timings.{key}");
        }
    }
}

#[tokio::test]
async fn exports_har_1_2_with_text_and_base64_bodies() {
    let handle = app::recorded().await;
    let (_, page) = json(&handle, "/api/exchanges?route=%2Fupload").await;
    let id = page["items"][0]["id"].as_str().unwrap();
    let (status, one) = json(&handle, &format!("/api/exchanges/{id}.har")).await;
    assert_eq!(status, StatusCode::OK);
    assert_har(&one, 1);
    let post = &one["log"]["entries"][0]["request"]["postData"];
    assert_eq!(post["encoding"], "base64");
    assert_eq!(post["text"], "//4AAQ==");
    assert_eq!(one["log"]["entries"][0]["response"]["status"], 201);

    let (_, all) = json(&handle, "/api/export.har").await;
    assert_har(&all, 5);
    let item2 = &all["log"]["entries"][3];
    assert_eq!(item2["request"]["queryString"][0]["value"], "a b");
    assert_eq!(item2["response"]["content"]["text"], r#"{"id":2}"#);
    assert_eq!(item2["response"]["content"]["mimeType"], "application/json");
    let har = handle
        .export_har(&strata_recorder::Query::new().status_class(5))
        .await
        .unwrap();
    assert_har(&serde_json::from_str(&har).unwrap(), 1);
}

#[tokio::test]
async fn exports_json_lines() {
    let handle = app::recorded().await;
    let response = handle
        .viewer()
        .oneshot(get("/api/export.jsonl?status=2"))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/jsonl");
    let text = String::from_utf8(body_bytes(response.into_body()).await.to_vec()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert!(
        lines
            .iter()
            .all(|l| l["status"].as_u64().unwrap() / 100 == 2)
    );
    assert!(lines[0]["request_headers"].is_array());
}

#[tokio::test]
async fn serves_the_page_with_a_csp_for_its_own_inline_code() {
    let handle = app::recorded().await;
    let response = handle.viewer().oneshot(get("/recorder/")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.starts_with("default-src 'none'; script-src 'sha256-"),
        "{csp}"
    );
    let page = String::from_utf8(body_bytes(response.into_body()).await.to_vec()).unwrap();
    assert!(page.contains("<table>") && !page.contains("http://") && !page.contains("https://"));
}
