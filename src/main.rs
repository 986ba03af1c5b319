//! The `dhis2gw` binary: parse the command line, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: the request path allocates a lot of small short-lived
/// buffers, and glibc's allocator took about a fifth of the daemon's CPU under load
/// (`bench/README.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    dhis2gw::run::run(dhis2gw::cli::Cli::parse())
}
