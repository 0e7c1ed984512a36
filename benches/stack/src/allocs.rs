//! Allocations per request: a counting global allocator and the driver
//! that sends the benchmark's requests through a mode in process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use axum::Router;
use http_body_util::BodyExt;
use tower::{Service, ServiceExt};

use crate::BoxError;
use crate::request::{Route, request};

/// Counting is off until [`measure`] turns it on: a server under load
/// pays a plain load per allocation, not two locked additions.
static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// [`System`], counting every allocation (a `realloc` counts as one) and
/// the bytes asked for. Install it with `#[global_allocator]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

// The one unsafe item of the crate: it forwards each call unchanged to
// `System`, whose contract is the caller's.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: `ptr` came from `System`; the caller upholds the rest.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count(size: usize) {
    if COUNTING.load(Relaxed) {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(size as u64, Relaxed);
    }
}

/// Allocations and bytes allocated since the first [`measure`] began
/// (zero unless [`CountingAllocator`] is the global allocator).
pub fn counters() -> (u64, u64) {
    (ALLOCATIONS.load(Relaxed), BYTES.load(Relaxed))
}

/// What one route costs per request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerRequest {
    /// Allocations per request.
    pub allocations: f64,
    /// Bytes allocated per request.
    pub bytes: f64,
}

/// Sends `warmup` then `requests` benchmark requests on `route` through
/// `app`, one at a time with `ready` + `call` on one service, reading each
/// body to its end, and counts what the measured ones allocate. The
/// requests are built before counting; every answer must be 2xx.
pub async fn measure(
    app: Router,
    route: Route,
    warmup: u32,
    requests: u32,
) -> Result<PerRequest, BoxError> {
    COUNTING.store(true, Relaxed);
    let mut service = app.into_service::<axum::body::Body>();
    for _ in 0..warmup {
        send(&mut service, request(route)).await?;
    }
    let batch: Vec<_> = (0..requests).map(|_| request(route)).collect();
    let (allocations, bytes) = counters();
    for request in batch {
        send(&mut service, request).await?;
    }
    let (allocations_after, bytes_after) = counters();
    let n = f64::from(requests.max(1));
    Ok(PerRequest {
        allocations: (allocations_after - allocations) as f64 / n,
        bytes: (bytes_after - bytes) as f64 / n,
    })
}

async fn send<S>(service: &mut S, request: http::Request<axum::body::Body>) -> Result<(), BoxError>
where
    S: Service<http::Request<axum::body::Body>, Response = axum::response::Response>,
    S::Error: Into<BoxError>,
{
    let path = request.uri().path().to_owned();
    let response = service
        .ready()
        .await
        .map_err(Into::into)?
        .call(request)
        .await
        .map_err(Into::into)?;
    if !response.status().is_success() {
        return Err(format!("GET {path} answered {}", response.status()).into());
    }
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        drop(frame?);
    }
    Ok(())
}
