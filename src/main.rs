//! The `dhis2gw` binary: parse the command line, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    dhis2gw::run::run(dhis2gw::cli::Cli::parse())
}
