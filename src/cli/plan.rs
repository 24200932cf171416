//! `wanft plan`: steps, checkpoints, tokens and fee before upload, and budget gates for CI.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use anstyle::{AnsiColor, Style};
use anyhow::{Context as _, Result, anyhow, bail};
use rust_decimal::Decimal;

use super::progress::Bar;
use super::rule_args::{RuleArgs, project_dir};
use super::status::{LABEL_WIDTH, status};
use super::{GlobalArgs, Outcome};
use wanft::config::{self, Config};
use wanft::dataset::Role;
use wanft::hyper::HyperParams;
use wanft::models::{self, ModelProfile, PRICES_AS_OF, Region, TaskType};
use wanft::plan::billing::group_thousands;
use wanft::plan::dataset::{self, DatasetOptions, DatasetSummary, Datasets};
use wanft::plan::json::PlanDocument;
use wanft::plan::{
    self, Clip, EpochsSource, Estimate, GateResult, GateStatus, Gates, Plan, PlanInput,
    PriceSource, Readiness, ValidationSource,
};
use wanft::report::plural;
use wanft::report::text::{self as report_text, TextOptions};
use wanft::rules::{RuleSelection, Severity};

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
    /// Region: cn-beijing (CNY) or ap-southeast-1 (USD) [default: $WANFT_REGION, else `region`
    /// of wanft.toml].
    #[arg(long, value_name = "REGION")]
    pub region: Option<Region>,
    /// Price per 1,000 tokens in the region's currency, replacing the built-in price list.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub price: Option<Decimal>,
    /// Output format (json: the versioned schema of `wanft::plan::json`).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub hyper: HyperArgs,
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
    #[command(flatten)]
    pub rules: RuleArgs,
    /// With --clip-seconds: plan as if a validation set of N samples were given.
    #[arg(
        long,
        value_name = "N",
        requires = "clip_seconds",
        help_heading = "What if"
    )]
    pub validation_samples: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Every hyper-parameter of spec §4 as a flag; reusable by any command that creates a job.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Hyper-parameters (default: wanft.toml, else the model's)")]
pub struct HyperArgs {
    /// Passes over the training set [default: wanft.toml, else the fewest reaching 800 steps,
    /// as `wanft plan` recommends; never the platform's silent default of 400].
    #[arg(long, value_name = "N")]
    pub n_epochs: Option<u32>,
    /// Samples per step (fixed per model).
    #[arg(long, value_name = "N")]
    pub batch_size: Option<u32>,
    /// Step size of training (keep the default 2e-5 unless tested).
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
    /// LoRA capacity; a power of two.
    #[arg(long, value_name = "N")]
    pub lora_rank: Option<u32>,
    /// LoRA update scale; a power of two.
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
    let endpoint = config.endpoint(args.region, None, super::api_args::env_var)?;
    let Some(region) = endpoint.region() else {
        bail!(
            "no region: pass --region cn-beijing|ap-southeast-1, set {} or set `region` in {}",
            config::REGION_ENV,
            config::FILE_NAME
        );
    };
    let hyper = config
        .hyper_parameters
        .overridden_by(&args.hyper.to_params());
    let bar = Bar::new(!global.quiet && args.format == Format::Text);
    let selection = args.rules.selection(&config)?;
    let project = project_dir(&config, &cwd);
    let rules = selection.clone().map(|s| (s, project.as_path()));
    let datasets = read_datasets(args, &config, model, &hyper, rules, &bar)?;
    let input = PlanInput {
        model,
        region,
        hyper,
        training: datasets.training,
        validation_count: datasets.validation_count,
        price_override: args.price.or(config.plan.price),
    };
    let gates = Gates {
        max_cost: args.max_cost.or(config.plan.max_cost),
        max_steps: args.max_steps.or(config.plan.max_steps),
    };

    let mut plan = plan::estimate(&input);
    if let Some(selection) = selection {
        // The `H` findings follow the rule configuration too.
        plan.findings = plan.findings.rejudged(selection, None);
    }
    let gate_results = gates.evaluate(&plan);
    let readiness = Readiness::of(&plan, &gate_results, &datasets.summaries);
    let mut out = anstream::stdout().lock();
    match args.format {
        Format::Json => {
            let document = PlanDocument::new(&plan, &gate_results, &datasets.summaries);
            serde_json::to_writer_pretty(&mut out, &document)?;
            writeln!(out)?;
        }
        Format::Text => {
            let options = TextOptions {
                verbose: global.verbose > 0,
                quiet: global.quiet,
            };
            write_text(
                &mut out,
                &plan,
                &gate_results,
                &datasets.summaries,
                readiness,
                options,
            )?;
        }
    }
    out.flush()?;
    Ok(if readiness.ok() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

/// The training clips and the validation set size: from `--clip-seconds`, else the datasets
/// (flags first, then `[dataset]` of wanft.toml).
fn read_datasets(
    args: &PlanArgs,
    config: &Config,
    model: &'static ModelProfile,
    hyper: &HyperParams,
    rules: Option<(Arc<RuleSelection>, &Path)>,
    bar: &Bar,
) -> Result<Datasets> {
    if !args.clip_seconds.is_empty() {
        let training = args
            .clip_seconds
            .iter()
            .enumerate()
            .map(|(i, &s)| Clip {
                path: format!("clip-{}", i + 1),
                duration_s: Some(s),
            })
            .collect();
        return Ok(Datasets {
            training,
            validation_count: args.validation_samples,
            summaries: Vec::new(),
        });
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
    if training.is_empty() {
        bail!(
            "nothing to plan: give a DATASET, set `[dataset] training` in {}, or pass \
             --clip-seconds 3.4,6.5,…",
            config::FILE_NAME
        );
    }
    let resolved = hyper.resolve(model);
    let options = DatasetOptions {
        model,
        task: config.dataset.mode.or(hyper.task_type),
        trigger: config.dataset.trigger.clone(),
        hyper: &resolved,
        rules,
        progress: bar,
    };
    dataset::read(&training, &validation, &options).context("cannot read the dataset")
}

// ---------------------------------------------------------------------------------------------
// Text report

fn bold(color: AnsiColor) -> Style {
    Style::new().bold().fg_color(Some(color.into()))
}

const BOLD: Style = Style::new().bold();

/// `label  value` in the green of cargo's status lines.
fn field(out: &mut dyn Write, label: &str, value: &str) -> io::Result<()> {
    status(out, label, bold(AnsiColor::Green), value)
}

/// `value` as a `usize` for [`plural`]; counts beyond it only arise from absurd inputs.
fn as_count(value: impl TryInto<usize>) -> usize {
    value.try_into().unwrap_or(usize::MAX)
}

/// The human-readable report: the plan (unless quiet), clips (when verbose), the cost table,
/// findings (the datasets' errors too), gates and the verdict.
fn write_text(
    out: &mut dyn Write,
    plan: &Plan,
    gates: &[GateResult],
    datasets: &[DatasetSummary],
    readiness: Readiness,
    options: TextOptions,
) -> io::Result<()> {
    if !options.quiet {
        write_summary(out, plan, datasets)?;
        if options.verbose {
            write_clips(out, plan)?;
        }
        write_step_table(out, plan)?;
        writeln!(out)?;
    }
    report_text::write_findings(out, &plan.findings, options)?;
    for d in datasets.iter().filter(|d| d.errors > 0) {
        let mut errors = wanft::rules::Findings::new();
        errors.extend(
            d.findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .cloned(),
        );
        errors.finish();
        writeln!(out, "{} ({}):", d.path.display(), role_name(d.role))?;
        report_text::write_findings(
            out,
            &errors,
            TextOptions {
                quiet: true,
                ..options
            },
        )?;
    }
    write_gates(out, gates)?;
    write_verdict(out, readiness)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Training => "training",
        Role::Validation => "validation",
    }
}

fn write_summary(out: &mut dyn Write, plan: &Plan, datasets: &[DatasetSummary]) -> io::Result<()> {
    writeln!(
        out,
        "{BOLD}Plan for {} in {}{BOLD:#} (prices as of {PRICES_AS_OF})\n",
        plan.model.name, plan.region
    )?;
    for d in datasets {
        let role = role_name(d.role);
        let mut line = format!(
            "{} ({role}): {}",
            d.path.display(),
            plural(d.samples, "sample", "samples")
        );
        if d.errors + d.warnings > 0 {
            line = format!(
                "{line}, {}, {}; `wanft check {}` lists them",
                plural(d.errors, "error", "errors"),
                plural(d.warnings, "warning", "warnings"),
                d.path.display()
            );
        }
        field(out, "Dataset", &line)?;
    }
    field(out, "Samples", &samples_line(plan))?;
    field(out, "Steps", &steps_lines(plan))?;
    field(out, "Checkpoints", &checkpoint_lines(plan))?;
    let all = &plan.all_clips;
    field(
        out,
        "Billed",
        &format!(
            "{} s × max_pixels {} / 1024 × {}",
            group_thousands(&all.billable_seconds.to_string()),
            plan.hyper.max_pixels,
            plural(as_count(plan.hyper.n_epochs), "epoch", "epochs")
        ),
    )?;
    let mut tokens = group_thousands(&all.tokens.to_string());
    if let Some(lower) = &plan.without_split_validation {
        tokens = format!(
            "{tokens} (at least {})",
            group_thousands(&lower.tokens.to_string())
        );
    }
    field(out, "Tokens", &tokens)?;
    field(out, "Fee", &fee_lines(plan))
}

fn samples_line(plan: &Plan) -> String {
    let s = &plan.samples;
    match s.validation_source {
        ValidationSource::Given => format!(
            "{}, {} validation (validation set given: no split)",
            plural(s.supplied, "training clip", "training clips"),
            s.validation
        ),
        ValidationSource::AutoSplit => format!(
            "{} → {} training + {} split off for validation (split {}, at most {})",
            plural(s.supplied, "clip", "clips"),
            s.training,
            s.validation,
            plan.hyper.split,
            plan.hyper.max_split_val_dataset_sample
        ),
    }
}

fn steps_lines(plan: &Plan) -> String {
    let st = &plan.steps;
    let mut lines = format!(
        "{} × {} = {} (batch_size {})",
        plural(as_count(st.per_epoch), "step/epoch", "steps/epoch"),
        plural(as_count(st.n_epochs), "epoch", "epochs"),
        plural(as_count(st.total), "step", "steps"),
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
            lines.push_str(&format!(
                "\nn_epochs not set: {}{eval} is the fewest reaching {} steps; set it in \
                 {} (the platform would use {})",
                st.n_epochs,
                plan::RECOMMENDED_STEPS,
                config::FILE_NAME,
                HyperParams::DEFAULT_N_EPOCHS
            ));
        }
        (_, Some(min)) if st.total < plan::RECOMMENDED_STEPS => {
            lines.push_str(&format!(
                "\nat least {min} epochs reach {} steps",
                plan::RECOMMENDED_STEPS
            ));
        }
        _ => {}
    }
    lines
}

fn checkpoint_lines(plan: &Plan) -> String {
    let cp = &plan.checkpoints;
    let kept: Vec<String> = cp
        .listed()
        .iter()
        .filter(|p| p.kept)
        .map(|p| p.step.to_string())
        .collect();
    format!(
        "every {} ({}), {} in all, the last {} kept (save_total_limit {})\nkept: \
         checkpoint-{}",
        plural(as_count(cp.every_epochs), "epoch", "epochs"),
        plural(as_count(cp.every_steps), "step", "steps"),
        cp.count,
        cp.kept,
        cp.save_total_limit,
        kept.join(", ")
    )
}

/// The fee, its bounds and the price it uses.
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
    let amount = |e: &Estimate| {
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
            plan.samples.split_off()
        ),
    };
    if plan.unknown_durations > 0 {
        lines.push_str(&format!(
            "\nat least: {} of unknown duration counted as 0 s",
            plural(plan.unknown_durations, "clip", "clips")
        ));
    }
    lines
}

fn write_clips(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    let width = plan
        .clips
        .iter()
        .map(|c| c.path.chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    writeln!(
        out,
        "\n  {BOLD}{:<width$}  {:>10}  {:>6}{BOLD:#}",
        "Clip", "Duration", "Billed"
    )?;
    for clip in &plan.clips {
        let duration = clip
            .duration_s
            .map_or_else(|| "unknown".to_owned(), |d| format!("{d:.2} s"));
        let billed = clip
            .billable_s
            .map_or_else(|| "—".to_owned(), |s| format!("{s} s"));
        let capped = if clip.capped { "  (capped)" } else { "" };
        writeln!(
            out,
            "  {:<width$}  {duration:>10}  {billed:>6}{capped}",
            clip.path
        )?;
    }
    Ok(())
}

/// Tokens and fee at 800, 1000 and 2000 steps, right-aligned columns.
fn write_step_table(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    if plan.table.is_empty() {
        return Ok(());
    }
    let headers = ["Steps", "Epochs", "Tokens", "Fee"];
    let rows: Vec<[String; 4]> = plan
        .table
        .iter()
        .map(|r| {
            [
                group_thousands(&r.total_steps.to_string()),
                group_thousands(&r.n_epochs.to_string()),
                group_thousands(&r.tokens.to_string()),
                r.fee
                    .map_or_else(|| "unknown".to_owned(), |f| f.to_string()),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| -> String {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:>width$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(
        out,
        "\n{BOLD}Cost by run length{BOLD:#} (every training clip billed)"
    )?;
    writeln!(out, "  {BOLD}{}{BOLD:#}", line(&headers))?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "  {}", line(&cells))?;
    }
    Ok(())
}

fn write_gates(out: &mut dyn Write, gates: &[GateResult]) -> io::Result<()> {
    for g in gates {
        let (style, word) = match g.status {
            GateStatus::Passed => (bold(AnsiColor::Green), "passed"),
            GateStatus::Exceeded => (bold(AnsiColor::Red), "exceeded"),
            GateStatus::Undetermined => (bold(AnsiColor::Red), "undetermined"),
        };
        let detail = match &g.reason {
            Some(reason) => reason.clone(),
            None => format!("planned {}", g.actual),
        };
        writeln!(
            out,
            "{style}{:>LABEL_WIDTH$}{style:#}  {} ≤ {}: {word}, {detail}",
            "Gate", g.gate, g.limit
        )?;
    }
    Ok(())
}

/// `Ready` or `Not ready`, with every error (plan and datasets), warning and failed gate.
fn write_verdict(out: &mut dyn Write, readiness: Readiness) -> io::Result<()> {
    let (style, word) = if readiness.ok() {
        (bold(AnsiColor::Green), "Ready")
    } else {
        (bold(AnsiColor::Red), "Not ready")
    };
    let in_datasets = match readiness.dataset_errors {
        0 => String::new(),
        n => format!(" ({n} in the datasets: the platform would reject them)"),
    };
    let mut text = format!(
        "{}{in_datasets}, {}",
        plural(readiness.errors(), "error", "errors"),
        plural(readiness.warnings, "warning", "warnings")
    );
    if readiness.gates_failed > 0 {
        text = format!(
            "{text}, {} failed",
            plural(readiness.gates_failed, "gate", "gates")
        );
    }
    writeln!(out, "{style}{word:>LABEL_WIDTH$}{style:#}  {text}")
}
