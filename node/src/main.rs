//! The `alliance` command: parses the command line, starts tracing, and runs one command.

mod cli;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Without `RUST_LOG`: this node's own events, and only warnings and errors of the
/// libraries under it (the storage engine alone logs hundreds of lines at start).
const QUIET_BY_DEFAULT: &str = "warn,alliance=info,alliance_node=info,alliance_web=info";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(QUIET_BY_DEFAULT)),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli::run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
