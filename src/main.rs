//! The `mxlookup` binary: parse flags, build the configuration, run, print
//! the one fatal error if there is one, and return the exit status.

use clap::Parser;
use mxlookup::{app, cli::Cli, config::Config, exit};
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Config::from_cli(cli).and_then(app::run);
    match result {
        Ok(report) => ExitCode::from(report.exit_code),
        Err(e) => {
            eprintln!("mxlookup: {e}");
            ExitCode::from(exit::FATAL)
        }
    }
}
