//! CPU profiles through `pprof`.

use std::time::Duration;

use pprof::protos::Message as _;

/// What a profile is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// pprof's protobuf (`go tool pprof`, Grafana Pyroscope, speedscope).
    Pprof,
    /// A flamegraph SVG.
    Flamegraph,
}

/// Samples the whole process for `duration` at `frequency` Hz on a blocking
/// thread, then renders the report.
pub(crate) fn capture(
    duration: Duration,
    frequency: u32,
    format: Format,
) -> Result<Vec<u8>, String> {
    let frequency = i32::try_from(frequency).map_err(|_| "frequency out of range".to_owned())?;
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(frequency)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
        .map_err(|error| error.to_string())?;
    std::thread::sleep(duration);
    let report = guard.report().build().map_err(|error| error.to_string())?;
    drop(guard);
    match format {
        Format::Pprof => report
            .pprof()
            .map(|profile| profile.encode_to_vec())
            .map_err(|error| error.to_string()),
        Format::Flamegraph => {
            if report.data.is_empty() {
                // An idle process: no stack to draw, and inferno draws nothing.
                return Ok(EMPTY_SVG.as_bytes().to_vec());
            }
            let mut svg = Vec::new();
            report
                .flamegraph(&mut svg)
                .map_err(|error| error.to_string())?;
            Ok(svg)
        }
    }
}

const EMPTY_SVG: &str = r#"<?xml version="1.0" standalone="no"?>
<svg xmlns="http://www.w3.org/2000/svg" width="600" height="40"><text x="10" y="25">no CPU samples: the process was idle</text></svg>
"#;
