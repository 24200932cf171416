//! `wanft upload`: check a dataset zip, then upload it once (streamed, resumable by retry,
//! remembered in the ledger).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::json;

use super::api_args::{ApiArgs, Session, parse_duration};
use super::progress::Bar;
use super::transfer::ByteBar;
use super::{GlobalArgs, Outcome};
use wanft::api::ledger::Ledger;
use wanft::api::upload::{UploadReport, ZipUpload, upload_zip};
use wanft::check::{self, CheckOptions};
use wanft::models::{self, ModelProfile};
use wanft::report::{self, human_bytes, text::TextOptions};

#[derive(Debug, clap::Args)]
pub struct UploadArgs {
    /// Dataset zip to upload (a folder must be packed first).
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
    pub api: ApiArgs,
}

/// The zip to upload for `path`. The seam where `wanft pack` plugs in: a folder will be packed
/// here; until then it is refused.
fn zip_for_upload(path: &Path) -> Result<PathBuf> {
    if path.is_dir() {
        bail!(
            "{} is a folder: pack the folder first with `wanft pack`, then upload the zip",
            path.display()
        );
    }
    Ok(path.to_owned())
}

pub fn run(args: &UploadArgs, global: &GlobalArgs) -> Result<Outcome> {
    let zip = zip_for_upload(&args.path)?;
    let session = args.api.connect(global)?;
    if !passes_checks(&session, args, &zip, global)? {
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
    let bar = ByteBar::new(!global.quiet);
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
    args: &UploadArgs,
    zip: &Path,
    global: &GlobalArgs,
) -> Result<bool> {
    let config = &session.config;
    let model = match args.model.or(config.model) {
        Some(model) => model,
        None => models::lookup(models::DEFAULT_MODEL).map_err(anyhow::Error::msg)?,
    };
    let bar = Bar::new(!global.quiet);
    let mut options = CheckOptions::new(model);
    options.trigger = config.dataset.trigger.clone();
    options.max_pixels = config.hyper_parameters.max_pixels.map(u64::from);
    options.progress = &bar;
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
