//! A labelled metric family with a series cap, keyed by its full label values.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{PoisonError, RwLock};

use prometheus::core::{Collector, Desc, Metric};
use prometheus::proto;

type Make<M> = Box<dyn Fn(&[(&str, &str)]) -> prometheus::Result<M> + Send + Sync>;

/// Series created on first use, at most `max_series` of them, then one
/// overflow series labelled `otel_metric_overflow="true"`.
///
/// Keys are the label values themselves (a length-prefixed, terminated
/// encoding hashes them, and an equal hash is confirmed by comparing every
/// value), so label sets whose values concatenate alike stay apart.
pub(crate) struct Family<M> {
    desc: Desc,
    field_type: proto::MetricType,
    label_names: Vec<&'static str>,
    max_series: usize,
    make: Make<M>,
    series: RwLock<Series<M>>,
    overflow: M,
}

/// Label values and their series, under the hash of the values.
type Bucket<M> = Vec<(Box<[Box<str>]>, M)>;

struct Series<M> {
    by_hash: HashMap<u64, Bucket<M>>,
    len: usize,
}

impl<M> std::fmt::Debug for Family<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.desc.fq_name)
            .field("label_names", &self.label_names)
            .field("max_series", &self.max_series)
            .finish_non_exhaustive()
    }
}

impl<M: Metric + Clone + 'static> Family<M> {
    pub(crate) fn new(
        name: &str,
        help: &str,
        field_type: proto::MetricType,
        label_names: Vec<&'static str>,
        max_series: usize,
        make: Make<M>,
    ) -> prometheus::Result<Self> {
        let desc = Desc::new(
            name.to_owned(),
            help.to_owned(),
            label_names.iter().map(|l| (*l).to_owned()).collect(),
            HashMap::new(),
        )?;
        let overflow = make(&[("otel_metric_overflow", "true")])?;
        Ok(Self {
            desc,
            field_type,
            label_names,
            max_series,
            make,
            series: RwLock::new(Series {
                by_hash: HashMap::new(),
                len: 0,
            }),
            overflow,
        })
    }

    /// The series of `values`, one per label name in order. Trailing labels
    /// may be left out (`error_type` on success); more values than label
    /// names get the overflow series.
    pub(crate) fn get(&self, values: &[&str]) -> M {
        if values.len() > self.label_names.len() {
            return self.overflow.clone();
        }
        let mut hasher = DefaultHasher::new();
        values.hash(&mut hasher);
        let hash = hasher.finish();
        let matches = |key: &[Box<str>]| key.iter().map(|k| &**k).eq(values.iter().copied());
        {
            let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(bucket) = series.by_hash.get(&hash)
                && let Some((_, metric)) = bucket.iter().find(|(key, _)| matches(key))
            {
                return metric.clone();
            }
        }
        let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(bucket) = series.by_hash.get(&hash)
            && let Some((_, metric)) = bucket.iter().find(|(key, _)| matches(key))
        {
            return metric.clone();
        }
        if series.len >= self.max_series {
            return self.overflow.clone();
        }
        let labels: Vec<(&str, &str)> = self
            .label_names
            .iter()
            .copied()
            .zip(values.iter().copied())
            .collect();
        let Ok(metric) = (self.make)(&labels) else {
            return self.overflow.clone();
        };
        let key = values.iter().map(|v| Box::from(*v)).collect();
        series
            .by_hash
            .entry(hash)
            .or_default()
            .push((key, metric.clone()));
        series.len += 1;
        metric
    }

    /// Whether the overflow series has been handed out and used.
    fn overflow_used(&self) -> bool {
        let metric = self.overflow.metric();
        match self.field_type {
            proto::MetricType::HISTOGRAM => metric.get_histogram().get_sample_count() > 0,
            _ => metric.get_counter().get_value() != 0.0,
        }
    }
}

impl<M: Metric + Clone + 'static> Collector for Family<M> {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<proto::MetricFamily> {
        let mut family = proto::MetricFamily::default();
        family.set_name(self.desc.fq_name.clone());
        family.set_help(self.desc.help.clone());
        family.set_field_type(self.field_type);
        {
            let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
            let metrics = family.mut_metric();
            for (_, metric) in series.by_hash.values().flatten() {
                metrics.push(metric.metric());
            }
        }
        if self.overflow_used() {
            family.mut_metric().push(self.overflow.metric());
        }
        vec![family]
    }
}

/// A registered [`Family`] shared by the helper and the registry.
pub(crate) struct Registered<M>(pub(crate) std::sync::Arc<Family<M>>);

impl<M> Clone for Registered<M> {
    fn clone(&self) -> Self {
        Self(std::sync::Arc::clone(&self.0))
    }
}

impl<M: Metric + Clone + 'static> Collector for Registered<M> {
    fn desc(&self) -> Vec<&Desc> {
        self.0.desc()
    }

    fn collect(&self) -> Vec<proto::MetricFamily> {
        self.0.collect()
    }
}
