//! `yishi`: the command line of the 议事 platform.

mod allocator;
mod args;
mod charts;
mod cli;
mod cluster;
mod commands;
mod help;
mod output;
mod panics;
mod reports;
mod server;
mod signals;

use std::process::ExitCode;

fn main() -> ExitCode {
    allocator::tune();
    panics::quiet_caught_library_panics();
    let args = match help::parse() {
        Ok(args) => args,
        Err(code) => return code,
    };
    // Only ingests map ledger files (`yishi demo` ingests the files it generates): a
    // SIGBUS anywhere else keeps its usual meaning.
    if matches!(args.command, cli::Command::Ingest(_) | cli::Command::Demo(_)) {
        signals::report_truncated_files();
    }
    // A server logs every request by default; one-shot commands stay quiet unless -v, and
    // so does `yishi demo`, whose Chinese progress and login must not drown in log lines.
    let serving = matches!(args.command, cli::Command::Serve(_) | cli::Command::Cluster(_));
    init_tracing(args.verbose || serving);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if matches!(args.command, cli::Command::Cluster(_)) {
        // A Ballista scheduler decodes and plans a report's whole plan recursively: the
        // cadre assessment's overflowed tokio's default 2 MiB worker stack (debug build).
        builder.thread_stack_size(CLUSTER_STACK);
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::from(2);
        }
    };
    let code = match runtime.block_on(commands::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::from(2)
        }
    };
    // The command's work is done and its results are out. Dropping the runtime would
    // still wait for blocking tasks that delta-rs's log replay may have left running (a
    // scan whose rows DataFusion answered from statistics), and those panic ("executor
    // has crashed") when they try to schedule work on a runtime being shut down. The
    // process ends here, and its threads with it.
    std::mem::forget(runtime);
    code
}

/// The worker threads' stack of a Ballista scheduler or executor.
const CLUSTER_STACK: usize = 64 << 20;

fn init_tracing(verbose: bool) {
    // delta-rs warns about its own internal merge metrics on every upsert: noise for a clerk.
    let default = if verbose {
        "info,buoyant_kernel=off,deltalake_core=warn,deltalake_core::operations::merge=error"
    } else {
        "warn,buoyant_kernel=off,deltalake_core::operations::merge=error"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("YISHI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only on a terminal: logs redirected to a file stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}
