//! The `mxlookup` binary: the command line over the library. Everything
//! here (flags, configuration, the terminal, `mxlookup report`, exit
//! statuses) is in [`cli`]; the library knows nothing of it.

mod cli;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
