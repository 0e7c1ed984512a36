//! `strata`, the operators' tool of the strata middleware family: purge
//! the response cache, list and revoke sessions, show and reset rate
//! limits (on Redis, or through a service's admin listener), and probe
//! health. See `docs/cli.md`.

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

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind;

use crate::args::{Cli, Command};
use crate::fail::{Fail, USAGE};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => ExitCode::SUCCESS,
                _ => ExitCode::from(USAGE),
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("strata: cannot start the runtime: {error}");
            return ExitCode::from(fail::FAILURE);
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(code) => ExitCode::from(code),
        Err(fail) => {
            eprintln!("strata: {fail}");
            ExitCode::from(fail.code)
        }
    }
}

async fn run(cli: &Cli) -> Result<u8, Fail> {
    let global = &cli.global;
    if let Command::Health { url, timeout } = &cli.command {
        return health::run(url, *timeout, global.json).await;
    }
    if let Some(service) = &global.service {
        return service::run(service, global, &cli.command).await;
    }
    match &cli.command {
        Command::Cache(command) => cache::run(global, command).await,
        Command::Session(command) => session::run(global, command).await,
        Command::RateLimit(command) => ratelimit::run(global, command).await,
        Command::Health { .. } => Ok(0),
    }
}
