//! `strata`, the operators' tool of the strata middleware family: purge
//! the response cache, list and revoke sessions, show and reset rate
//! limits (on Redis, or through a service's admin listener), and probe
//! health. See `docs/cli.md`.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(strata_cli::run(std::env::args_os()))
}
