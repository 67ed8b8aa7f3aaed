//! `dragoman`: one endpoint that lists in-progress multipart uploads across vendors.

mod backends;
mod config;
mod sweep;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use dragoman_gateway::{Admin, Readiness, serve, serve_admin};
use dragoman_metrics::Metrics;
use dragoman_store::Store;
use tokio::net::TcpListener;

use crate::config::{Config, LogFormat};

#[derive(Parser)]
#[command(
    version,
    about = "One endpoint that lists in-progress multipart uploads across S3, BOS and Qumulo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the gateway.
    Serve {
        /// A TOML configuration file (defaults and DRAGOMAN_* variables apply around it).
        #[arg(long, env = "DRAGOMAN_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print the effective configuration, secrets masked; fail on a bad one.
    CheckConfig {
        #[arg(long, env = "DRAGOMAN_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Find the multipart uploads abandoned across every backend, and abort them with
    /// --abort. Exits 1 if anything failed.
    Sweep(sweep::cli::Args),
}

/// mimalloc, set up by `dragoman_alloc` (why, and how it was measured, is written there).
#[global_allocator]
static ALLOCATOR: dragoman_alloc::MiMalloc = dragoman_alloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { config } => match Config::load(config.as_deref()) {
            Ok(c) => {
                print!("{}", c.to_masked_toml());
                eprintln!("configuration OK");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("dragoman: bad configuration:\n{e}");
                ExitCode::from(2)
            }
        },
        Command::Sweep(args) => sweep::cli::run(args),
        Command::Serve { config } => {
            let config = match Config::load(config.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("dragoman: bad configuration:\n{e}");
                    return ExitCode::from(2);
                }
            };
            init_tracing(&config.log.filter, config.log.format);
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                // Blocking work is the embedded store's, which admits one call per store
                // connection; this bounds whatever else might block.
                .max_blocking_threads(32)
                // An idle blocking thread ends after 2 s instead of tokio's 10, and what its
                // heap held goes back with it: after a burst on the embedded store the
                // process kept 42 MiB for those 10 s, against 15 once they ended.
                .thread_keep_alive(std::time::Duration::from_secs(2))
                // An idle worker gives back what its own heap keeps (dragoman_alloc).
                .on_thread_park(dragoman_alloc::on_worker_park)
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("dragoman: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let handle = runtime.handle().clone();
            dragoman_alloc::give_back_every(dragoman_alloc::GIVE_BACK_PERIOD, move || {
                // A task per worker: a worker that takes one while others wait wakes another.
                for _ in 0..handle.metrics().num_workers() {
                    handle.spawn(async {});
                }
            });
            match runtime.block_on(run(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e}");
                    eprintln!("dragoman: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

pub(crate) fn init_tracing(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => fmt.with_ansi(std::io::stderr().is_terminal()).init(),
        // One object per line, fields at the top level, for log pipelines.
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
}

async fn run(config: Config) -> Result<(), String> {
    let metrics = Metrics::new();
    let store = Arc::new(Store::open(&config.store.data_dir).map_err(|e| e.to_string())?);
    let (embedded, embedded_breaker) = dragoman_backend::embedded(Arc::clone(&store), &metrics);
    let (router, breakers) = backends::build(&config, (embedded, embedded_breaker), &metrics)?;
    let stack = dragoman_gateway::stack(config.gateway()?, Arc::clone(&router), &metrics);
    let tls = config.tls()?;
    let addr = config.listen()?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let readiness = Readiness::default();
    let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut admin_task = None;
    if let Some(admin_addr) = config.admin_listen()? {
        let admin_listener = TcpListener::bind(admin_addr)
            .await
            .map_err(|e| format!("cannot listen on {admin_addr} (admin.listen): {e}"))?;
        let admin_local = admin_listener.local_addr().map_err(|e| e.to_string())?;
        // Weak: the store must close on shutdown, whatever the admin task still holds.
        let checked = Arc::downgrade(&store);
        let sweep = config.admin.token.as_ref().map(|token| {
            (
                // Weak, like the store check: shutdown must find the store unshared.
                sweep::http::hook(Arc::downgrade(&router), metrics.clone()),
                Arc::<str>::from(token.expose()),
            )
        });
        let admin = Admin {
            sweep,
            metrics: metrics.clone(),
            readiness: readiness.clone(),
            breakers,
            store: Some(Arc::new(move || match checked.upgrade() {
                Some(store) => store.ping().map_err(|e| e.to_string()),
                None => Err("closed".into()),
            })),
        };
        tracing::info!(%admin_local, "admin listening (/healthz, /readyz, /metrics)");
        admin_task = Some((
            admin_local,
            tokio::spawn(serve_admin(admin_listener, admin, async {
                let _ = admin_stopped.await;
            })),
        ));
    }
    if config.credentials.is_empty() {
        tracing::warn!("no credentials configured: every request will be refused");
    }
    tracing::info!(%local, data_dir = %config.store.data_dir.display(), "dragoman listening");
    // One machine-readable line on stdout, for scripts and tests that bind port 0.
    println!("dragoman listening on http://{local}");
    if let Some((admin_local, _)) = &admin_task {
        println!("dragoman admin on http://{admin_local}");
    }
    let _ = std::io::stdout().flush();

    serve(
        listener,
        stack,
        config.server(tls),
        readiness,
        shutdown_signal(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let _ = stop_admin.send(());
    if let Some((_, task)) = admin_task {
        let _ = task.await;
    }
    // The router's embedded backend holds the store too.
    drop(router);
    match Arc::try_unwrap(store) {
        Ok(store) => store.close().map_err(|e| e.to_string())?,
        Err(_) => {
            tracing::warn!("requests outlived the grace period; the store closes with the process")
        }
    }
    tracing::info!("dragoman stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}
