//! `wanft jobs`: create, list, inspect, follow, wait for, cancel and delete fine-tuning jobs.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use super::api_args::{ApiArgs, Session, fields, or_dash, parse_duration, thousands};
use super::plan::HyperArgs;
use super::{GlobalArgs, Outcome};
use wanft::api::jobs::{self, Job, JobQuery, JobStatus, LogCursor, NewJob};
use wanft::models::{self, ModelProfile};
use wanft::report::text::{self as report_text, TextOptions};
use wanft::rules::{self, Findings};

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
        /// Time between two looks (training takes hours).
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
            print_job(&session, &job)?;
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

/// Checks the hyper-parameters with the `H` rules, then creates the job.
fn run_create(session: &Session, args: &CreateArgs, global: &GlobalArgs) -> Result<Outcome> {
    let config = &session.config;
    let model = match args.model.or(config.model) {
        Some(model) => model,
        None => models::lookup(models::DEFAULT_MODEL).map_err(anyhow::Error::msg)?,
    };
    let hyper = config
        .hyper_parameters
        .overridden_by(&args.hyper.to_params());
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
    session.ensure_job_quota()?;
    let new_job = NewJob {
        model,
        training_file_ids: args.training.clone(),
        validation_file_ids: args.validation.clone(),
        hyper_parameters: hyper,
        job_name: args.name.clone(),
        model_name: args.model_name.clone(),
    };
    let job = session.block_on(jobs::create_job(&session.client, &new_job))?;
    print_job(session, &job)?;
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
    if session.json() {
        session.print_json(json!({ "job": job }))?;
    } else if let Some(output) = &job.finetuned_output
        && job.status == JobStatus::Succeeded
    {
        session.print_lines(&[format!(
            "model {output} is ready: `wanft checkpoints list {job_id}`, `wanft deploy create {output}`"
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

fn print_job(session: &Session, job: &Job) -> Result<()> {
    if session.json() {
        return session.print_json(json!({ "job": job }));
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
    session.print_lines(&lines)
}
