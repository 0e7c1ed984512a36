//! An exchange in flight ([`Pending`]) and what it becomes when it ends.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, Request, Uri, Version};
use tokio::time::Instant;

use crate::body::Tap;
use crate::record::{Outcome, RecordTags, Summary};
use crate::retain::{Facts, sample_hash};
use crate::shared::Shared;

/// What is known of an exchange before its response body ends.
pub(crate) struct Pending {
    shared: Arc<Shared>,
    rand: u64,
    started: Instant,
    method: Method,
    uri: Uri,
    pub(crate) route: Option<Route>,
    version: Version,
    request_headers: HeaderMap,
    /// `None` for a request that had no body.
    request_tap: Option<Arc<Mutex<Tap>>>,
    client_ip: Option<IpAddr>,
    pub(crate) tags: RecordTags,
    pub(crate) status: Option<u16>,
    pub(crate) response_headers: HeaderMap,
    pub(crate) ttfb: Option<Duration>,
}

/// A kept exchange on its way to the store, not yet redacted.
#[derive(Debug)]
pub(crate) struct Capture {
    pub(crate) summary: Summary,
    pub(crate) version: Version,
    pub(crate) request_headers: HeaderMap,
    pub(crate) response_headers: HeaderMap,
    /// Prefix, truncated, XXH3-128, length.
    pub(crate) request: (Vec<u8>, bool, String, u64),
    pub(crate) response: (Vec<u8>, bool, String, u64),
}

impl Pending {
    /// What is known when the request arrives. Only references are taken
    /// (header maps and the URI share their bytes); strings are made when
    /// the exchange is kept.
    pub(crate) fn start<B>(
        shared: Arc<Shared>,
        request: &Request<B>,
        tap: Option<Arc<Mutex<Tap>>>,
    ) -> Self {
        let rand = crate::retain::mix(
            shared.seed
                ^ shared
                    .counter
                    .fetch_add(1, Ordering::Relaxed)
                    .wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        let client_ip = request
            .extensions()
            .get::<strata_core::ClientIp>()
            .filter(|ip| ip.is_resolved())
            .map(strata_core::ClientIp::ip);
        Self {
            rand,
            started: Instant::now(),
            method: request.method().clone(),
            uri: request.uri().clone(),
            route: request.extensions().get::<Route>().cloned(),
            version: request.version(),
            request_headers: request.headers().clone(),
            request_tap: tap,
            client_ip,
            tags: request
                .extensions()
                .get::<RecordTags>()
                .cloned()
                .unwrap_or_default(),
            status: None,
            response_headers: HeaderMap::new(),
            ttfb: None,
            shared,
        }
    }

    /// Counts this exchange as recorded without its route template.
    #[cfg(feature = "axum")]
    pub(crate) fn unrouted(&self) {
        self.shared.unrouted();
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Ends the exchange: decides retention and queues what is kept. An
    /// exchange that is not kept costs no string and no copy.
    pub(crate) fn finish(self: Box<Self>, response: Option<&mut Tap>, outcome: Outcome) {
        let duration = self.started.elapsed();
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let duration_us = micros(duration);
        let shared = &self.shared;
        shared.recorded();
        let facts = Facts {
            outcome,
            status: self.status,
            duration_us,
            session: self.tags.session.as_deref(),
            user: self.tags.user.as_deref(),
        };
        let key = self
            .tags
            .trace_id
            .as_deref()
            .map_or_else(|| crate::retain::mix(self.rand), sample_hash);
        if !shared.retain.keeps(&facts, key, &shared.flags) {
            return;
        }
        let started_us = SystemTime::now()
            .checked_sub(duration)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, micros);
        let host = self
            .request_headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| self.uri.authority().map(ToString::to_string));
        let summary = Summary {
            id: format!("{started_us:016x}{:016x}", self.rand),
            started_ms: started_us / 1000,
            method: self.method.to_string(),
            route: self.route.as_ref().map(|r| r.as_str().to_owned()),
            uri: self.uri.to_string(),
            host,
            status: self.status,
            ttfb_us: self.ttfb.map(micros),
            duration_us,
            client_ip: self.client_ip.map(|ip| ip.to_string()),
            session: self.tags.session,
            user: self.tags.user,
            trace_id: self.tags.trace_id,
            outcome,
            stored_bytes: 0,
        };
        let finish = |tap: &mut Tap| {
            let len = tap.len;
            let (prefix, truncated, digest) = tap.finish();
            (prefix, truncated, digest, len)
        };
        let empty = || (Vec::new(), false, String::new(), 0);
        let request = self.request_tap.map_or_else(
            || finish(&mut Tap::new(0)),
            |tap| finish(&mut tap.lock().unwrap_or_else(PoisonError::into_inner)),
        );
        let response = response.map_or_else(empty, finish);
        self.shared.enqueue(Capture {
            summary,
            version: self.version,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            request,
            response,
        });
    }
}

/// The route template, as the router tells it.
#[cfg(feature = "axum")]
pub(crate) type Route = axum::extract::MatchedPath;

/// The route template: never known without axum (no value of this private
/// type is ever in a request's extensions).
#[cfg(not(feature = "axum"))]
#[derive(Clone)]
pub(crate) struct Route(String);

#[cfg(not(feature = "axum"))]
impl Route {
    fn as_str(&self) -> &str {
        &self.0
    }
}
