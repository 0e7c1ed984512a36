//! A small app with a recorder that keeps everything, and a few exchanges.

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::{get, post};
use http::{Request, StatusCode};
use strata_recorder::{RecordTags, RecorderHandle, RecorderLayer, Retain};
use strata_testkit::body_bytes;
use tower::ServiceExt as _;

/// Records: `GET /items/1..=3` (200, the second as user ada), `GET
/// /broken` (503), `POST /upload` (binary body), and returns the handle.
pub(crate) async fn recorded() -> RecorderHandle {
    let (layer, handle) = RecorderLayer::builder()
        .retain(Retain::all())
        .pair()
        .unwrap();
    let app = Router::new()
        .route(
            "/items/{id}",
            get(|Path(id): Path<u32>| async move {
                let mut response =
                    axum::response::Response::new(Body::from(format!(r#"{{"id":{id}}}"#)));
                response
                    .headers_mut()
                    .insert("content-type", "application/json".parse().unwrap());
                if id == 2 {
                    response
                        .extensions_mut()
                        .insert(RecordTags::new().user("ada"));
                }
                response
            }),
        )
        .route(
            "/broken",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "<script>alert(1)</script>") }),
        )
        .route(
            "/upload",
            post(|_: axum::body::Bytes| async { StatusCode::CREATED }),
        )
        .layer(layer);
    let requests = [
        Request::get("/items/1").body(Body::empty()).unwrap(),
        Request::get("/items/2?q=a%20b")
            .body(Body::empty())
            .unwrap(),
        Request::get("/items/3").body(Body::empty()).unwrap(),
        Request::get("/broken").body(Body::empty()).unwrap(),
        Request::post("/upload")
            .header("content-type", "application/octet-stream")
            .body(Body::from(vec![0xff_u8, 0xfe, 0x00, 0x01]))
            .unwrap(),
    ];
    for request in requests {
        let response = app.clone().oneshot(request).await.unwrap();
        body_bytes(response.into_body()).await;
    }
    handle.flush().await;
    handle
}
