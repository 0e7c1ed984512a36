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

/// Prints ratio and speed of each coding at several levels on 16 KiB and
/// 256 KiB of JSON and HTML: the measurements behind the default levels.
/// Levels of one coding run in alternation and report medians, so load
/// from other processes hits them alike.
fn level_sweep() {
    let sweep: [(&str, &[i32]); 3] = [
        ("gzip", &[1, 4, 5, 6, 9]),
        ("br", &[1, 3, 4, 5, 6, 9, 11]),
        ("zstd", &[1, 3, 6, 9, 12]),
    ];
    for body in [
        json(16 * 1024),
        json(256 * 1024),
        html(16 * 1024),
        html(256 * 1024),
    ] {
        let kind = if body.starts_with(b"[") {
            "json"
        } else {
            "html"
        };
        let size = body.len();
        for (coding, levels) in sweep {
            let mut samples = vec![Vec::new(); levels.len()];
            let start = std::time::Instant::now();
            while samples[0].len() < 5 || start.elapsed() < Duration::from_secs(2) {
                for (i, &level) in levels.iter().enumerate() {
                    let t = std::time::Instant::now();
                    std::hint::black_box(raw(coding, level, &body));
                    samples[i].push(t.elapsed());
                }
            }
            for (samples, &level) in samples.into_iter().zip(levels) {
                let out = raw(coding, level, &body);
                let mib_s = size as f64 / median(samples).as_secs_f64() / (1024.0 * 1024.0);
                eprintln!(
                    "levels {kind}-{}k {coding}-{level}: {:.1}% of input, {mib_s:.0} MiB/s",
                    size / 1024,
                    out as f64 * 100.0 / size as f64
                );
            }
        }
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Runs `f` in a batch of about 2 ms and returns the time per call.
fn per_call(batch: u32, mut f: impl FnMut()) -> Duration {
    let start = std::time::Instant::now();
    for _ in 0..batch {
        f();
    }
    start.elapsed() / batch
}

/// strata, tower-http and the raw codec run in alternating short batches,
/// so load from other processes hits all three alike; prints medians of
/// the time per call and their ratios.
fn paired(runtime: &tokio::runtime::Runtime, bodies: &[(&str, &'static str, Bytes)], only: &str) {
    for (coding, level) in CODECS {
        if !only.is_empty() && only != "1" && only != coding {
            continue;
        }
        for (kind, content_type, body) in bodies {
            let label = format!("{kind}-{}k", body.len() / 1024);
            let ours = ServiceBuilder::new()
                .layer(strata(coding, level))
                .service(handler(body.clone(), content_type));
            let theirs = ServiceBuilder::new()
                .layer(tower_http(level))
                .service(handler(body.clone(), content_type));
            let probe = per_call(3, || {
                runtime.block_on(run(&theirs, coding));
            });
            let batch = (1_000_000 / probe.as_nanos().max(1)).clamp(1, 1000) as u32;
            let (mut a, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
            let start = std::time::Instant::now();
            while a.len() < 25 || start.elapsed() < Duration::from_secs(3) {
                // Alternate who goes first, so neither gains from order.
                let ours_first = a.len() % 2 == 0;
                if ours_first {
                    a.push(per_call(batch, || {
                        runtime.block_on(run(&ours, coding));
                    }));
                }
                b.push(per_call(batch, || {
                    runtime.block_on(run(&theirs, coding));
                }));
                if !ours_first {
                    a.push(per_call(batch, || {
                        runtime.block_on(run(&ours, coding));
                    }));
                }
                r.push(per_call(batch, || {
                    std::hint::black_box(raw(coding, level, body));
                }));
            }
            let (a, b, r) = (median(a), median(b), median(r));
            eprintln!(
                "paired {coding}-{level} {label}: strata {:.1} us, tower-http {:.1} us, raw {:.1} us; \
                 strata/tower-http throughput {:.2}x, strata/raw {:.2}",
                a.as_secs_f64() * 1e6,
                b.as_secs_f64() * 1e6,
                r.as_secs_f64() * 1e6,
                b.as_secs_f64() / a.as_secs_f64(),
                r.as_secs_f64() / a.as_secs_f64(),
            );
        }
    }
}

fn bench(c: &mut Criterion) {
    if std::env::var_os("STRATA_LEVEL_SWEEP").is_some() {
        level_sweep();
    }
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
    if let Ok(only) = std::env::var("STRATA_PAIRED") {
        paired(&runtime, &bodies, &only);
    }
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
        b.to_async(&runtime).iter(|| run(&ours, "gzip"));
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
