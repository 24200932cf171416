//! `wanft upload`: check a dataset zip, then upload it once (streamed, resumable by retry,
//! remembered in the ledger).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::sync::atomic::AtomicBool;

use anyhow::{Context as _, Result};
use serde_json::json;

use super::api_args::{ApiArgs, Session, parse_duration};
use super::progress::Bar;
use super::rule_args::{RuleArgs, project_dir};
use super::{GlobalArgs, Outcome};
use wanft::api::ledger::Ledger;
use wanft::api::upload::{UploadReport, ZipUpload, upload_zip};
use wanft::check::{self, CheckOptions};
use wanft::config::Config;
use wanft::dataset::{Mode, ModeChoice, Role};
use wanft::models::{self, ModelProfile};
use wanft::pack::PackOptions;
use wanft::pack::cached::{Cached, pack_into_cache};
use wanft::report::{self, human_bytes, text::TextOptions};
use wanft::rules::RuleSelection;
use wanft::rules::selection::relative_label;

#[derive(Debug, clap::Args)]
pub struct UploadArgs {
    /// Dataset zip to upload, or a dataset folder (packed first, into wanft's cache).
    pub path: PathBuf,
    /// Upload even when the ledger shows this zip is already on the server.
    #[arg(long)]
    pub force: bool,
    /// Abandon (and retry) an attempt when no byte is accepted for this long.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub stall_timeout: Duration,
    /// Model whose rules the zip is checked against [default: `model` of wanft.toml, else
    /// wan2.5-i2v-preview].
    #[arg(long, value_name = "MODEL", value_parser = models::lookup)]
    pub model: Option<&'static ModelProfile>,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// The rule configuration the dataset is checked under, and the name per-path ignores and the
/// baseline know it by (the path as given, relative to the project).
struct Rules {
    selection: Option<Arc<RuleSelection>>,
    label: String,
}

/// The zip to upload for `path`: the zip itself, or for a folder the zip `pack` makes of it in
/// wanft's cache (`packed/`), with the project's settings; `None` when the folder is refused
/// (the reasons are printed on stderr, stdout stays for the file id).
fn zip_for_upload(
    path: &Path,
    model: &'static ModelProfile,
    config: &Config,
    rules: &Rules,
    global: &GlobalArgs,
) -> Result<Option<PathBuf>> {
    if !path.is_dir() {
        return Ok(Some(path.to_owned()));
    }
    let bar = Bar::new(!global.quiet);
    let cancel = AtomicBool::new(false);
    let hyper = config.hyper_parameters.resolve(model);
    let options = PackOptions {
        check: CheckOptions {
            mode: config.dataset.mode.map(|task| {
                ModeChoice::Exact(Mode {
                    task,
                    role: role_in(config, path),
                })
            }),
            trigger: config.dataset.trigger.clone(),
            validation_given: !config.dataset.validation.is_empty(),
            rules: rules.selection.clone(),
            dataset_label: Some(rules.label.clone()),
            progress: &bar,
            ..CheckOptions::for_job(model, &hyper)
        },
        fix: None,
        cancel: &cancel,
    };
    let packed = match pack_into_cache(path, wanft::cache::dir().as_deref(), &options)? {
        Cached::Packed(packed) => packed,
        Cached::Refused(prepared) => {
            let refusal = prepared.refusal.as_ref();
            let mut err = anstream::stderr().lock();
            let shown = TextOptions {
                verbose: global.verbose > 0,
                quiet: true,
            };
            report::text::write_findings(&mut err, &prepared.triage.shown, shown)?;
            let why = match (
                refusal.and_then(|r| r.over_budget.as_ref()),
                refusal.map_or(0, |r| r.errors),
            ) {
                (Some(over), 0) => format!("the zip would be {} bytes, over the limit", over.size),
                (_, errors) => format!(
                    "{} the platform would reject",
                    report::plural(errors, "error", "errors")
                ),
            };
            anstream::eprintln!(
                "refusing to upload {}: {why} (`wanft pack {}` shows the whole report)",
                path.display(),
                path.display()
            );
            return Ok(None);
        }
    };
    if !global.quiet {
        anstream::eprintln!(
            "packed {} into {} ({})",
            path.display(),
            packed.path.display(),
            human_bytes(packed.manifest.archive.size)
        );
    }
    Ok(Some(packed.path))
}

/// Validation when wanft.toml names `path` as a validation set, else training.
fn role_in(config: &Config, path: &Path) -> Role {
    let here = path.canonicalize().ok();
    let named = config
        .dataset
        .validation
        .iter()
        .any(|v| v.canonicalize().ok() == here);
    if named {
        Role::Validation
    } else {
        Role::Training
    }
}

pub fn run(args: &UploadArgs, global: &GlobalArgs) -> Result<Outcome> {
    let session = args.api.connect(global)?;
    let model = match args.model.or(session.config.model) {
        Some(model) => model,
        None => models::lookup(models::DEFAULT_MODEL).map_err(anyhow::Error::msg)?,
    };
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    let rules = Rules {
        selection: args.rules.selection(&session.config)?,
        label: relative_label(&args.path, &project_dir(&session.config, &cwd)),
    };
    // An upload only pays off if a job can be created from it.
    session.ensure_job_quota()?;
    let Some(zip) = zip_for_upload(&args.path, model, &session.config, &rules, global)? else {
        return Ok(Outcome::Failed);
    };
    if !passes_checks(&session, model, &zip, &rules, global)? {
        return Ok(Outcome::Failed);
    }
    let mut ledger = match Ledger::default_path() {
        Some(path) => {
            let (ledger, warning) = Ledger::open(&path);
            if let Some(warning) = warning {
                session.note(&warning);
            }
            Some(ledger)
        }
        None => {
            session.note("no cache folder: uploads are not remembered (set WANFT_CACHE_DIR)");
            None
        }
    };
    let bar = Bar::bytes(!global.quiet);
    let started = Instant::now();
    let report = session.block_on(upload_zip(
        &session.client,
        ZipUpload {
            path: &zip,
            force: args.force,
            ledger: ledger.as_mut(),
            stall_timeout: args.stall_timeout,
            progress: &bar,
        },
    ))?;
    for note in &report.notes {
        session.note(note);
    }
    print_report(&session, &report, started.elapsed())?;
    Ok(Outcome::Clean)
}

/// Runs `wanft check` on the zip; prints errors and warnings (infos with -v) on stderr.
/// Returns false, after saying so, when the platform would reject the dataset.
fn passes_checks(
    session: &Session,
    model: &'static ModelProfile,
    zip: &Path,
    rules: &Rules,
    global: &GlobalArgs,
) -> Result<bool> {
    let config = &session.config;
    let bar = Bar::new(!global.quiet);
    let mut options = CheckOptions::new(model);
    options.trigger = config.dataset.trigger.clone();
    options.max_pixels = config.hyper_parameters.max_pixels.map(u64::from);
    options.progress = &bar;
    options.rules = rules.selection.clone();
    options.dataset_label = Some(rules.label.clone());
    let checked = check::run(zip, &options)?;
    let errors = checked.summary.errors;
    let shown = TextOptions {
        verbose: global.verbose > 0,
        quiet: global.verbose == 0,
    };
    let worth_showing = errors > 0 || !global.quiet;
    if worth_showing && !checked.findings.is_empty() {
        let mut err = anstream::stderr().lock();
        report::text::write_findings(&mut err, &checked.findings, shown)?;
    }
    if errors > 0 {
        anstream::eprintln!(
            "refusing to upload {}: {} the platform would reject (see above; `wanft check` explains)",
            zip.display(),
            report::plural(errors, "error", "errors")
        );
        return Ok(false);
    }
    Ok(true)
}

fn print_report(session: &Session, report: &UploadReport, took: Duration) -> Result<()> {
    if session.json() {
        return session.print_json(json!({
            "id": report.id,
            "file_name": report.file_name,
            "bytes": report.bytes,
            "sha256": report.sha256,
            "reused": report.reused,
            "base_url": report.base_url,
            "digest_source": report.digest_source,
        }));
    }
    let size = human_bytes(report.bytes);
    if report.reused {
        session.status(&format!(
            "{} ({size}) is already uploaded to {} as {}; --force uploads it again",
            report.file_name, report.region, report.id
        ));
    } else {
        let seconds = took.as_secs_f64().max(1e-3);
        session.status(&format!(
            "uploaded {} ({size}, {}/s) to {} as {}",
            report.file_name,
            human_bytes((report.bytes as f64 / seconds) as u64),
            report.region,
            report.id
        ));
    }
    // The id alone on stdout, for `ID=$(wanft upload …)`.
    session.print_lines(std::slice::from_ref(&report.id))
}
