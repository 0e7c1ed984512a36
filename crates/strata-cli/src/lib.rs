//! `strata`, the operators' tool of the strata middleware family: purge
//! the response cache, list and revoke sessions, show and reset rate
//! limits (on Redis, or through a service's admin listener), and probe
//! health. See `docs/cli.md`.
//!
//! The binary is [`run`] on the process's arguments; [`run_to`] writes the
//! output (a table, or JSON with `--json`) to a writer of the caller's, so
//! a program or a test can run a command in-process and read what it
//! printed.

mod args;
mod cache;
mod fail;
mod health;
mod http;
mod ratelimit;
mod redis;
mod service;
mod session;
mod term;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser as _;
use clap::error::ErrorKind;

use crate::args::{Cli, Command};
use crate::fail::{Fail, USAGE};

/// Runs one `strata` command line (`args`, the program name first), its
/// output on stdout and its errors on stderr; returns the exit code
/// (documented in `docs/cli.md`: 0 done, 1 health `warn`, 2 failure, 64
/// usage).
///
/// It builds its own current-thread runtime: call it outside any async
/// context (from a blocking thread, e.g. `tokio::task::spawn_blocking`).
///
/// ```no_run
/// let code = strata_cli::run(["strata", "health", "http://127.0.0.1:3000/health/ready"]);
/// std::process::exit(code.into());
/// ```
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    execute(args, None)
}

/// [`run`], with the output (the table, or JSON with `--json`, and the
/// help and version texts) written to `out` instead of stdout. Errors,
/// prompts and progress still go to stderr.
///
/// ```no_run
/// let mut out = Vec::new();
/// let args = ["strata", "--service", "http://127.0.0.1:9000", "--json", "cache", "stats"];
/// let code = strata_cli::run_to(args, &mut out);
/// let stats: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
/// println!("exit {code}: {} entries", stats["entries"]);
/// ```
pub fn run_to<I, T>(args: I, out: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    execute(args, Some(out))
}

fn execute<I, T>(args: I, out: Option<&mut dyn Write>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => {
            let shown = matches!(
                error.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            );
            match out {
                // clap prints help and version on stdout, errors on stderr.
                Some(out) if shown => {
                    let _ = write!(out, "{}", error.render());
                }
                _ => {
                    let _ = error.print();
                }
            }
            return if shown { 0 } else { USAGE };
        }
    };
    cli.global.command_line = redis::command_line(&args);
    let mut stdout = std::io::stdout();
    let out = match out {
        Some(out) => out,
        None => &mut stdout,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("strata: cannot start the runtime: {error}");
            return fail::FAILURE;
        }
    };
    let code = match runtime.block_on(dispatch(&cli, out)) {
        Ok(code) => code,
        Err(fail) => {
            eprintln!("strata: {fail}");
            fail.code
        }
    };
    let _ = out.flush();
    code
}

async fn dispatch(cli: &Cli, out: &mut dyn Write) -> Result<u8, Fail> {
    let global = &cli.global;
    if let Command::Health { url, timeout } = &cli.command {
        return health::run(url, *timeout, global.json, out).await;
    }
    if let Some(service) = &global.service {
        return service::run(service, global, &cli.command, out).await;
    }
    match &cli.command {
        Command::Cache(command) => cache::run(global, command, out).await,
        Command::Session(command) => session::run(global, command, out).await,
        Command::RateLimit(command) => ratelimit::run(global, command, out).await,
        Command::Health { .. } => Ok(0),
    }
}
