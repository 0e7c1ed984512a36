//! The `application/health+json` document (draft-inadarei-api-health-check).

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

use crate::state::{Meta, Run, Shared, Slot};
use crate::{Endpoint, Status};

/// The `output` of readiness while draining.
const DRAINING: &str = "draining";

/// The media type of health responses.
pub const HEALTH_JSON: &str = "application/health+json";

/// A rendered probe answer, before it takes the service's body type.
pub(crate) struct Answer {
    pub(crate) status: Status,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) fn into_response(self, head: bool) -> Response<Bytes> {
        let body = if head { Bytes::new() } else { self.body };
        let mut response = Response::new(body);
        *response.status_mut() = self.status.http_status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(HEALTH_JSON));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    release_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<Checks<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<System<'a>>,
}

/// `checks`, in registration order, each key holding a one-element array.
struct Checks<'a> {
    slots: &'a [Slot],
    entries: &'a [(usize, Arc<Run>)],
}

impl Serialize for Checks<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (index, run) in self.entries {
            let slot = &self.slots[*index];
            map.serialize_entry(&slot.key, &[CheckEntry::new(slot, run)])?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    component_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_value: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_unit: Option<&'a str>,
    status: Status,
    time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
}

impl<'a> CheckEntry<'a> {
    fn new(slot: &'a Slot, run: &'a Run) -> Self {
        let observation = &run.observation;
        Self {
            component_type: slot.registration.component_type.as_deref(),
            observed_value: observation.observed_value(),
            observed_unit: observation.observed_unit(),
            status: observation.status(),
            time: crate::time::rfc3339(run.time),
            output: observation.get_output(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct System<'a> {
    uptime_seconds: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'a str>,
    #[serde(flatten)]
    resources: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// Renders the answer of `endpoint` from the runs of its checks (`entries`)
/// and of the system sampler.
pub(crate) fn render(
    shared: &Shared,
    endpoint: &Endpoint,
    entries: &[(usize, Arc<Run>)],
    system: Option<&Run>,
    details: bool,
) -> Answer {
    let mut status = Status::aggregate(
        entries
            .iter()
            .map(|(index, run)| shared.slots[*index].effective(run.observation.status())),
    );
    let mut output = None;
    if *endpoint == Endpoint::Ready && shared.drain.is_draining() {
        status = Status::Fail;
        output = Some(DRAINING);
    }
    let detailed = details && matches!(endpoint, Endpoint::Detailed | Endpoint::Group(_));
    if !detailed {
        return Answer {
            status,
            body: shared.summaries.get(status, output.is_some()),
        };
    }
    let meta = &shared.meta;
    let document = Document {
        checks: Some(Checks {
            slots: &shared.slots,
            entries,
        }),
        system: (*endpoint == Endpoint::Detailed).then(|| System {
            uptime_seconds: shared.started.elapsed().as_secs(),
            version: meta.version.as_deref(),
            environment: meta.environment.as_deref(),
            resources: system
                .and_then(|run| run.observation.observed_value())
                .filter(|value| value.is_object()),
            error: system.and_then(|run| {
                (run.observation.status() != Status::Pass)
                    .then(|| run.observation.get_output())
                    .flatten()
            }),
        }),
        ..Document::summary(meta, status, output)
    };
    Answer {
        status,
        body: to_json(&document),
    }
}

fn to_json(document: &Document<'_>) -> Bytes {
    // Strings, numbers and JSON values always serialise.
    Bytes::from(serde_json::to_vec(document).unwrap_or_default())
}

impl<'a> Document<'a> {
    /// The document without checks or system section.
    fn summary(meta: &'a Meta, status: Status, output: Option<&'a str>) -> Self {
        Self {
            status,
            version: meta.version.as_deref(),
            release_id: meta.release_id.as_deref(),
            service_id: meta.service_id.as_deref(),
            description: meta.description.as_deref(),
            output,
            checks: None,
            system: None,
        }
    }
}

/// The summary bodies, rendered once at build: a summary probe only picks one.
#[derive(Debug)]
pub(crate) struct Summaries {
    by_status: [Bytes; 3],
    draining: Bytes,
}

impl Summaries {
    pub(crate) fn new(meta: &Meta) -> Self {
        let render = |status, output| to_json(&Document::summary(meta, status, output));
        Self {
            by_status: Status::ALL.map(|status| render(status, None)),
            draining: render(Status::Fail, Some(DRAINING)),
        }
    }

    fn get(&self, status: Status, draining: bool) -> Bytes {
        if draining {
            return self.draining.clone();
        }
        // `Status::ALL` lists the variants in declaration order.
        self.by_status[status as usize].clone()
    }
}

/// 405 for a method other than GET or HEAD on a health route.
pub(crate) fn method_not_allowed() -> Response<Bytes> {
    let mut response = strata_core::Problem::new(StatusCode::METHOD_NOT_ALLOWED)
        .detail("health endpoints answer GET and HEAD")
        .into_response::<Bytes>();
    response
        .headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}
