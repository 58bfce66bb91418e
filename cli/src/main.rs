//! The `autoscope` command line: parses arguments, runs one command, and maps its
//! outcome to an exit code: 0 success (also when the reader of standard output went
//! away), 1 `check` found differences, 2 usage, input or output errors, 3 internal
//! errors; a stopping signal exits with 128 + its number after removing temporary
//! files.

use std::process::ExitCode;

mod commands;

use commands::console;

// The trace commands build and drop millions of small strings; glibc's allocator spends
// a fifth of `unzip` and `sample` freeing them (measured with perf), mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    install_panic_hook();
    let args = match commands::parse_args() {
        Ok(args) => args,
        Err(e) => return commands::usage_error_exit(&e),
    };
    // `serve` handles its own signals: SIGTERM and SIGINT decide and flush everything
    // buffered, SIGHUP reloads the policy.
    if !args.handles_own_signals() {
        commands::output::install_signal_handler();
        keep_freed_memory();
    }
    match commands::run(args) {
        Ok(code) => code,
        // `autoscope ... | head`: the reader has what it wanted.
        Err(e) if commands::reader_went_away(&e) => ExitCode::SUCCESS,
        Err(e) => {
            console::error(&commands::render_error(&e));
            ExitCode::from(commands::exit_code_of(&e))
        }
    }
}

/// mimalloc's `mi_option_purge_delay` (mimalloc.h, v2 and v3: after
/// `eager_commit_delay`, 14, before `use_numa_nodes`, 16; the crate does not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The file commands stream their inputs through blocks and batches of a few MiB that
/// are freed and allocated again all the time: mimalloc returns freed memory to the
/// system after a delay (1 s in mimalloc 3, which the crate builds), so new blocks
/// fault their pages in (zeroed) again: a seventh of `sample`'s time went to
/// `clear_page_erms` (perf). Their memory is bounded by the
/// window, so keeping it costs nothing; `serve`, which runs for days, keeps the default.
#[allow(unsafe_code)]
fn keep_freed_memory() {
    // SAFETY: sets a process-wide option (an atomic in mimalloc); any thread may call it.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// A panic is a bug: say so once, without a backtrace unless asked for, and exit 3 so
/// that it is never mistaken for `check`'s 1 or an input error's 2.
fn install_panic_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            default_hook(info);
        }
        console::error(&format!(
            "internal error (a bug in autoscope, please report it): {info}"
        ));
        std::process::exit(i32::from(commands::EXIT_INTERNAL));
    }));
}

#[cfg(test)]
mod tests {
    /// The option number is the purge delay: mimalloc 3's default for it is 1000 (ms).
    #[test]
    #[allow(unsafe_code)]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: reads a process-wide option.
        let value = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(value, 1000);
    }
}
