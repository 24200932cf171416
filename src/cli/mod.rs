//! Command-line front end: parse arguments, call the library, render, map outcomes to exit codes.

mod api_args;
mod check;
mod checkpoints;
mod consent;
mod deploy;
mod doctor;
mod emulator;
mod files;
mod generate;
mod init;
mod jobs;
mod pack;
mod plan;
mod progress;
mod report;
mod rule_args;
mod rules;
mod run;
mod shell;
mod status;
mod upload;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status of every command (documented in the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: the command ran and found nothing blocking.
    Clean,
    /// 1: the command ran and found errors (or warnings with `--strict`, or a gate exceeded).
    Failed,
}

/// 2: the command itself could not run (bad arguments, unreadable input, network failure).
const EXIT_USAGE: u8 = 2;

/// `wanft --version`: the release, the commit it was built from and the date of the built-in
/// price table (fees are only as current as that table).
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("WANFT_BUILD_COMMIT"),
    ")\nprices as of ",
    wanft::prices_as_of!(),
);

#[derive(Debug, Parser)]
#[command(name = "wanft", version, long_version = LONG_VERSION, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// When to colour output: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
    /// Print less (no progress, no notes).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more detail (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Project file to use instead of ./wanft.toml.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a dataset folder or zip for everything the platform would reject or degrade.
    Check(check::CheckArgs),
    /// List every rule with its code, severity and summary.
    Rules(rules::RulesArgs),
    /// Explain a rule: what it checks, why the platform cares, how to fix it.
    Explain(rules::ExplainArgs),
    /// Plan a job: steps, checkpoints, tokens and fee, with budget gates for CI.
    Plan(Box<plan::PlanArgs>),
    /// Write one HTML page showing what will train: per sample the first frame beside the
    /// decoded frame 0 and frames across the clip, its facts, prompt and findings; the fee on
    /// top (decodes with ffmpeg, like `check --deep`).
    Report(report::ReportArgs),
    /// Write a commented wanft.toml into the current folder.
    Init(init::InitArgs),
    /// Check a dataset and write its upload zip: deterministic, verified, never half-written.
    Pack(Box<pack::PackArgs>),
    /// Serve the DashScope fine-tuning API locally, for offline tests and CI.
    Emulator(emulator::EmulatorArgs),
    /// Check a dataset (a zip, or a folder packed first) and upload it once, streamed and retried.
    Upload(Box<upload::UploadArgs>),
    /// List, show and delete uploaded files.
    Files(files::FilesArgs),
    /// Create, follow, wait for, cancel and delete fine-tuning jobs.
    Jobs(jobs::JobsArgs),
    /// A finished job's checkpoints: previews and export.
    Checkpoints(checkpoints::CheckpointsArgs),
    /// Deploy fine-tuned models; inspect, wait for and delete deployments.
    Deploy(deploy::DeployArgs),
    /// Generate a video with a deployed model.
    Generate(Box<generate::GenerateArgs>),
    /// Inspect generation tasks.
    Tasks(generate::TasksArgs),
    /// From a project to a tuned model: check, plan, pack, upload, train, previews, export,
    /// deploy, sample videos; resumable, and asking before it spends.
    Run(Box<run::RunArgs>),
    /// What will cost or block you: key and region, the job quota, deployments up, checkpoints
    /// about to expire, the price table's age, ffmpeg.
    Doctor(doctor::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(shell::CompletionsArgs),
    /// Print the manual page (or write every page with --out-dir).
    Man(shell::ManArgs),
}

/// Parses arguments, runs the command and returns the process exit code.
pub fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    apply_color(cli.global.color);
    let result = match &cli.command {
        Command::Check(args) => check::run(args, &cli.global),
        Command::Rules(args) => rules::run_rules(args),
        Command::Explain(args) => rules::run_explain(args),
        Command::Plan(args) => plan::run(args, &cli.global),
        Command::Report(args) => report::run(args, &cli.global),
        Command::Init(args) => init::run(args, &cli.global),
        Command::Pack(args) => pack::run(args, &cli.global),
        Command::Emulator(args) => emulator::run(args),
        Command::Upload(args) => upload::run(args, &cli.global),
        Command::Files(args) => files::run(args, &cli.global),
        Command::Jobs(args) => jobs::run(args, &cli.global),
        Command::Checkpoints(args) => checkpoints::run(args, &cli.global),
        Command::Deploy(args) => deploy::run(args, &cli.global),
        Command::Generate(args) => generate::run(args, &cli.global),
        Command::Tasks(args) => generate::run_tasks(args, &cli.global),
        Command::Run(args) => run::run(args, &cli.global),
        Command::Doctor(args) => doctor::run(args, &cli.global),
        Command::Completions(args) => shell::run_completions(args),
        Command::Man(args) => shell::run_man(args),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(err) => {
            print_error(&err);
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `wanft rules | head` must end quietly, as `cat` does, not panic on the closed pipe: Rust
/// ignores SIGPIPE by default, which turns every later print into a broken-pipe panic. Sockets
/// are unaffected (the standard library sends with MSG_NOSIGNAL) and no child's stdin is ever
/// a pipe of ours.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn apply_color(choice: ColorChoice) {
    let c = match choice {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    c.write_global();
}

/// Prints an error with its cause chain, cargo style.
fn print_error(err: &anyhow::Error) {
    let red = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Red.into()));
    // Messages name files and echo servers: no control character of theirs reaches the
    // terminal or a CI log. Commands they name get the flags that reach the same API.
    let shown =
        |text: String| wanft::report::escape_controls(&api_args::with_reach(&text)).into_owned();
    anstream::eprintln!("{red}error{red:#}: {}", shown(err.to_string()));
    for cause in err.chain().skip(1) {
        anstream::eprintln!("  caused by: {}", shown(cause.to_string()));
    }
    let hint = err
        .chain()
        .find_map(|e| e.downcast_ref::<wanft::api::ApiError>())
        .and_then(wanft::api::ApiError::hint);
    if let Some(hint) = hint {
        anstream::eprintln!("  hint: {}", shown(hint));
    }
}
