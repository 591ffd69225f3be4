//! `spinfit` command line: parse, dispatch, map outcomes to exit codes
//! (0 success, 1 error in input or settings, 3 a fit did not converge or
//! ended on a bound).

use clap::Parser;

fn main() {
    let cli = spinfit::cli::Cli::parse();
    let code = match spinfit::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            spinfit::cli::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
