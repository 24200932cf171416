//! `wanft plan`: steps, checkpoints, tokens and fee before upload, and budget gates for CI.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anstyle::{AnsiColor, Style};
use anyhow::{Context as _, Result, anyhow, bail};
use rust_decimal::Decimal;

use super::{GlobalArgs, Outcome};
use wanft::config::Config;
use wanft::hyper::HyperParams;
use wanft::models::{self, ModelProfile, PRICES_AS_OF, Region, TaskType};
use wanft::plan::billing::group_thousands;
use wanft::plan::json::PlanDocument;
use wanft::plan::{
    self, Clip, EpochsSource, GateResult, GateStatus, Gates, Plan, PlanInput, PriceSource,
    ValidationSource,
};
use wanft::rules::{Finding, Severity};

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Training set: a folder or a .zip [default: `[dataset] training` of wanft.toml].
    pub dataset: Option<PathBuf>,
    /// Validation set; giving one disables the automatic split.
    #[arg(long, value_name = "DIR")]
    pub validation: Option<PathBuf>,
    /// Base model [default: `model` of wanft.toml, else wan2.5-i2v-preview].
    #[arg(long, value_name = "MODEL", value_parser = models::lookup)]
    pub model: Option<&'static ModelProfile>,
    /// Region: cn-beijing (CNY) or ap-southeast-1 (USD) [default: `region` of wanft.toml].
    #[arg(long, value_name = "REGION")]
    pub region: Option<Region>,
    #[command(flatten)]
    pub hyper: HyperArgs,
    /// Price per 1,000 tokens in the region's currency, replacing the built-in price list.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub price: Option<Decimal>,
    /// Exit with status 1 when the fee exceeds AMOUNT (equal passes; an unknown fee fails).
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount, help_heading = "Gates")]
    pub max_cost: Option<Decimal>,
    /// Exit with status 1 when the run has more than N training steps.
    #[arg(long, value_name = "N", help_heading = "Gates")]
    pub max_steps: Option<u64>,
    /// Plan for clips of these durations instead of reading a dataset ("what if").
    #[arg(
        long,
        value_name = "SECONDS,...",
        value_delimiter = ',',
        value_parser = parse_seconds,
        help_heading = "What if"
    )]
    pub clip_seconds: Vec<f64>,
    /// With --clip-seconds: plan as if a validation set of N samples were given.
    #[arg(
        long,
        value_name = "N",
        requires = "clip_seconds",
        help_heading = "What if"
    )]
    pub validation_samples: Option<usize>,
    /// Output format (json: the versioned schema of `wanft::plan::json`).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Every hyper-parameter of spec §4 as a flag; reusable by any command that creates a job.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(
    next_help_heading = "Hyper-parameters [default: [hyper_parameters] of wanft.toml, else the model's]"
)]
pub struct HyperArgs {
    /// Passes over the training set [default: the fewest reaching 800 steps].
    #[arg(long, value_name = "N")]
    pub n_epochs: Option<u32>,
    /// Samples per step (fixed per model).
    #[arg(long, value_name = "N")]
    pub batch_size: Option<u32>,
    #[arg(long, value_name = "RATE")]
    pub learning_rate: Option<f64>,
    /// Epochs between evaluation points (at least n_epochs / 10).
    #[arg(long, value_name = "N")]
    pub eval_epochs: Option<u32>,
    /// Cap on width × height of training videos; a factor of the fee.
    #[arg(long, value_name = "PIXELS")]
    pub max_pixels: Option<u32>,
    /// Share of samples kept for training by the automatic split.
    #[arg(long, value_name = "FRACTION")]
    pub split: Option<f64>,
    /// Most samples the automatic split moves to validation.
    #[arg(long, value_name = "N")]
    pub max_split_val_dataset_sample: Option<u32>,
    /// Checkpoints kept (the most recent).
    #[arg(long, value_name = "N")]
    pub save_total_limit: Option<u32>,
    #[arg(long, value_name = "N")]
    pub lora_rank: Option<u32>,
    #[arg(long, value_name = "N")]
    pub lora_alpha: Option<u32>,
    /// wan2.7-i2v only: i2v or kf2v.
    #[arg(long, value_name = "TYPE")]
    pub task_type: Option<TaskType>,
}

impl HyperArgs {
    /// The flags as a (partial) hyper-parameter object, to lay over the file's.
    pub fn to_params(&self) -> HyperParams {
        HyperParams {
            batch_size: self.batch_size,
            n_epochs: self.n_epochs,
            learning_rate: self.learning_rate,
            eval_epochs: self.eval_epochs,
            max_pixels: self.max_pixels,
            split: self.split,
            max_split_val_dataset_sample: self.max_split_val_dataset_sample,
            save_total_limit: self.save_total_limit,
            lora_rank: self.lora_rank,
            lora_alpha: self.lora_alpha,
            task_type: self.task_type,
        }
    }
}

/// A non-negative decimal amount (`0.32`, `100`).
fn parse_amount(s: &str) -> Result<Decimal, String> {
    let value =
        Decimal::from_str(s.trim()).map_err(|_| format!("`{s}` is not a decimal amount"))?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!("`{s}` is negative"));
    }
    Ok(value)
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a duration in seconds")),
    }
}

pub fn run(args: &PlanArgs, global: &GlobalArgs) -> Result<Outcome> {
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    let config = Config::discover(global.config.as_deref(), &cwd)?.unwrap_or_default();

    let model = match args.model.or(config.model) {
        Some(model) => model,
        None => models::lookup(models::DEFAULT_MODEL).map_err(|e| anyhow!(e))?,
    };
    let Some(region) = args.region.or(config.region) else {
        bail!(
            "no region: pass --region cn-beijing|ap-southeast-1 or set `region` in {}",
            wanft::config::FILE_NAME
        );
    };
    let (training, validation_count) = clips(args, &config)?;
    let input = PlanInput {
        model,
        region,
        hyper: config
            .hyper_parameters
            .overridden_by(&args.hyper.to_params()),
        training,
        validation_count,
        price_override: args.price.or(config.plan.price),
    };
    let gates = Gates {
        max_cost: args.max_cost.or(config.plan.max_cost),
        max_steps: args.max_steps.or(config.plan.max_steps),
    };

    let plan = plan::estimate(&input);
    let gate_results = gates.evaluate(&plan);
    match args.format {
        Format::Json => {
            let document = PlanDocument::new(&plan, &gate_results);
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
        Format::Text => {
            let report = render_text(&plan, &gate_results, global.quiet, global.verbose > 0);
            anstream::print!("{report}");
        }
    }
    let failed = plan.findings.has_errors() || gate_results.iter().any(GateResult::failed);
    Ok(if failed {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}

/// The training clips and the validation set size: from `--clip-seconds`, else the dataset.
fn clips(args: &PlanArgs, config: &Config) -> Result<(Vec<Clip>, Option<usize>)> {
    if !args.clip_seconds.is_empty() {
        let clips = args
            .clip_seconds
            .iter()
            .enumerate()
            .map(|(i, &s)| Clip {
                path: format!("clip-{}", i + 1),
                duration_s: Some(s),
            })
            .collect();
        return Ok((clips, args.validation_samples));
    }
    let training: Vec<&Path> = match &args.dataset {
        Some(path) => vec![path.as_path()],
        None => config
            .dataset
            .training
            .iter()
            .map(PathBuf::as_path)
            .collect(),
    };
    let validation: Vec<&Path> = match &args.validation {
        Some(path) => vec![path.as_path()],
        None => config
            .dataset
            .validation
            .iter()
            .map(PathBuf::as_path)
            .collect(),
    };
    dataset_clips(&training, &validation)
}

/// Clip durations of the training set(s) and the size of the validation set(s), read by the
/// `check` pipeline.
fn dataset_clips(training: &[&Path], _validation: &[&Path]) -> Result<(Vec<Clip>, Option<usize>)> {
    let Some(first) = training.first() else {
        bail!(
            "nothing to plan: give a DATASET, set `[dataset] training` in {}, or pass \
             --clip-seconds 3.4,6.5,…",
            wanft::config::FILE_NAME
        );
    };
    // The dataset reader (`wanft::check`) is not part of this build yet.
    bail!(
        "reading clip durations from a dataset ({}) is not available yet; pass --clip-seconds \
         with the clips' durations",
        first.display()
    )
}

// ---------------------------------------------------------------------------------------------
// Text report

const LABEL_WIDTH: usize = 12;

fn style(color: AnsiColor) -> Style {
    Style::new().bold().fg_color(Some(color.into()))
}

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Error => style(AnsiColor::Red),
        Severity::Warning => style(AnsiColor::Yellow),
        Severity::Info => style(AnsiColor::Cyan),
    }
}

/// Appends `label  value` with the label right-aligned, cargo style; continuation lines of
/// `value` are indented under it.
fn field(out: &mut String, label: &str, value: &str) {
    let green = style(AnsiColor::Green);
    let mut lines = value.lines();
    let first = lines.next().unwrap_or("");
    let _ = writeln!(out, "{green}{label:>LABEL_WIDTH$}{green:#}  {first}");
    for line in lines {
        let _ = writeln!(out, "{:LABEL_WIDTH$}  {line}", "");
    }
}

fn count(n: impl ToString) -> String {
    group_thousands(&n.to_string())
}

fn plural(n: impl Into<u128> + Copy, one: &str, many: &str) -> String {
    let word = if n.into() == 1 { one } else { many };
    format!("{} {word}", count(n.into()))
}

/// The whole human-readable report. `quiet` keeps only findings, gates and the verdict;
/// `verbose` adds one line per clip.
fn render_text(plan: &Plan, gates: &[GateResult], quiet: bool, verbose: bool) -> String {
    let mut out = String::new();
    if !quiet {
        summary(&mut out, plan);
        if verbose {
            clip_table(&mut out, plan);
        }
        step_table(&mut out, plan);
    }
    for finding in plan.findings.iter() {
        render_finding(&mut out, finding);
    }
    gate_lines(&mut out, gates);
    verdict(&mut out, plan, gates);
    out
}

fn summary(out: &mut String, plan: &Plan) {
    let bold = Style::new().bold();
    let _ = writeln!(
        out,
        "{bold}Plan for {} in {}{bold:#} (prices as of {PRICES_AS_OF})\n",
        plan.model.name, plan.region
    );

    let s = &plan.samples;
    let samples = match s.validation_source {
        ValidationSource::Given => format!(
            "{}, {} validation (validation set given: no split)",
            plural(s.supplied as u64, "training clip", "training clips"),
            count(s.validation)
        ),
        ValidationSource::AutoSplit => format!(
            "{} → {} training + {} split off for validation (split {}, at most {})",
            plural(s.supplied as u64, "clip", "clips"),
            count(s.training),
            count(s.validation),
            plan.hyper.split,
            plan.hyper.max_split_val_dataset_sample
        ),
    };
    field(out, "Samples", &samples);

    let st = &plan.steps;
    let mut steps = format!(
        "{} × {} = {} (batch_size {})",
        plural(st.per_epoch, "step/epoch", "steps/epoch"),
        plural(st.n_epochs, "epoch", "epochs"),
        plural(st.total, "step", "steps"),
        plan.hyper.batch_size
    );
    match (st.n_epochs_source, st.min_n_epochs) {
        (EpochsSource::Recommended, _) => {
            let eval = match plan.given.eval_epochs {
                None if plan.hyper.eval_epochs != HyperParams::DEFAULT_EVAL_EPOCHS => {
                    format!(" (with eval_epochs {})", plan.hyper.eval_epochs)
                }
                _ => String::new(),
            };
            let _ = write!(
                steps,
                "\nn_epochs not set: {}{eval} is the fewest reaching {} steps; set it in \
                 wanft.toml (the platform would use {})",
                st.n_epochs,
                plan::RECOMMENDED_STEPS,
                HyperParams::DEFAULT_N_EPOCHS
            );
        }
        (_, Some(min)) if st.total < plan::RECOMMENDED_STEPS => {
            let _ = write!(steps, "\nat least {min} epochs reach 800 steps");
        }
        _ => {}
    }
    field(out, "Steps", &steps);

    let cp = &plan.checkpoints;
    let listed = cp.listed();
    let kept: Vec<String> = listed
        .iter()
        .filter(|p| p.kept)
        .map(|p| p.step.to_string())
        .collect();
    let checkpoints = format!(
        "every {} ({}), {} in all, last {} kept (save_total_limit {})\nkept: checkpoint-{}",
        plural(cp.every_epochs, "epoch", "epochs"),
        plural(cp.every_steps, "step", "steps"),
        count(cp.count),
        count(cp.kept),
        cp.save_total_limit,
        kept.join(", ")
    );
    field(out, "Checkpoints", &checkpoints);

    let all = &plan.all_clips;
    field(
        out,
        "Billed",
        &format!(
            "{} s × max_pixels {} / 1024 × {}",
            count(all.billable_seconds),
            count(plan.hyper.max_pixels),
            plural(plan.hyper.n_epochs, "epoch", "epochs")
        ),
    );
    let mut tokens = count(all.tokens);
    if let Some(lower) = &plan.without_split_validation {
        let _ = write!(tokens, " (at least {})", count(lower.tokens));
    }
    field(out, "Tokens", &tokens);
    field(out, "Fee", &fee_lines(plan));
}

/// The fee and its bounds, with the price it uses.
fn fee_lines(plan: &Plan) -> String {
    let Some(price) = plan.price else {
        return format!(
            "unknown: no published price for {} in {}; pass --price AMOUNT",
            plan.model.name, plan.region
        );
    };
    let source = match price.source {
        PriceSource::PriceList => "price list",
        PriceSource::Override => "given",
    };
    let per_1k = format!("at {} per 1K tokens ({source})", price.per_1k_tokens);
    let amount = |e: &plan::Estimate| {
        e.fee
            .map_or_else(|| "too large".to_owned(), |f| f.to_string())
    };
    let mut lines = match &plan.without_split_validation {
        None => format!("{} {per_1k}", amount(&plan.all_clips)),
        Some(lower) => format!(
            "{} {per_1k}: upper bound, every training clip billed\n{} lower bound, if the {} \
             split-off validation clips are not billed (undocumented)",
            amount(&plan.all_clips),
            amount(lower),
            count(plan.samples.split_off())
        ),
    };
    if plan.unknown_durations > 0 {
        let _ = write!(
            lines,
            "\nat least: {} of unknown duration counted as 0 s",
            plural(plan.unknown_durations as u64, "clip", "clips")
        );
    }
    lines
}

fn clip_table(out: &mut String, plan: &Plan) {
    let width = plan
        .clips
        .iter()
        .map(|c| c.path.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let bold = Style::new().bold();
    let _ = writeln!(
        out,
        "\n  {bold}{:<width$}  {:>10}  {:>6}{bold:#}",
        "Clip", "Duration", "Billed"
    );
    for clip in &plan.clips {
        let duration = clip
            .duration_s
            .map_or_else(|| "unknown".to_owned(), |d| format!("{d:.2} s"));
        let billed = clip
            .billable_s
            .map_or_else(|| "—".to_owned(), |s| format!("{s} s"));
        let capped = if clip.capped { "  (capped)" } else { "" };
        let _ = writeln!(
            out,
            "  {:<width$}  {duration:>10}  {billed:>6}{capped}",
            clip.path
        );
    }
}

fn step_table(out: &mut String, plan: &Plan) {
    if plan.table.is_empty() {
        return;
    }
    let rows: Vec<[String; 4]> = plan
        .table
        .iter()
        .map(|r| {
            [
                count(r.total_steps),
                count(r.n_epochs),
                count(r.tokens),
                r.fee
                    .map_or_else(|| "unknown".to_owned(), |f| f.to_string()),
            ]
        })
        .collect();
    let headers = ["Steps", "Epochs", "Tokens", "Fee"];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let bold = Style::new().bold();
    let _ = writeln!(
        out,
        "\n{bold}Cost by run length{bold:#} (every training clip billed)"
    );
    let line = |cells: &[&str]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let _ = writeln!(out, "  {bold}{}{bold:#}", line(&headers));
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let _ = writeln!(out, "  {}", line(&cells));
    }
}

fn render_finding(out: &mut String, f: &Finding) {
    let s = severity_style(f.severity);
    let location = match &f.location.file {
        Some(_) => format!(" {}:", f.location),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "\n{s}{}[{}]{s:#}:{location} {}",
        f.severity, f.rule.code, f.message
    );
    let _ = writeln!(out, "  = hint: {}", f.effective_hint());
}

fn gate_lines(out: &mut String, gates: &[GateResult]) {
    if gates.is_empty() {
        return;
    }
    let _ = writeln!(out);
    for g in gates {
        let (s, word) = match g.status {
            GateStatus::Passed => (style(AnsiColor::Green), "passed"),
            GateStatus::Exceeded => (style(AnsiColor::Red), "exceeded"),
            GateStatus::Undetermined => (style(AnsiColor::Red), "undetermined"),
        };
        let detail = match &g.reason {
            Some(reason) => reason.clone(),
            None => format!("planned {}", g.actual),
        };
        let _ = writeln!(
            out,
            "{s}{:>LABEL_WIDTH$}{s:#}  {} ≤ {}: {word}, {detail}",
            "Gate", g.gate, g.limit
        );
    }
}

fn verdict(out: &mut String, plan: &Plan, gates: &[GateResult]) {
    let f = &plan.findings;
    let failed_gates = gates.iter().filter(|g| g.failed()).count();
    let ok = !f.has_errors() && failed_gates == 0;
    let s = if ok {
        style(AnsiColor::Green)
    } else {
        style(AnsiColor::Red)
    };
    let mut text = format!(
        "{}, {}",
        plural(f.count(Severity::Error) as u64, "error", "errors"),
        plural(f.count(Severity::Warning) as u64, "warning", "warnings")
    );
    if failed_gates > 0 {
        let _ = write!(
            text,
            ", {} failed",
            plural(failed_gates as u64, "gate", "gates")
        );
    }
    let _ = writeln!(
        out,
        "\n{s}{:>LABEL_WIDTH$}{s:#}  {text}",
        if ok { "Ready" } else { "Blocked" }
    );
}
