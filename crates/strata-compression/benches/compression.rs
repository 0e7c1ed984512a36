//! strata-compression against tower-http's `CompressionLayer` and the raw
//! codec, on the same bodies at the same coding and level.
//!
//! `cargo bench -p strata-compression --bench compression`

use std::convert::Infallible;
use std::time::Duration;

use async_compression::codecs::Encode;
use async_compression::core::util::PartialBuffer;
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use strata_compression::CompressionLayer;
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer as TowerHttpCompression;

fn json(n: usize) -> Bytes {
    let mut text = String::from("[");
    let mut i = 0;
    while text.len() < n {
        text.push_str(&format!(
            r#"{{"id":{i},"name":"item number {i}","price":{}.{:02},"tags":["alpha","beta"],"in_stock":{}}},"#,
            i * 7 % 1000,
            i % 100,
            i % 3 == 0
        ));
        i += 1;
    }
    text.truncate(n);
    Bytes::from(text)
}

fn html(n: usize) -> Bytes {
    let mut text = String::from("<!doctype html><html><body><table>");
    let mut i = 0;
    while text.len() < n {
        text.push_str(&format!(
            "<tr class=\"row\"><td>{i}</td><td><a href=\"/items/{i}\">Item {i}</a></td><td>{}</td></tr>\n",
            i * 31 % 977
        ));
        i += 1;
    }
    text.truncate(n);
    Bytes::from(text)
}

/// The same coding and level for every contender.
const CODECS: [(&str, i32); 3] = [("gzip", 6), ("br", 4), ("zstd", 3)];

fn request(coding: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .header("accept-encoding", coding)
        .body(Full::default())
        .expect("request")
}

fn handler(
    body: Bytes,
    content_type: &'static str,
) -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future: Send,
> + Clone {
    service_fn(move |_: Request<Full<Bytes>>| {
        let body = body.clone();
        async move {
            Ok::<_, Infallible>(
                Response::builder()
                    .header("content-type", content_type)
                    .body(Full::new(body))
                    .expect("response"),
            )
        }
    })
}

fn strata(coding: &str, level: i32) -> CompressionLayer {
    let builder = CompressionLayer::builder();
    let builder = match coding {
        "gzip" => builder.gzip_level(level),
        "br" => builder.br_level(level),
        _ => builder.zstd_level(level),
    };
    builder.build().expect("valid levels")
}

fn tower_http(level: i32) -> TowerHttpCompression {
    TowerHttpCompression::new().quality(CompressionLevel::Precise(level))
}

async fn run<S, B>(service: &S, coding: &str) -> usize
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible> + Clone,
    B: Body,
    B::Error: std::fmt::Debug,
{
    let response = service
        .clone()
        .oneshot(request(coding))
        .await
        .expect("infallible");
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .len()
}

/// The encoder alone: the whole body in, the whole stream out, no layer.
fn raw(coding: &str, level: i32, input: &[u8]) -> usize {
    use async_compression::Level;
    let mut out = vec![0_u8; input.len() / 2 + 1024];
    let mut written = 0;
    macro_rules! drive {
        ($encoder:expr) => {{
            let mut encoder = $encoder;
            let mut input = PartialBuffer::new(input);
            while !input.unwritten().is_empty() {
                let mut output = PartialBuffer::new(&mut out[written..]);
                encoder.encode(&mut input, &mut output).expect("encodes");
                written += output.written_len();
            }
            loop {
                let mut output = PartialBuffer::new(&mut out[written..]);
                let done = encoder.finish(&mut output).expect("finishes");
                written += output.written_len();
                if done {
                    break;
                }
            }
        }};
    }
    match coding {
        "gzip" => drive!(async_compression::codecs::GzipEncoder::new(
            Level::Precise(level).into()
        )),
        "br" => drive!(async_compression::codecs::BrotliEncoder::new(
            async_compression::brotli::EncoderParams::default().quality(Level::Precise(level))
        )),
        _ => drive!(async_compression::codecs::ZstdEncoder::new(level)),
    }
    written
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let bodies = [
        ("json", "application/json", json(1024)),
        ("json", "application/json", json(16 * 1024)),
        ("json", "application/json", json(256 * 1024)),
        ("html", "text/html", html(1024)),
        ("html", "text/html", html(16 * 1024)),
        ("html", "text/html", html(256 * 1024)),
    ];
    for (coding, level) in CODECS {
        let mut group = c.benchmark_group(format!("compression/{coding}-{level}"));
        for (kind, content_type, body) in &bodies {
            let size = body.len();
            let label = format!("{kind}-{}k", size / 1024);
            group.throughput(Throughput::Bytes(size as u64));
            let ours = ServiceBuilder::new()
                .layer(strata(coding, level))
                .service(handler(body.clone(), content_type));
            let theirs = ServiceBuilder::new()
                .layer(tower_http(level))
                .service(handler(body.clone(), content_type));
            let sizes =
                runtime.block_on(async { (run(&ours, coding).await, run(&theirs, coding).await) });
            eprintln!(
                "{coding}-{level} {label}: strata {} B, tower-http {} B, raw {} B",
                sizes.0,
                sizes.1,
                raw(coding, level, body)
            );
            group.bench_with_input(BenchmarkId::new("strata", &label), &ours, |b, service| {
                b.to_async(&runtime).iter(|| run(service, coding));
            });
            group.bench_with_input(
                BenchmarkId::new("tower-http", &label),
                &theirs,
                |b, service| {
                    b.to_async(&runtime).iter(|| run(service, coding));
                },
            );
            group.bench_with_input(BenchmarkId::new("raw-codec", &label), body, |b, body| {
                b.iter(|| raw(coding, level, body));
            });
        }
        group.finish();
    }

    // A small body: strata sends it as is (below the 1 KiB minimum),
    // tower-http compresses it.
    let small = json(512);
    let mut group = c.benchmark_group("compression/small-body");
    group.throughput(Throughput::Bytes(small.len() as u64));
    let ours = ServiceBuilder::new()
        .layer(CompressionLayer::new())
        .service(handler(small.clone(), "application/json"));
    let theirs = ServiceBuilder::new()
        .layer(tower_http(6))
        .service(handler(small, "application/json"));
    let sizes = runtime.block_on(async { (run(&ours, "gzip").await, run(&theirs, "gzip").await) });
    eprintln!(
        "small json-512: strata {} B (identity), tower-http {} B",
        sizes.0, sizes.1
    );
    group.bench_function("strata-skips", |b| {
        b.to_async(&runtime).iter(|| run(&ours, "gzip"))
    });
    group.bench_function("tower-http-gzip", |b| {
        b.to_async(&runtime).iter(|| run(&theirs, "gzip"));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
