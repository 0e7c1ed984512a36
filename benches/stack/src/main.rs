//! `stack-server`: serves one mode of the stack benchmark on 127.0.0.1 on
//! a current-thread runtime, or counts its allocations per request.
//!
//! ```text
//! stack-server --mode <mode> [--port P]   # 0 (default): any free port
//! stack-server --allocs <mode> [--requests N] [--warmup W] [--route small|large]
//! stack-server --list
//! ```
//!
//! It prints `listening on 127.0.0.1:<port>` once it accepts connections,
//! and stops on SIGINT or SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use strata_stack_bench::BoxError;
use strata_stack_bench::allocs::{self, CountingAllocator};
use strata_stack_bench::modes::{self, MODES};
use strata_stack_bench::request::Route;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const USAGE: &str = "usage: stack-server --mode <mode> [--port P] | --allocs <mode> [--requests N] [--warmup W] [--route small|large] | --list";

/// What the command line asks for.
enum Command {
    Serve {
        mode: String,
        port: u16,
    },
    Allocs {
        mode: String,
        requests: u32,
        warmup: u32,
        /// Only this route (both when `None`).
        route: Option<String>,
    },
    List,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, BoxError> {
    let (mut serve, mut allocs, mut list) = (None, None, false);
    let (mut port, mut requests, mut warmup) = (0_u16, 10_000_u32, 1_000_u32);
    let mut route = None;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--mode" => serve = Some(value()?),
            "--allocs" => allocs = Some(value()?),
            "--port" => port = value()?.parse()?,
            "--requests" => requests = value()?.parse()?,
            "--warmup" => warmup = value()?.parse()?,
            "--route" => route = Some(value()?),
            "--list" => list = true,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
        }
    }
    let command = match (serve, allocs, list) {
        (Some(mode), None, false) => Command::Serve { mode, port },
        (None, Some(mode), false) => Command::Allocs {
            mode,
            requests,
            warmup,
            route,
        },
        (None, None, true) => Command::List,
        _ => return Err(USAGE.into()),
    };
    if let Command::Serve { mode, .. } | Command::Allocs { mode, .. } = &command {
        modes::find(mode).ok_or_else(|| format!("no mode {mode:?} (see --list)"))?;
    }
    if let Command::Allocs {
        route: Some(route), ..
    } = &command
        && !Route::ALL.iter().any(|r| r.name() == route)
    {
        return Err(format!("no route {route:?} (small or large)").into());
    }
    Ok(command)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("stack-server: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BoxError> {
    let command = parse(std::env::args().skip(1))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut out = std::io::stdout().lock();
    match command {
        Command::List => {
            for mode in MODES {
                writeln!(out, "{:<28} {}", mode.name, mode.about)?;
            }
        }
        Command::Allocs {
            mode,
            requests,
            warmup,
            route: only,
        } => {
            // Tab-separated: allocs, mode, route, allocations and bytes per request.
            for route in Route::ALL {
                if only.as_ref().is_some_and(|only| only != route.name()) {
                    continue;
                }
                let app = runtime.block_on(modes::app(&mode))?;
                let cost = runtime.block_on(allocs::measure(app, route, warmup, requests))?;
                writeln!(
                    out,
                    "allocs\t{mode}\t{}\t{:.1}\t{:.0}",
                    route.name(),
                    cost.allocations,
                    cost.bytes
                )?;
            }
        }
        Command::Serve { mode, port } => {
            drop(out);
            runtime.block_on(serve(&mode, port))?;
        }
    }
    Ok(())
}

async fn serve(mode: &str, port: u16) -> Result<(), BoxError> {
    let app = modes::app(mode).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    writeln!(std::io::stdout().lock(), "listening on {address}")?;
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(stop())
        .await?;
    Ok(())
}

/// SIGINT or SIGTERM.
async fn stop() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(error) => {
            eprintln!("stack-server: no SIGTERM handler ({error}); stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
