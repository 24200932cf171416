//! `wanft emulator`: serve the DashScope fine-tuning API locally.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
                            {\"lose_next_create\": 1}, {\"cut_next_uploads\": 1},
                            {\"server_error_rate\": 0.1},
                            {\"job_fail_rate\": 1}, {\"latency_ms\": 200}; {} turns all off
  GET  /__emulator/clock    emulated time and scale
  POST /__emulator/clock    {\"advance_seconds\": N} moves emulated time forward";

#[derive(Debug, clap::Args)]
#[command(after_help = ADMIN_HELP)]
pub struct EmulatorArgs {
    /// Port to listen on; 0 picks a free one (read it from the first line of output)
    /// [default: 8787; with --detach, a free one].
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Emulated seconds per real second (60: a default job finishes in about 4 s); 0 freezes
    /// the clock, which then moves only through `POST /__emulator/clock`.
    #[arg(long, value_name = "X", default_value_t = emulator::DEFAULT_TIME_SCALE)]
    pub time_scale: f64,
    /// The API key clients must send (`Authorization: Bearer KEY`); never printed. Without one,
    /// the emulator makes up a key and prints it.
    #[arg(
        long,
        value_name = "KEY",
        env = "DASHSCOPE_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// Start in the background and print shell `export` lines (WANFT_BASE_URL, the key when
    /// it was made up, WANFT_EMULATOR_PID) for `eval "$(wanft emulator --detach)"`; stop it
    /// with `kill $WANFT_EMULATOR_PID`.
    #[arg(long)]
    pub detach: bool,
    /// Write the address here once listening (how a detached emulator says it is ready).
    #[arg(long, value_name = "PATH", hide = true)]
    pub ready_file: Option<PathBuf>,
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

/// Default port in the foreground.
const DEFAULT_PORT: u16 = 8787;
/// How long `--detach` waits for the emulator to listen.
const DETACH_TIMEOUT: Duration = Duration::from_secs(30);

/// The key the emulator accepts: the one given, else a made-up one (`true`: made up, so it is
/// safe, and needed, to print it).
fn accepted_key(given: Option<&str>) -> (String, bool) {
    match given.map(str::trim) {
        Some(key) if !key.is_empty() => (key.to_owned(), false),
        _ => (
            format!("sk-emulator-{}", uuid::Uuid::new_v4().simple()),
            true,
        ),
    }
}

impl EmulatorArgs {
    fn config(&self, api_key: String) -> Result<EmulatorConfig> {
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
            port: self
                .port
                .unwrap_or(if self.detach { 0 } else { DEFAULT_PORT }),
            time_scale: self.time_scale,
            state_dir: self.state_dir.clone(),
            faults,
            seed: self.seed,
            enforce_rate_limits: self.enforce_rate_limits,
            ..EmulatorConfig::new(api_key)
        })
    }
}

/// Runs the emulator until Ctrl-C or SIGTERM (or starts it in the background with --detach).
pub fn run(args: &EmulatorArgs) -> Result<Outcome> {
    let (api_key, made_up) = accepted_key(args.api_key.as_deref());
    if args.detach {
        return detach(args, &api_key, made_up);
    }
    let config = args.config(api_key.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let running = emulator::serve(config).await?;
        let url = running.base_url();
        if let Some(path) = &args.ready_file {
            // A detached emulator has no one reading its stdout: it says it is ready here.
            std::fs::write(path, &url).with_context(|| format!("cannot write {}", path.display()))?;
        } else {
            // Scripts and tests wait for exactly this line.
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "wanft emulator listening on {url}")?;
            if made_up {
                writeln!(
                    stdout,
                    "it accepts the API key {api_key}: export DASHSCOPE_API_KEY={api_key} \
                     WANFT_BASE_URL={url}"
                )?;
            } else {
                writeln!(
                    stdout,
                    "it accepts the API key given (--api-key or DASHSCOPE_API_KEY; not shown)"
                )?;
            }
            stdout.flush()?;
        }
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

/// Starts this command again in the background (its own process group, no terminal), waits
/// until it listens, and prints the shell lines that point wanft at it.
fn detach(args: &EmulatorArgs, api_key: &str, made_up: bool) -> Result<Outcome> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let ready = dir.path().join("ready");
    let exe = std::env::current_exe().context("cannot find the wanft executable")?;
    let forwarded: Vec<std::ffi::OsString> = std::env::args_os()
        .skip(1)
        .filter(|a| a != "--detach")
        .collect();
    let mut command = std::process::Command::new(exe);
    command.args(&forwarded);
    if args.port.is_none() {
        command.args(["--port", "0"]);
    }
    command
        .arg("--ready-file")
        .arg(&ready)
        .env("DASHSCOPE_API_KEY", api_key)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: a Ctrl-C in the shell that started it does not stop it.
        command.process_group(0);
    }
    let mut child = command.spawn().context("cannot start the emulator")?;
    let started = Instant::now();
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(&ready)
            && !url.is_empty()
        {
            break url;
        }
        if let Some(status) = child.try_wait()? {
            bail!("the emulator stopped at once ({status}); run it without --detach to see why");
        }
        if started.elapsed() > DETACH_TIMEOUT {
            let _ = child.kill();
            bail!(
                "the emulator did not start listening within {} s",
                DETACH_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let pid = child.id();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "export WANFT_BASE_URL={url}")?;
    if made_up {
        writeln!(stdout, "export DASHSCOPE_API_KEY={api_key}")?;
    }
    writeln!(stdout, "export WANFT_EMULATOR_PID={pid}")?;
    writeln!(
        stdout,
        "# wanft emulator listening on {url} in the background; stop it with: kill {pid}"
    )?;
    Ok(Outcome::Clean)
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
