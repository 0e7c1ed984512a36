//! The viewer in a real headless browser (Chromium): the script renders the
//! rows, the filters work, and a screenshot shows a page.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

#[path = "common/app.rs"]
mod app;

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;

/// Runs Chromium headless with `args` then `url`; returns its stdout.
fn chromium(dir: &Path, args: &[&str], url: &str) -> String {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        // Root (CI containers) cannot use the sandbox.
        .args(["--no-sandbox", "--virtual-time-budget=10000"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium is needed: sudo apt-get install -y chromium (scripts/test installs it)");
    let mut out = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        stdout.read_to_string(&mut out).unwrap();
        out
    });
    // A ceiling that only catches a hang.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("chromium hung");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

async fn dom(dir: PathBuf, url: String) -> String {
    tokio::task::spawn_blocking(move || chromium(&dir, &["--dump-dom"], &url))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_renders_rows_filters_them_and_shows_in_a_screenshot() {
    let handle = app::recorded().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/recorder/", listener.local_addr().unwrap());
    let router = Router::new().nest_service("/recorder", handle.viewer());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let dir = std::env::temp_dir().join(format!("strata-recorder-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let all = dom(dir.clone(), base.clone()).await;
    assert_eq!(all.matches("<tr class=\"row ").count(), 5, "{all}");
    assert!(all.contains("5 exchanges"), "{all}");
    assert!(all.contains("/items/{id}"));
    // Recorded text is shown as text, never run as markup.
    assert!(!all.contains("alert(1)"));

    let errors = dom(dir.clone(), format!("{base}?status=5")).await;
    assert_eq!(errors.matches("<tr class=\"row ").count(), 1, "{errors}");
    assert!(errors.contains("<tr class=\"row s5\""));
    assert!(errors.contains("/broken"));
    let ada = dom(dir.clone(), format!("{base}?user=ada")).await;
    assert_eq!(ada.matches("<tr class=\"row ").count(), 1, "{ada}");
    assert!(ada.contains("<td>ada</td>"));

    // The detail view (`?id=` opens it on load), recorded markup as text.
    let broken = handle
        .query(&strata_recorder::Query::new().status_class(5))
        .await
        .unwrap()
        .items[0]
        .id
        .clone();
    let detail = dom(dir.clone(), format!("{base}?id={broken}")).await;
    assert!(detail.contains("<h3>response headers</h3>"), "{detail}");
    assert!(detail.contains("GET /broken → 503"), "{detail}");
    assert!(
        detail.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{detail}"
    );
    assert!(!detail.contains("<script>alert(1)"));

    let shot = dir.join("viewer.png");
    let shot_arg = format!("--screenshot={}", shot.display());
    let url = base.clone();
    let dir2 = dir.clone();
    tokio::task::spawn_blocking(move || {
        chromium(&dir2, &[&shot_arg, "--window-size=1024,768"], &url)
    })
    .await
    .unwrap();
    let png = std::fs::read(&shot).unwrap();
    let (width, height, pixels) = decode_png(&png);
    assert_eq!((width, height), (1024, 768));
    let mut counts: HashMap<&[u8], usize> = HashMap::new();
    for pixel in &pixels {
        *counts.entry(pixel.as_slice()).or_default() += 1;
    }
    let background = counts.values().max().copied().unwrap();
    let other = pixels.len() - background;
    // A blank page is one colour; the header bar, the filter bar, text and
    // table rules are several, over more than 5 % of the page.
    assert!(counts.len() >= 8, "{} colours", counts.len());
    assert!(
        other * 20 > pixels.len(),
        "{other} of {} pixels differ from the background",
        pixels.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Decodes an 8-bit RGB or RGBA PNG into (width, height, pixels) using
/// zlib from flate2 and the five PNG row filters.
fn decode_png(png: &[u8]) -> (usize, usize, Vec<Vec<u8>>) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut width, mut height, mut channels) = (0, 0, 0);
    let mut idat = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let data = &png[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "bit depth");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
                assert_eq!(data[12], 0, "interlaced");
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = width * channels;
    assert_eq!(raw.len(), height * (stride + 1));
    let mut prev = vec![0u8; stride];
    let mut pixels = Vec::with_capacity(width * height);
    for row in raw.chunks(stride + 1) {
        let (filter, data) = (row[0], &row[1..]);
        let mut cur = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= channels { cur[i - channels] } else { 0 };
            let b = prev[i];
            let c = if i >= channels { prev[i - channels] } else { 0 };
            let predictor = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("filter {other}"),
            };
            cur[i] = data[i].wrapping_add(predictor);
        }
        pixels.extend(cur.chunks(channels).map(|p| p[..3].to_vec()));
        prev = cur;
    }
    (width, height, pixels)
}
