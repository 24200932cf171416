//! `wanft emulator`: serve the DashScope fine-tuning API locally.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use std::io::Write;

use super::Outcome;
use wanft::emulator::{self, EmulatorConfig, FaultSettings};

/// Shown after the options of `wanft emulator --help`.
const ADMIN_HELP: &str = "\
Admin endpoints (no API key):
  GET  /__emulator/faults   current fault settings
  POST /__emulator/faults   replace them, e.g. {\"unavailable_next\": 3}, {\"throttle_rate\": 0.2,
                            \"retry_after_seconds\": 2}, {\"cut_upload_at\": 0.5},
                            {\"lose_next_create\": 1}, {\"server_error_rate\": 0.1},
                            {\"job_fail_rate\": 1}, {\"latency_ms\": 200}; {} turns all off
  GET  /__emulator/clock    emulated time and scale
  POST /__emulator/clock    {\"advance_seconds\": N} moves emulated time forward";

#[derive(Debug, clap::Args)]
#[command(after_help = ADMIN_HELP)]
pub struct EmulatorArgs {
    /// Port to listen on; 0 picks a free one (read it from the first line of output).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Emulated seconds per real second (60: a default job finishes in about 4 s); 0 freezes
    /// the clock, which then moves only through `POST /__emulator/clock`.
    #[arg(long, value_name = "X", default_value_t = emulator::DEFAULT_TIME_SCALE)]
    pub time_scale: f64,
    /// The API key clients must send (`Authorization: Bearer KEY`); never printed.
    #[arg(
        long,
        value_name = "KEY",
        env = "DASHSCOPE_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// Keep state and uploaded files in DIR across restarts (default: in memory).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Probability that a new job ends FAILED whatever its data.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Probability that a call is refused with 429 Throttling.RateQuota.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub throttle_rate: f64,
    /// Probability that a call fails with 500 InternalError.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub server_error_rate: f64,
    /// Delay added to every call, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Reset the connection of every upload after this fraction (0–1) of its body.
    #[arg(long, value_name = "F")]
    pub cut_upload_at: Option<f64>,
    /// Seed of every random choice (ids, faults), for reproducible runs.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Enforce the platform's request-rate limits (file API, task polling, submissions).
    #[arg(long)]
    pub enforce_rate_limits: bool,
}

impl EmulatorArgs {
    fn config(&self) -> Result<EmulatorConfig> {
        let api_key = match self.api_key.as_deref().map(str::trim) {
            Some(key) if !key.is_empty() => key.to_owned(),
            _ => bail!(
                "no API key to accept: pass --api-key KEY or set DASHSCOPE_API_KEY \
                 (clients must then send `Authorization: Bearer KEY`)"
            ),
        };
        if !(self.time_scale.is_finite() && self.time_scale >= 0.0) {
            bail!(
                "--time-scale must be a non-negative number, got {}",
                self.time_scale
            );
        }
        let faults = FaultSettings {
            server_error_rate: self.server_error_rate,
            throttle_rate: self.throttle_rate,
            job_fail_rate: self.fail_rate,
            latency_ms: self.latency_ms,
            cut_upload_at: self.cut_upload_at,
            ..FaultSettings::default()
        };
        faults
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid fault flag: {e}"))?;
        Ok(EmulatorConfig {
            bind: self.bind,
            port: self.port,
            time_scale: self.time_scale,
            state_dir: self.state_dir.clone(),
            faults,
            seed: self.seed,
            enforce_rate_limits: self.enforce_rate_limits,
            ..EmulatorConfig::new(api_key)
        })
    }
}

/// Runs the emulator until Ctrl-C or SIGTERM.
pub fn run(args: &EmulatorArgs) -> Result<Outcome> {
    let config = args.config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let running = emulator::serve(config).await?;
        // Scripts and tests wait for exactly this line.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "wanft emulator listening on {}", running.base_url())?;
        stdout.flush()?;
        drop(stdout);
        anstream::eprintln!(
            "time scale {}x; state {}; admin endpoints under /__emulator/ (faults, clock); Ctrl-C stops",
            args.time_scale,
            args.state_dir
                .as_ref()
                .map_or("in memory".to_owned(), |d| format!("in {}", d.display())),
        );
        wait_for_stop_signal().await?;
        running.shutdown().await;
        Ok(Outcome::Clean)
    })
}

async fn wait_for_stop_signal() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("cannot watch Ctrl-C")?,
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot watch Ctrl-C")?;
    Ok(())
}
