//! `wanft run`: from a project (or a dataset folder) to a tuned model in one command. The flow
//! is `wanft::run`; this file parses, renders and maps the outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use anyhow::{Context as _, Result, anyhow};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_decimal::Decimal;
use serde_json::json;

use super::api_args::{ApiArgs, Format, Reach, parse_duration, shell_word, thousands};
use super::consent;
use super::plan::HyperArgs;
use super::progress::Bar;
use super::rule_args::RuleArgs;
use super::status::status;
use super::{GlobalArgs, Outcome};
use wanft::api::generation::DEFAULT_RESOLUTION;
use wanft::config::{self, Config};
use wanft::models::{self, ModelProfile};
use wanft::plan::Gates;
use wanft::progress::Progress;
use wanft::report::text::{self as report_text, TextOptions};
use wanft::rules::Findings;
use wanft::run::state::RunState;
use wanft::run::{self, Project, Reporter, RunOptions, RunReport, Step, Stop, Training};
use wanft::spend::{Consent, EpochsOrigin, Spending};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Training set (a folder or a .zip) [default: `[dataset] training` of wanft.toml].
    pub dataset: Option<PathBuf>,
    /// Validation set; its images are also what the sample videos start from [default:
    /// `[dataset] validation` of wanft.toml when no DATASET is given].
    #[arg(long, value_name = "DIR")]
    pub validation: Vec<PathBuf>,
    /// Base model [default: `model` of wanft.toml, else wan2.5-i2v-preview].
    #[arg(long, value_name = "MODEL", value_parser = models::lookup)]
    pub model: Option<&'static ModelProfile>,
    /// Stop after this step: check, plan, pack, upload, create, train, previews, export,
    /// deploy or generate.
    #[arg(long, value_name = "STEP", default_value = "generate")]
    pub until: Step,
    /// Print every request the run would send and the fee; send nothing (no key needed).
    #[arg(long)]
    pub dry_run: bool,
    /// Spend without asking (training, deployment, generation).
    #[arg(short, long)]
    pub yes: bool,
    /// Refuse to create the job when its fee can exceed AMOUNT; without a terminal, a fee
    /// within it is consent to train (but not to generate, whose price is unknown).
    #[arg(long, value_name = "AMOUNT")]
    pub max_cost: Option<Decimal>,
    /// Refuse a run of more than N training steps.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
    /// Price per 1,000 tokens in the region's currency, replacing the built-in price list.
    #[arg(long, value_name = "AMOUNT")]
    pub price: Option<Decimal>,
    /// Checkpoint to deploy, e.g. checkpoint-160 [default: the final one, deployed as the
    /// job's model without an export].
    #[arg(long, value_name = "NAME")]
    pub checkpoint: Option<String>,
    /// Folder for previews and samples [default: wanft-runs/JOB_ID in the project].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Deploy so that each call's prompt is used verbatim (the samples send their validation
    /// prompts) [default: when [deploy] of wanft.toml has no prompt templates].
    #[arg(long)]
    pub use_input_prompt: bool,
    /// Resolution of the sample videos.
    #[arg(long, default_value = DEFAULT_RESOLUTION)]
    pub resolution: String,
    /// Seconds of each sample video [default: the model's].
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u32>,
    /// Start another job although .wanft/run.json records one for other datasets or settings
    /// (its record is kept as .wanft/run-JOB_ID.json).
    #[arg(long)]
    pub new_run: bool,
    /// Longest time between two looks at the job, export, deployment or tasks (looks start at
    /// 0.5 s and slow down).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Abandon (and retry) an upload or download that moves no byte for this long.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub stall_timeout: Duration,
    #[command(flatten)]
    pub hyper: HyperArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub fn run(args: &RunArgs, global: &GlobalArgs) -> Result<Outcome> {
    let (config, endpoint, region) = args.api.endpoint(global)?;
    let reach = Reach::new(global, &endpoint);
    let project = project(args, config)?;
    let mut options = options(args, &project.config);
    options.rules = args.rules.selection(&project.config)?;
    let reporter = Screen::new(global);
    let report = if args.dry_run {
        run::dry::dry_run(&project, &options, region, endpoint.base_url(), &reporter)?
    } else {
        let session = args.api.connect(global)?;
        session.block_on(run::run(&session.client, &project, &options, &reporter))?
    };
    reporter.finish_training();
    let cwd = std::env::current_dir().unwrap_or_default();
    if args.api.format == Format::Json {
        print_json(&report, region)?;
    } else {
        let given: Vec<String> = std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let again = reach.command(&resume_args(&given).join(" "));
        let text = summary(&report, &reach, &again, args.dry_run, &cwd);
        let mut out = anstream::stdout().lock();
        for line in text {
            writeln!(out, "{line}")?;
        }
    }
    Ok(if report.succeeded() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

fn project(args: &RunArgs, config: Config) -> Result<Project> {
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    let root = if config.path.as_os_str().is_empty() {
        cwd
    } else {
        config.dir().to_owned()
    };
    let model = match args.model.or(config.model) {
        Some(model) => model,
        None => models::lookup(models::DEFAULT_MODEL).map_err(|e| anyhow!(e))?,
    };
    let (training, validation) = match &args.dataset {
        Some(path) => (vec![path.clone()], args.validation.clone()),
        None if !args.validation.is_empty() => {
            (config.dataset.training.clone(), args.validation.clone())
        }
        None => (
            config.dataset.training.clone(),
            config.dataset.validation.clone(),
        ),
    };
    if training.is_empty() {
        return Err(anyhow!(
            "nothing to run: give a DATASET or set `[dataset] training` in {}",
            config::FILE_NAME
        ));
    }
    Ok(Project {
        root,
        config,
        model,
        training,
        validation,
    })
}

fn options(args: &RunArgs, config: &Config) -> RunOptions {
    let given = args.hyper.to_params();
    let epochs_origin = match (given.n_epochs, config.hyper_parameters.n_epochs) {
        (Some(_), _) => Some(EpochsOrigin::Flag),
        (None, Some(_)) => Some(EpochsOrigin::ProjectFile),
        (None, None) => None,
    };
    RunOptions {
        hyper: config.hyper_parameters.overridden_by(&given),
        epochs_origin,
        price: args.price.or(config.plan.price),
        gates: Gates {
            max_cost: args.max_cost.or(config.plan.max_cost),
            max_steps: args.max_steps.or(config.plan.max_steps),
        },
        consent: Consent {
            yes: args.yes,
            max_cost: args.max_cost.or(config.plan.max_cost),
            terminal: consent::terminal(),
        },
        checkpoint: args.checkpoint.clone(),
        until: args.until,
        out_dir: args.out.clone(),
        use_input_prompt: args.use_input_prompt,
        resolution: args.resolution.clone(),
        duration: args.duration,
        poll: args.interval,
        stall_timeout: args.stall_timeout,
        new_run: args.new_run,
        rules: None,
    }
}

/// Shows the run on stderr: step lines, notes, findings, the log tail and a training bar (on a
/// terminal).
struct Screen {
    bar: Bar,
    quiet: bool,
    verbose: bool,
    training: Mutex<Option<ProgressBar>>,
}

impl Screen {
    fn new(global: &GlobalArgs) -> Screen {
        Screen {
            bar: Bar::new(!global.quiet),
            quiet: global.quiet,
            verbose: global.verbose > 0,
            training: Mutex::new(None),
        }
    }

    /// Prints a line on stderr above the training bar, if one is drawn.
    fn line(&self, text: &str) {
        let slot = self.training.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some(bar) => bar.suspend(|| anstream::eprintln!("{text}")),
            None => anstream::eprintln!("{text}"),
        }
    }

    fn finish_training(&self) {
        if let Some(bar) = self
            .training
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            bar.finish_and_clear();
        }
    }
}

fn green() -> Style {
    Style::new().bold().fg_color(Some(AnsiColor::Green.into()))
}

fn styled(label: &str, style: Style, text: &str) -> String {
    let mut buffer = Vec::new();
    let _ = status(&mut buffer, label, style, text);
    String::from_utf8_lossy(&buffer).trim_end().to_owned()
}

impl Reporter for Screen {
    fn progress(&self) -> &dyn Progress {
        &self.bar
    }

    fn step(&self, step: Step, message: &str) {
        if !self.quiet {
            let label = capitalized(step.as_str());
            self.line(&styled(&label, green(), message));
        }
    }

    fn note(&self, message: &str) {
        if !self.quiet {
            let yellow = Style::new().bold().fg_color(Some(AnsiColor::Yellow.into()));
            self.line(&format!("{yellow}note{yellow:#}: {message}"));
        }
    }

    fn findings(&self, dataset: &Path, findings: &Findings) {
        let mut buffer = Vec::new();
        let _ = writeln!(buffer, "{}", dataset.display());
        let options = TextOptions {
            verbose: self.verbose,
            quiet: true,
        };
        let _ = report_text::write_findings(&mut buffer, findings, options);
        self.line(String::from_utf8_lossy(&buffer).trim_end());
    }

    fn spending(&self, spendings: &[Spending]) {
        self.line(&consent::statement(spendings));
    }

    fn confirm(&self, spendings: &[Spending]) -> bool {
        let slot = self.training.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some(bar) => bar.suspend(|| consent::ask(spendings)),
            None => consent::ask(spendings),
        }
    }

    fn log_lines(&self, lines: &[String]) {
        if self.quiet {
            return;
        }
        let dim = Style::new().dimmed();
        for line in lines {
            self.line(&format!("{dim}  │ {line}{dim:#}"));
        }
    }

    fn training(&self, progress: &Training) {
        if self.quiet || !std::io::stderr().is_terminal() {
            return;
        }
        let mut slot = self.training.lock().unwrap_or_else(|e| e.into_inner());
        let bar = slot.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(
                Some(progress.total_steps.max(1)),
                ProgressDrawTarget::stderr(),
            );
            let style = ProgressStyle::with_template(
                "{msg:>12} [{bar:30}] ≈ step {pos}/{len} {prefix} {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        bar.set_message(progress.status.as_str().to_owned());
        if let Some(step) = progress.step {
            bar.set_position(step);
            if let (Some(epoch), Some(epochs)) = (
                step.checked_div(progress.steps_per_epoch),
                progress.total_steps.checked_div(progress.steps_per_epoch),
            ) {
                bar.set_prefix(format!("· epoch {epoch}/{epochs}"));
            }
        }
        if progress.status.is_terminal() {
            bar.finish_and_clear();
            *slot = None;
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `path` relative to `cwd` when inside it.
fn shown(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd)
        .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// The final summary on stdout.
/// `run` and the arguments of this run that a later run needs to go on with it: all but
/// `--until`, `--dry-run`, `--new-run` (it would start yet another job) and the flags saying
/// where the API is (the [`Reach`] adds those that were given as flags).
fn resume_args(given: &[String]) -> Vec<String> {
    const WITH_VALUE: [&str; 4] = ["--until", "--region", "--base-url", "--config"];
    let mut kept = vec!["run".to_owned()];
    let mut subcommand = false;
    let mut args = given.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            kept.extend(std::iter::once(arg).chain(args).map(|a| shell_word(a)));
            break;
        }
        if !subcommand && arg == "run" {
            subcommand = true;
        } else if WITH_VALUE.contains(&arg.as_str()) {
            args.next();
        } else if !(WITH_VALUE.iter().any(|f| {
            arg.strip_prefix(f)
                .is_some_and(|rest| rest.starts_with('='))
        }) || arg == "--dry-run"
            || arg == "--new-run")
        {
            kept.push(shell_word(arg));
        }
    }
    kept
}

fn summary(
    report: &RunReport,
    reach: &Reach,
    again: &str,
    dry_run: bool,
    cwd: &Path,
) -> Vec<String> {
    let mut rows: Vec<(&str, String)> = Vec::new();
    if !report.requests.is_empty() {
        rows.push(("Dry run", "nothing was sent; the requests:".into()));
        for r in &report.requests {
            let mut text = format!("{} {}", r.method, r.url);
            if let Some(body) = &r.body {
                text.push_str(&format!("\n  {body}"));
            }
            text.push_str(&format!("\n  ({})", r.note));
            rows.push((r.step, text));
        }
    }
    if let Some(plan) = &report.plan {
        rows.push(("Plan", plan_summary(plan)));
    }
    let state = report.state.as_ref();
    if let Some(job) = state.and_then(|s| s.job.as_ref())
        && let Some(job_id) = &job.job_id
    {
        rows.push((
            "Job",
            format!("{job_id} {}", job.status.as_deref().unwrap_or("-")),
        ));
        if let Some(usage) = job.usage {
            let fee = report
                .billed
                .map_or_else(|| "fee unknown".to_owned(), |f| f.to_string());
            rows.push((
                "Billed",
                format!("{} tokens (the job's usage) = {fee}", thousands(usage)),
            ));
        }
    }
    if let Some(previews) = state.and_then(|s| s.previews.as_ref()) {
        rows.push((
            "Previews",
            format!(
                "{} ({} videos; their links expire after 24 h, these copies do not){}",
                shown(&previews.dir, cwd),
                previews.files.len(),
                previews
                    .page
                    .as_ref()
                    .map_or_else(String::new, |page| format!(
                        "; side by side in {}",
                        shown(page, cwd)
                    ))
            ),
        ));
    }
    if let Some(state) = state {
        let saved: Vec<&PathBuf> = state
            .samples
            .iter()
            .filter_map(|s| s.video.as_ref())
            .collect();
        if let Some(first) = saved.first() {
            let seconds: f64 = state.samples.iter().filter_map(|s| s.seconds).sum();
            rows.push((
                "Samples",
                format!(
                    "{} ({} videos, {seconds} s of video billed)",
                    first.parent().map_or_else(String::new, |d| shown(d, cwd)),
                    saved.len()
                ),
            ));
        }
        if let Some(d) = &state.deployment
            && let Some(id) = &d.deployed_model
        {
            let model = if *id == d.model_name {
                String::new()
            } else {
                format!(" (model {})", d.model_name)
            };
            rows.push(("Deployed", format!("{id}{model}")));
        }
        let cleanup = cleanup(state, reach);
        if !cleanup.is_empty() {
            rows.push(("Clean up", cleanup.join("\n")));
        }
        rows.push(("State", shown(&report.state_path, cwd)));
    }
    if let Some(stop) = &report.stop {
        rows.push(stop_row(stop, again, dry_run));
    } else if report.state.is_some() {
        rows.push(("Done", "every step of the run".into()));
    }
    let mut lines = Vec::new();
    for (label, text) in rows {
        let style = match label {
            "Stopped" | "Not ready" | "Failed" => {
                Style::new().bold().fg_color(Some(AnsiColor::Red.into()))
            }
            _ => green(),
        };
        lines.push(styled(label, style, &text));
    }
    lines
}

fn plan_summary(plan: &wanft::plan::Plan) -> String {
    let fee = match (plan.all_clips.fee, plan.unknown_durations) {
        (Some(fee), 0) => fee.to_string(),
        (Some(fee), _) => format!("at least {fee}"),
        (None, _) => "unknown".into(),
    };
    format!(
        "{} steps ({} epochs × {} steps), {} tokens, fee {fee} (estimate before training; \
         the job's usage is the bill)",
        thousands(plan.steps.total),
        plan.steps.n_epochs,
        plan.steps.per_epoch,
        wanft::plan::billing::group_thousands(&plan.all_clips.tokens.to_string())
    )
}

/// The commands that stop what the run left running or stored.
fn cleanup(state: &RunState, reach: &Reach) -> Vec<String> {
    let mut commands = Vec::new();
    if let Some(id) = state
        .deployment
        .as_ref()
        .and_then(|d| d.deployed_model.as_deref())
    {
        commands.push(reach.command(&format!("deploy delete {id}")));
    }
    if let Some(job) = state.job.as_ref().and_then(|j| j.job_id.as_deref()) {
        commands.push(reach.command(&format!("jobs delete {job}")));
    }
    for upload in &state.uploads {
        commands.push(reach.command(&format!("files delete {}", upload.file_id)));
    }
    commands
}

/// The row saying why the run stopped; `again` is the command that goes on (or, after a dry
/// run, the one that does it for real: nothing was done to go on from).
fn stop_row(stop: &Stop, again: &str, dry_run: bool) -> (&'static str, String) {
    match stop {
        Stop::Until(step) if dry_run => (
            "Stopped",
            format!("after {step} (--until); nothing was sent: `{again}` runs it for real"),
        ),
        Stop::Until(step) => (
            "Stopped",
            format!("after {step} (--until); `{again}` goes on from there"),
        ),
        Stop::NotReady(r) => (
            "Not ready",
            format!(
                "{} errors ({} in the datasets), {} failed gates: nothing was sent",
                r.errors(),
                r.dataset_errors,
                r.gates_failed
            ),
        ),
        Stop::Refused { step, reason } => ("Stopped", format!("before {step}: {reason}")),
        Stop::JobEnded {
            job_id,
            status,
            reason,
        } => {
            let mut text = format!("job {job_id} ended {status}");
            if *status == wanft::api::jobs::JobStatus::Failed {
                text.push_str(" (failed jobs are not billed)");
            }
            for line in &reason.lines {
                text.push_str(&format!("\n{line}"));
            }
            for rule in &reason.rules {
                text.push_str(&format!(
                    "\n{} {}: `wanft explain {}`; fix the dataset, then `{again}`",
                    rule.code, rule.name, rule.code
                ));
            }
            ("Failed", text)
        }
        Stop::ExportFailed { checkpoint, status } => (
            "Failed",
            format!("the export of {checkpoint} ended {status}"),
        ),
        Stop::DeploymentFailed {
            deployed_model,
            status,
        } => (
            "Failed",
            format!("deployment {deployed_model} settled {status}, not RUNNING"),
        ),
        Stop::SamplesIncomplete { failed } => (
            "Failed",
            format!("{failed} sample(s) were not made (see the notes above)"),
        ),
    }
}

fn print_json(report: &RunReport, region: wanft::models::Region) -> Result<()> {
    let stop = report.stop.as_ref().map(|s| match s {
        Stop::Until(step) => json!({ "kind": "until", "step": step.as_str() }),
        Stop::NotReady(r) => json!({ "kind": "not_ready", "readiness": r }),
        Stop::Refused { step, reason } => {
            json!({ "kind": "refused", "step": step.as_str(), "reason": reason })
        }
        Stop::JobEnded {
            job_id,
            status,
            reason,
        } => json!({
            "kind": "job_ended", "job_id": job_id, "status": status,
            "reason": reason.lines,
            "rules": reason.rules.iter().map(|r| r.code).collect::<Vec<_>>(),
        }),
        Stop::ExportFailed { checkpoint, status } => {
            json!({ "kind": "export_failed", "checkpoint": checkpoint, "status": status })
        }
        Stop::DeploymentFailed {
            deployed_model,
            status,
        } => json!({ "kind": "deployment_failed", "deployed_model": deployed_model, "status": status }),
        Stop::SamplesIncomplete { failed } => {
            json!({ "kind": "samples_incomplete", "failed": failed })
        }
    });
    let plan = report.plan.as_ref().map(|p| {
        json!({
            "n_epochs": p.steps.n_epochs,
            "total_steps": p.steps.total,
            "tokens": p.all_clips.tokens.to_string(),
            "fee": p.all_clips.fee,
        })
    });
    let document = json!({
        "ok": report.succeeded(),
        "region": region.id(),
        "stop": stop,
        "plan": plan,
        "state": report.state,
        "state_path": report.state_path,
        "out_dir": report.out_dir,
        "billed": report.billed,
        "requests": report.requests,
    });
    let mut out = anstream::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &document)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn the_command_that_goes_on_keeps_what_shapes_the_run() {
        let given = words(
            "-v --region cn-beijing run my-set --validation val --n-epochs 5 --until upload \
             --base-url=http://h --dry-run --new-run --yes",
        );
        assert_eq!(
            resume_args(&given).join(" "),
            "run -v my-set --validation val --n-epochs 5 --yes"
        );
        let given = vec!["run".into(), "--".into(), "my set".into()];
        assert_eq!(resume_args(&given).join(" "), "run -- 'my set'");
    }
}
