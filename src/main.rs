//! `spinfit` command line: parse, dispatch, map outcomes to exit codes
//! (0 success, 1 error in input or settings or an input with no fit, 2 a
//! usage error, 3 a fit is untrustworthy: not converged, on a bound, no
//! errors or a warning, 4 every fit is trustworthy but the residuals of one
//! reject its model; its numbers are reported with the flag).

use clap::Parser;

fn main() {
    // Rust ignores SIGPIPE, so a closed stdout (`spinfit ... | head`) turns
    // every later print into a panic with a backtrace. Restore the default
    // action, as cat and ripgrep do: the command ends quietly, killed by
    // SIGPIPE, the usual exit for a writer whose reader has gone.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; it only
    // sets the disposition of one signal to its default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = spinfit::cli::join_negative_values(std::env::args_os().collect());
    let cli = spinfit::cli::Cli::parse_from(args);
    let code = match spinfit::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", spinfit::cli::describe(&e));
            spinfit::cli::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
