//! The series of the HTTP histograms: created on first use, capped, and
//! found again without hashing label strings.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

use prometheus::core::{Collector, Desc};
use prometheus::{Histogram, HistogramOpts, proto};

use crate::labels::{Route, label_pairs};

pub(crate) const DURATION: &str = "http_server_request_duration_seconds";
pub(crate) const REQUEST_SIZE: &str = "http_server_request_body_size_bytes";
pub(crate) const RESPONSE_SIZE: &str = "http_server_response_body_size_bytes";
const HELPS: [&str; 3] = [
    "Duration of HTTP server requests, until the response body ended.",
    "Size of HTTP server request bodies.",
    "Size of HTTP server response bodies.",
];
const LABELS: [&str; 5] = [
    "http_request_method",
    "http_route",
    "http_response_status_code",
    "url_scheme",
    "error_type",
];
/// The only label of the series that takes observations once the cap is hit
/// (OpenTelemetry's overflow attribute, translated).
pub(crate) const OVERFLOW_LABEL: &str = "otel_metric_overflow";

/// The three histograms of one label set.
#[derive(Debug)]
pub(crate) struct HttpSeries {
    duration: Histogram,
    request_size: Histogram,
    response_size: Histogram,
}

impl HttpSeries {
    fn new(config: &Buckets, labels: &[(&'static str, String)]) -> prometheus::Result<Self> {
        let make = |index: usize, name: &str, buckets: &[f64]| {
            let const_labels = labels
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect();
            Histogram::with_opts(
                HistogramOpts::new(name, HELPS[index])
                    .const_labels(const_labels)
                    .buckets(buckets.to_vec()),
            )
        };
        Ok(Self {
            duration: make(0, DURATION, &config.duration)?,
            request_size: make(1, REQUEST_SIZE, &config.size)?,
            response_size: make(2, RESPONSE_SIZE, &config.size)?,
        })
    }

    pub(crate) fn observe(&self, seconds: f64, request: Option<u64>, response: Option<u64>) {
        self.duration.observe(seconds);
        if let Some(bytes) = request {
            self.request_size.observe(bytes as f64);
        }
        if let Some(bytes) = response {
            self.response_size.observe(bytes as f64);
        }
    }
}

/// Bucket bounds of the HTTP histograms.
#[derive(Debug, Clone)]
pub(crate) struct Buckets {
    pub(crate) duration: Vec<f64>,
    pub(crate) size: Vec<f64>,
}

/// Series by their full label values: the route string and the packed
/// method, scheme, status and outcome. Distinct label sets never share a key.
#[derive(Debug, Default)]
struct Canonical {
    by_route: HashMap<Arc<str>, HashMap<u32, Arc<HttpSeries>>>,
    len: usize,
}

/// Cache key: the address and length of a route string whose address is
/// stable (a `&'static str`, axum's `MatchedPath`), and the packed labels.
/// Entries are checked against the route's content before use, so a reused
/// address cannot return another route's series.
type FastKey = (usize, usize, u32);
type FastCache = HashMap<FastKey, (Arc<str>, Arc<HttpSeries>), BuildHasherDefault<IntHasher>>;

/// The series of the three HTTP histograms, at most `max_series` label sets
/// plus one overflow series.
#[derive(Debug)]
pub(crate) struct SeriesTable {
    buckets: Buckets,
    max_series: usize,
    canonical: RwLock<Canonical>,
    fast: RwLock<FastCache>,
    overflow: Arc<HttpSeries>,
}

impl SeriesTable {
    pub(crate) fn new(buckets: Buckets, max_series: usize) -> prometheus::Result<Self> {
        let overflow = HttpSeries::new(&buckets, &[(OVERFLOW_LABEL, "true".to_owned())])?;
        Ok(Self {
            buckets,
            max_series,
            canonical: RwLock::default(),
            fast: RwLock::default(),
            overflow: Arc::new(overflow),
        })
    }

    /// Runs `f` on the series of `route` and `packed`, creating it if the
    /// cap allows, else on the overflow series.
    pub(crate) fn with_series(&self, route: &Route, packed: u32, f: impl FnOnce(&HttpSeries)) {
        let name = route.as_str();
        if !route.is_stable() {
            return f(&self.series(name, packed));
        }
        let key = (name.as_ptr() as usize, name.len(), packed);
        {
            let fast = self.fast.read().unwrap_or_else(PoisonError::into_inner);
            if let Some((cached, series)) = fast.get(&key)
                && **cached == *name
            {
                return f(series);
            }
        }
        let series = self.series(name, packed);
        f(&series);
        let mut fast = self.fast.write().unwrap_or_else(PoisonError::into_inner);
        // Bounded: stable addresses are few (one per route), so the cache
        // only fills up if routes are created and dropped at run time.
        if fast.len() >= 4 * self.max_series + 64 {
            fast.clear();
        }
        fast.insert(key, (Arc::from(name), series));
    }

    /// The series for these labels, looked up by their full values.
    fn series(&self, route: &str, packed: u32) -> Arc<HttpSeries> {
        {
            let canonical = self
                .canonical
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(series) = canonical.by_route.get(route).and_then(|m| m.get(&packed)) {
                return Arc::clone(series);
            }
            if canonical.len >= self.max_series {
                return Arc::clone(&self.overflow);
            }
        }
        let mut canonical = self
            .canonical
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = canonical.by_route.get(route).and_then(|m| m.get(&packed)) {
            return Arc::clone(series);
        }
        if canonical.len >= self.max_series {
            return Arc::clone(&self.overflow);
        }
        let Ok(series) = HttpSeries::new(&self.buckets, &label_pairs(packed, route)) else {
            return Arc::clone(&self.overflow);
        };
        let series = Arc::new(series);
        canonical
            .by_route
            .entry(Arc::from(route))
            .or_default()
            .insert(packed, Arc::clone(&series));
        canonical.len += 1;
        series
    }
}

/// Exposes a [`SeriesTable`] as three histogram families, and the layer's
/// other collectors with them, so the layer registers in one step: all of
/// its metrics or, on a name clash, none.
pub(crate) struct HttpCollector {
    descs: Vec<Desc>,
    table: Arc<SeriesTable>,
    others: Vec<Box<dyn Collector>>,
}

impl std::fmt::Debug for HttpCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCollector")
            .field("descs", &self.descs)
            .field("others", &self.others.len())
            .finish_non_exhaustive()
    }
}

impl HttpCollector {
    pub(crate) fn new(
        table: Arc<SeriesTable>,
        others: Vec<Box<dyn Collector>>,
    ) -> prometheus::Result<Self> {
        let labels: Vec<String> = LABELS.iter().map(|l| (*l).to_owned()).collect();
        let descs = [DURATION, REQUEST_SIZE, RESPONSE_SIZE]
            .iter()
            .zip(HELPS)
            .map(|(name, help)| {
                Desc::new(
                    (*name).to_owned(),
                    help.to_owned(),
                    labels.clone(),
                    HashMap::new(),
                )
            })
            .collect::<prometheus::Result<_>>()?;
        Ok(Self {
            descs,
            table,
            others,
        })
    }
}

impl Collector for HttpCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs
            .iter()
            .chain(self.others.iter().flat_map(|c| c.desc()))
            .collect()
    }

    fn collect(&self) -> Vec<proto::MetricFamily> {
        let mut families: Vec<proto::MetricFamily> = [DURATION, REQUEST_SIZE, RESPONSE_SIZE]
            .iter()
            .zip(HELPS)
            .map(|(name, help)| {
                let mut family = proto::MetricFamily::default();
                family.set_name((*name).to_owned());
                family.set_help(help.to_owned());
                family.set_field_type(proto::MetricType::HISTOGRAM);
                family
            })
            .collect();
        let mut push = |series: &HttpSeries| {
            use prometheus::core::Metric;
            families[0].mut_metric().push(series.duration.metric());
            families[1].mut_metric().push(series.request_size.metric());
            families[2].mut_metric().push(series.response_size.metric());
        };
        {
            let canonical = self
                .table
                .canonical
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            canonical
                .by_route
                .values()
                .flat_map(HashMap::values)
                .for_each(|series| push(series));
        }
        if self.table.overflow.duration.get_sample_count() > 0 {
            push(&self.table.overflow);
        }
        families.extend(self.others.iter().flat_map(|c| c.collect()));
        families
    }
}

/// A multiply-rotate hasher for the integer cache keys (`FxHash`'s scheme):
/// a few cycles, where SipHash would cost more than the observation itself.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Outcome;

    fn table(max_series: usize) -> SeriesTable {
        let buckets = Buckets {
            duration: vec![1.0],
            size: vec![1.0],
        };
        SeriesTable::new(buckets, max_series).expect("valid buckets")
    }

    fn count(table: &SeriesTable, route: &'static str, packed: u32) -> u64 {
        let mut count = 0;
        table.with_series(&Route::Static(route), packed, |series| {
            count = series.duration.get_sample_count();
        });
        count
    }

    #[test]
    fn routes_sharing_an_address_are_told_apart_by_length() {
        let table = table(10);
        let text: &'static str = "/abc";
        let (short, long) = (&text[..2], &text[..3]);
        assert_eq!(short.as_ptr(), long.as_ptr());
        let packed = Outcome::Response(200).pack(0, 0);
        for _ in 0..3 {
            table.with_series(&Route::Static(short), packed, |s| {
                s.observe(0.1, None, None);
            });
        }
        table.with_series(&Route::Static(long), packed, |s| {
            s.observe(0.1, None, None);
        });
        assert_eq!(count(&table, short, packed), 3);
        assert_eq!(count(&table, long, packed), 1);
    }

    #[test]
    fn a_full_lookup_cache_is_cleared_without_losing_counts() {
        let table = table(1_000);
        // More stable keys than the cache holds (4 x 1000 + 64).
        let statuses: Vec<u16> = (100..999).collect();
        for method in 0..5 {
            for status in &statuses {
                let packed = Outcome::Response(*status).pack(method, 0);
                table.with_series(&Route::Static("/r"), packed, |s| {
                    s.observe(0.1, None, None);
                });
            }
        }
        let fast = table.fast.read().expect("not poisoned").len();
        assert!(fast <= 4 * 1_000 + 64, "the cache is bounded: {fast}");
        // 1000 series, the rest in the overflow series; nothing lost.
        let canonical = table.canonical.read().expect("not poisoned").len;
        assert_eq!(canonical, 1_000);
        let overflow = table.overflow.duration.get_sample_count();
        assert_eq!(overflow, (5 * statuses.len() - 1_000) as u64);
    }
}
