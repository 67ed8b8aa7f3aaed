//! The `dragoman sweep` command line: the configured backends without a listener, the report
//! on stdout, a progress line on a terminal's stderr.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use dragoman_metrics::Metrics;
use dragoman_store::Store;

use crate::config::{Config, LogFormat};

/// `dragoman sweep`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, env = "DRAGOMAN_CONFIG")]
    config: Option<PathBuf>,
    /// Uploads initiated longer ago than this are abandoned: 90s, 30m, 12h, 7d, 2w.
    #[arg(long)]
    older_than: Option<String>,
    /// Uploads initiated before this RFC 3339 time are abandoned.
    #[arg(long)]
    before: Option<String>,
    /// Only buckets whose name matches this glob.
    #[arg(long)]
    buckets: Option<String>,
    /// Only buckets on this backend (a name from [backends], or embedded).
    #[arg(long)]
    backend: Option<String>,
    /// Only keys under this prefix.
    #[arg(long, default_value = "")]
    prefix: String,
    /// Abort what is found (without it, a dry run that only reports).
    #[arg(long)]
    abort: bool,
    /// Aborts (and part listings) in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Report the bytes S3 and BOS uploads hold (one ListParts per upload; Qumulo's listing
    /// says so itself).
    #[arg(long)]
    sizes: bool,
    /// Remember finished work in this file, so an interrupted sweep resumes where it was.
    #[arg(long)]
    state: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: super::Format,
}

/// `dragoman sweep`: the configured backends without a listener, the report on stdout.
pub fn run(args: Args) -> ExitCode {
    let config = match Config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dragoman: bad configuration:\n{e}");
            return ExitCode::from(2);
        }
    };
    crate::init_tracing("warn", LogFormat::Text);
    let started = dragoman_backend::http::now();
    let cutoff = match super::cutoff(started, args.older_than.as_deref(), args.before.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dragoman sweep: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(b) = &args.backend
        && b != "embedded"
        && !config.backends.contains_key(b)
    {
        eprintln!("dragoman sweep: no backend named {b:?}");
        return ExitCode::from(2);
    }
    let mut state = match &args.state {
        Some(path) => match super::State::load(path.clone(), &cutoff.to_millis_z()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("dragoman sweep: {e}");
                return ExitCode::from(2);
            }
        },
        None => super::State::none(),
    };
    let opts = super::Options {
        cutoff,
        buckets: args.buckets,
        backend: args.backend,
        prefix: args.prefix,
        abort: args.abort,
        concurrency: args.concurrency,
        sizes: args.sizes,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dragoman: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(async {
        let metrics = Metrics::new();
        let store = Arc::new(Store::open(&config.store.data_dir).map_err(|e| e.to_string())?);
        let (embedded, breaker) = dragoman_backend::embedded(Arc::clone(&store), &metrics);
        let (router, _) = crate::backends::build(&config, (embedded, breaker), &metrics)?;
        let bar = if std::io::stderr().is_terminal() {
            indicatif::ProgressBar::new_spinner()
        } else {
            indicatif::ProgressBar::hidden()
        };
        let report = super::run(&router, &opts, &mut state, &|bucket| {
            bar.set_message(format!("sweeping {bucket}"));
            bar.tick();
        })
        .await;
        bar.finish_and_clear();
        drop(router);
        if let Ok(store) = Arc::try_unwrap(store)
            && let Err(e) = store.close()
        {
            tracing::warn!("the embedded store did not close cleanly: {e}");
        }
        Ok::<_, String>(report)
    });
    match report {
        Ok(report) => {
            let _ = std::io::stdout().write_all(report.render(args.format).as_bytes());
            if report.failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("dragoman sweep: {e}");
            ExitCode::FAILURE
        }
    }
}
