//! `wanft jobs`: create, list, inspect, follow, wait for, cancel and delete fine-tuning jobs.

use std::time::Duration;

use anyhow::{Result, bail};
use rust_decimal::Decimal;
use serde_json::json;

use super::api_args::{ApiArgs, Session, fields, or_dash, parse_duration, thousands};
use super::consent::{self, ConsentArgs};
use super::plan::HyperArgs;
use super::progress::Bar;
use super::{GlobalArgs, Outcome};
use wanft::api::failure::{FailureReason, failure_reason};
use wanft::api::jobs::{self, Job, JobQuery, JobStatus, LogCursor, NewJob};
use wanft::api::ledger::Ledger;
use wanft::models::{self, ModelProfile};
use wanft::report::text::{self as report_text, TextOptions};
use wanft::rules::{self, Findings};
use wanft::run::origin;
use wanft::spend::{self, EpochsOrigin};

#[derive(Debug, clap::Args)]
pub struct JobsArgs {
    #[command(subcommand)]
    pub command: JobsCommand,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// Create a fine-tuning job from uploaded files.
    Create(Box<CreateArgs>),
    /// List jobs, newest first.
    List {
        /// Only jobs of this base model.
        #[arg(long, value_name = "MODEL")]
        model: Option<String>,
        #[arg(long, value_name = "N", default_value_t = 1)]
        page: u32,
        #[arg(long, value_name = "N", default_value_t = 10)]
        page_size: u32,
    },
    /// Show a job.
    Get { job_id: String },
    /// Print a job's log.
    Logs {
        job_id: String,
        /// Keep printing new lines until the job ends.
        #[arg(long)]
        follow: bool,
        /// Time between two looks with --follow.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
        interval: Duration,
    },
    /// Wait until a job ends: exit 0 when it succeeded, 1 when it failed or was cancelled.
    Wait {
        job_id: String,
        /// Longest time between two looks (they start at 0.5 s and slow down as the wait goes
        /// on; training takes hours).
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
        interval: Duration,
    },
    /// Cancel a job (the tokens consumed so far are billed).
    Cancel { job_id: String },
    /// Delete a finished job.
    Delete { job_id: String },
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Training zip(s), by file id.
    #[arg(long, value_name = "FILE_ID", num_args = 1.., required = true)]
    pub training: Vec<String>,
    /// Validation zip(s), by file id; giving one disables the automatic split.
    #[arg(long, value_name = "FILE_ID", num_args = 1..)]
    pub validation: Vec<String>,
    /// Base model [default: `model` of wanft.toml, else wan2.5-i2v-preview].
    #[arg(long, value_name = "MODEL", value_parser = models::lookup)]
    pub model: Option<&'static ModelProfile>,
    /// Job name [default: a fresh unique name, which lets a create whose answer was lost find
    /// its own job]. Give concurrent creates distinct names.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Name of the resulting model (the platform's `model_name`).
    #[arg(long, value_name = "NAME")]
    pub model_name: Option<String>,
    #[command(flatten)]
    pub hyper: HyperArgs,
    /// Price per 1,000 tokens in the region's currency, replacing the built-in price list.
    #[arg(long, value_name = "AMOUNT", help_heading = "Consent")]
    pub price: Option<Decimal>,
    /// Refuse when the fee can exceed AMOUNT; without a terminal, a fee within it is consent.
    #[arg(long, value_name = "AMOUNT", help_heading = "Consent")]
    pub max_cost: Option<Decimal>,
    #[command(flatten)]
    pub consent: ConsentArgs,
}

pub fn run(args: &JobsArgs, global: &GlobalArgs) -> Result<Outcome> {
    let session = args.api.connect(global)?;
    let client = &session.client;
    match &args.command {
        JobsCommand::Create(create) => return run_create(&session, create, global),
        JobsCommand::List {
            model,
            page,
            page_size,
        } => {
            let query = JobQuery {
                model: model.clone(),
                page_no: *page,
                page_size: *page_size,
            };
            let listing = session.block_on(jobs::list_jobs(client, &query))?;
            if session.json() {
                session.print_json(json!(listing))?;
            } else {
                let lines: Vec<String> = listing.jobs.iter().map(job_line).collect();
                session.print_lines(&lines)?;
                let total = listing.total.unwrap_or(listing.jobs.len() as u64);
                session.status(&format!(
                    "page {} · {} of {total} jobs in {}",
                    query.page_no.max(1),
                    listing.jobs.len(),
                    session.region()
                ));
            }
        }
        JobsCommand::Get { job_id } => {
            let job = session.block_on(jobs::get_job(client, job_id))?;
            let failure = failure_of(&session, &job)?;
            print_job(&session, &job, failure.as_ref())?;
        }
        JobsCommand::Logs {
            job_id,
            follow,
            interval,
        } => logs(&session, job_id, *follow, *interval)?,
        JobsCommand::Wait { job_id, interval } => return wait(&session, job_id, *interval),
        JobsCommand::Cancel { job_id } => {
            session.block_on(jobs::cancel_job(client, job_id))?;
            done(&session, job_id, "cancel requested")?;
        }
        JobsCommand::Delete { job_id } => {
            session.block_on(jobs::delete_job(client, job_id))?;
            done(&session, job_id, "deleted")?;
        }
    }
    Ok(Outcome::Clean)
}

fn done(session: &Session, job_id: &str, what: &str) -> Result<()> {
    if session.json() {
        session.print_json(json!({ "job_id": job_id, "result": what }))
    } else {
        session.print_lines(&[format!("{what}: {job_id} ({})", session.region())])
    }
}

/// Plans the job (`n_epochs` always explicit: the flag, else wanft.toml, else the plan's
/// recommendation for the datasets behind the file ids), checks the hyper-parameters with the
/// `H` rules, states the fee, asks for consent, then creates the job.
fn run_create(session: &Session, args: &CreateArgs, global: &GlobalArgs) -> Result<Outcome> {
    let config = &session.config;
    let model = match args.model.or(config.model) {
        Some(model) => model,
        None => models::lookup(models::DEFAULT_MODEL).map_err(anyhow::Error::msg)?,
    };
    let given = args.hyper.to_params();
    let mut hyper = config.hyper_parameters.overridden_by(&given);
    let origin = match (given.n_epochs, config.hyper_parameters.n_epochs) {
        (Some(_), _) => Some(EpochsOrigin::Flag),
        (None, Some(_)) => Some(EpochsOrigin::ProjectFile),
        (None, None) => None,
    };
    let ledger = Ledger::default_path().map(|path| Ledger::open(&path).0);
    let price = args.price.or(config.plan.price);
    let planned = match &ledger {
        Some(ledger) => {
            let bar = Bar::new(!global.quiet);
            let base_url = session.client.base_url();
            origin::plan_uploads(&origin::Uploads {
                ledger,
                training: &args.training,
                validation: &args.validation,
                region: session.region(),
                base_url: &base_url,
                model,
                hyper: &hyper,
                price,
                progress: &bar,
            })
            .map_err(|e| e.to_string())
        }
        None => Err("no cache folder holds an upload ledger (set WANFT_CACHE_DIR)".to_owned()),
    };
    let spending = match (&planned, origin) {
        (Ok(plan), _) => {
            hyper = plan.job_hyper_parameters();
            spend::job(plan, origin.unwrap_or(EpochsOrigin::Plan))
        }
        (Err(why), Some(_)) => spend::job_unplanned(&hyper, why),
        (Err(why), None) => bail!(
            "cannot plan n_epochs: {why}; pass --n-epochs N (`wanft plan DATASET` recommends \
             one), or create the job with `{}`, which plans it from the dataset folder",
            session.command("run")
        ),
    };
    let mut findings = Findings::new();
    findings.extend(rules::hyper::check(
        model,
        session.region(),
        &hyper,
        !args.validation.is_empty(),
    ));
    findings.finish();
    if !findings.is_empty() && !global.quiet {
        let shown = TextOptions {
            verbose: global.verbose > 0,
            quiet: global.verbose == 0,
        };
        report_text::write_findings(&mut anstream::stderr().lock(), &findings, shown)?;
    }
    if findings.has_errors() {
        anstream::eprintln!("refusing to create the job: its hyper-parameters would be rejected");
        return Ok(Outcome::Failed);
    }
    // The quota is checked before the question: no point agreeing to a job that cannot start.
    session.ensure_job_quota()?;
    if !consent::obtain(&spending, args.consent.yes, args.max_cost, global.quiet) {
        return Ok(Outcome::Failed);
    }
    let new_job = NewJob {
        model,
        training_file_ids: args.training.clone(),
        validation_file_ids: args.validation.clone(),
        hyper_parameters: hyper,
        job_name: args.name.clone(),
        model_name: args.model_name.clone(),
    };
    let job = session.block_on(jobs::create_job(&session.client, &new_job))?;
    if global.quiet && !session.json() {
        // The id alone, for `JOB=$(wanft jobs create … --quiet)`.
        return session
            .print_lines(std::slice::from_ref(&job.job_id))
            .map(|()| Outcome::Clean);
    }
    print_job(session, &job, None)?;
    session.status(&format!(
        "training runs for hours: follow it with `{}` or `{}`",
        session.command(&format!("jobs wait {}", job.job_id)),
        session.command(&format!("jobs logs {} --follow", job.job_id))
    ));
    Ok(Outcome::Clean)
}

/// Prints the log, every line once: read page by page, and with `--follow` from where the
/// last look stopped until the job ends.
fn logs(session: &Session, job_id: &str, follow: bool, interval: Duration) -> Result<()> {
    let client = &session.client;
    if session.json() && !follow {
        let logs = session.block_on(jobs::job_logs(client, job_id))?;
        return session
            .print_json(json!({ "job_id": job_id, "total": logs.total, "logs": logs.logs }));
    }
    let mut cursor = LogCursor::new(job_id);
    loop {
        let ended = follow
            && session
                .block_on(jobs::get_job(client, job_id))?
                .status
                .is_terminal();
        // Read after the status, so that the last lines of an ended job are not missed.
        let fresh = session.block_on(cursor.next_lines(client))?;
        for line in &fresh {
            if session.json() {
                session.print_lines(&[json!({ "job_id": job_id, "line": line }).to_string()])?;
            } else {
                session.print_lines(std::slice::from_ref(line))?;
            }
        }
        if !follow || ended {
            return Ok(());
        }
        session.pause(interval);
    }
}

/// Polls until the job ends, printing each status change.
fn wait(session: &Session, job_id: &str, interval: Duration) -> Result<Outcome> {
    let job = session.wait_for(
        job_id,
        interval,
        || Ok(session.block_on(jobs::get_job(&session.client, job_id))?),
        |job| (job.status.clone(), usage_suffix(job)),
        JobStatus::is_terminal,
    )?;
    let failure = failure_of(session, &job)?;
    if session.json() {
        session.print_json(json!({ "job": job, "failure": failure.as_ref().map(failure_json) }))?;
    } else if let Some(failure) = &failure {
        session.print_lines(&failure_lines(session, &job, failure))?;
    } else if let Some(output) = &job.finetuned_output
        && job.status == JobStatus::Succeeded
    {
        session.print_lines(&[format!(
            "model {output} is ready: `{}`, `{}`",
            session.command(&format!("checkpoints list {job_id}")),
            session.command(&format!("deploy create {output}"))
        )])?;
    }
    Ok(match job.status {
        JobStatus::Succeeded => Outcome::Clean,
        _ => Outcome::Failed,
    })
}

fn usage_suffix(job: &Job) -> String {
    job.usage
        .map(|u| format!("  {} tokens", thousands(u)))
        .unwrap_or_default()
}

fn job_line(job: &Job) -> String {
    format!(
        "{}  {:<9}  {}  {}{}",
        job.job_id,
        job.status.as_str(),
        or_dash(job.model.as_deref()),
        or_dash(job.create_time.as_deref()),
        usage_suffix(job),
    )
}

/// Why a FAILED job failed, from its log; `None` for any other job.
fn failure_of(session: &Session, job: &Job) -> Result<Option<FailureReason>> {
    if job.status != JobStatus::Failed {
        return Ok(None);
    }
    let logs = session.block_on(jobs::job_logs(&session.client, &job.job_id))?;
    Ok(Some(failure_reason(&logs.logs)))
}

fn failure_json(failure: &FailureReason) -> serde_json::Value {
    let rules: Vec<&str> = failure.rules.iter().map(|r| r.code).collect();
    json!({ "lines": failure.lines, "rules": rules })
}

/// The reason of a failure as text: the log's error lines, then what to do.
fn failure_lines(session: &Session, job: &Job, failure: &FailureReason) -> Vec<String> {
    if failure.is_empty() {
        return vec![format!(
            "job {} FAILED without an error line in its log: `{}` shows all of it",
            job.job_id,
            session.command(&format!("jobs logs {}", job.job_id))
        )];
    }
    let mut lines = vec![format!(
        "job {} FAILED (failed jobs are not billed):",
        job.job_id
    )];
    lines.extend(failure.lines.iter().map(|l| format!("  {l}")));
    for rule in &failure.rules {
        lines.push(format!(
            "  {} {}: `wanft explain {}`; `wanft check` finds it before uploading",
            rule.code, rule.name, rule.code
        ));
    }
    lines
}

fn print_job(session: &Session, job: &Job, failure: Option<&FailureReason>) -> Result<()> {
    if session.json() {
        return session.print_json(json!({ "job": job, "failure": failure.map(failure_json) }));
    }
    let ids = |ids: &[String]| match ids {
        [] => "-".to_owned(),
        ids => ids.join(", "),
    };
    let hyper = serde_json::to_value(&job.hyper_parameters)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .map(|map| {
            map.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let mut rows = Vec::new();
    if let Some(name) = job.job_name.as_deref().filter(|n| *n != job.job_id) {
        rows.push(("name", name.to_owned()));
    }
    rows.extend([
        ("model", or_dash(job.model.as_deref()).to_owned()),
        (
            "output",
            or_dash(job.finetuned_output.as_deref()).to_owned(),
        ),
        ("created", or_dash(job.create_time.as_deref()).to_owned()),
        ("training", ids(&job.training_file_ids)),
        ("validation", ids(&job.validation_file_ids)),
        ("hyper", hyper),
    ]);
    if let Some(name) = &job.model_name {
        rows.push(("model name", name.clone()));
    }
    if let Some(end) = &job.end_time {
        rows.push(("ended", end.clone()));
    }
    if let Some(kept) = job.output_cnt {
        let limit = job
            .max_output_cnt
            .map(|m| format!(" of at most {m}"))
            .unwrap_or_default();
        rows.push(("checkpoints", format!("{kept} kept{limit}")));
    }
    if let Some(usage) = job.usage {
        rows.push(("usage", format!("{} tokens", thousands(usage))));
    }
    let mut lines = vec![format!(
        "job {}  {}  ({})",
        job.job_id,
        job.status,
        session.region()
    )];
    lines.extend(fields(&rows));
    if let Some(failure) = failure {
        lines.extend(failure_lines(session, job, failure));
    }
    session.print_lines(&lines)
}
