//! `wanft checkpoints`: a finished job's checkpoints, their previews, and exporting one.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use super::api_args::{ApiArgs, Session, or_dash, parse_duration};
use super::progress::Bar;
use super::{GlobalArgs, Outcome};
use wanft::api::checkpoints::{self, Checkpoint, ExportStatus};
use wanft::api::download::download;
use wanft::api::gallery::{GalleryOptions, command_flags, write_gallery};

#[derive(Debug, clap::Args)]
pub struct CheckpointsArgs {
    #[command(subcommand)]
    pub command: CheckpointsCommand,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum CheckpointsCommand {
    /// List a job's checkpoints by step, with previews and export status.
    List { job_id: String },
    /// Show a checkpoint's preview videos and prompts (links live 24 hours).
    Details {
        job_id: String,
        checkpoint: String,
        /// Download the preview videos into this folder.
        #[arg(long, value_name = "DIR")]
        download: Option<PathBuf>,
        /// Abandon (and retry) a download when no byte arrives for this long.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
        stall_timeout: Duration,
    },
    /// Download every checkpoint's preview videos into a folder (before their links expire;
    /// again to fetch what is missing) and write a page showing them side by side.
    Gallery {
        job_id: String,
        /// The folder [default: gallery-JOB_ID].
        #[arg(long, short, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Abandon (and retry) a download when no byte arrives for this long.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
        stall_timeout: Duration,
    },
    /// Export a checkpoint as a deployable model.
    Export {
        job_id: String,
        checkpoint: String,
        /// Display name: letters, digits, `_` and `-`, unique in the account.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Wait until the export ends: exit 0 when it succeeded, 1 otherwise.
        #[arg(long)]
        wait: bool,
        /// Longest time between two looks with --wait (they start at 0.5 s and slow down).
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
        interval: Duration,
    },
}

pub fn run(args: &CheckpointsArgs, global: &GlobalArgs) -> Result<Outcome> {
    let session = args.api.connect(global)?;
    match &args.command {
        CheckpointsCommand::List { job_id } => list(&session, job_id)?,
        CheckpointsCommand::Details {
            job_id,
            checkpoint,
            download,
            stall_timeout,
        } => details(
            &session,
            job_id,
            checkpoint,
            download.as_ref(),
            *stall_timeout,
        )?,
        CheckpointsCommand::Gallery {
            job_id,
            out,
            stall_timeout,
        } => return gallery(&session, job_id, out.as_ref(), *stall_timeout),
        CheckpointsCommand::Export {
            job_id,
            checkpoint,
            name,
            wait,
            interval,
        } => return export(&session, job_id, checkpoint, name, *wait, *interval),
    }
    Ok(Outcome::Clean)
}

fn list(session: &Session, job_id: &str) -> Result<()> {
    let client = &session.client;
    let previewed: BTreeSet<String> = session
        .block_on(checkpoints::previewed_checkpoints(client, job_id))?
        .into_iter()
        .collect();
    let listed = session.block_on(checkpoints::checkpoints(client, job_id))?;
    let now = client.server_now();
    let expiring = checkpoints::expiring_soon(&listed, now, checkpoints::EXPIRY_WARNING);
    if session.json() {
        let items: Vec<_> = listed
            .iter()
            .map(|c| {
                json!({
                    "checkpoint": c.checkpoint,
                    "checkpoint_id": c.checkpoint_id,
                    "step": c.step(),
                    "previewed": previewed.contains(&c.checkpoint),
                    "status": c.status,
                    "model_name": c.model_name,
                    "model_display_name": c.model_display_name,
                    "create_time": c.create_time,
                    "expire_time": c.expire_time,
                    "expires_soon": expiring.iter().any(|e| e.checkpoint == c),
                })
            })
            .collect();
        return session.print_json(json!({ "job_id": job_id, "checkpoints": items }));
    }
    if session.quiet {
        // The names alone, by step: the last is the final checkpoint.
        let names: Vec<String> = listed.iter().map(|c| c.checkpoint.clone()).collect();
        return session.print_lines(&names);
    }
    if listed.is_empty() {
        session.status(&format!(
            "job {job_id} has no checkpoints yet (they are listed once training has finished)"
        ));
        return Ok(());
    }
    let width = listed.iter().map(|c| c.checkpoint.len()).max().unwrap_or(0);
    let lines: Vec<String> = listed
        .iter()
        .map(|c| {
            format!(
                "{:width$}  step {:>6}  preview {:3}  export {:<10}  expires {:<19}  {}",
                c.checkpoint,
                c.step().map_or_else(|| "-".into(), |s| s.to_string()),
                if previewed.contains(&c.checkpoint) {
                    "yes"
                } else {
                    "no"
                },
                export_state(c),
                if c.is_exported() {
                    "-"
                } else {
                    or_dash(c.expire_time.as_deref())
                },
                or_dash(c.model_name.as_deref()),
            )
        })
        .collect();
    session.print_lines(&lines)?;
    for soon in &expiring {
        session.warn(&expiry_warning(job_id, soon));
    }
    Ok(())
}

/// What to say about a checkpoint close to expiry.
pub fn expiry_warning(job_id: &str, soon: &checkpoints::Expiring<'_>) -> String {
    let name = &soon.checkpoint.checkpoint;
    if soon.expired() {
        return format!(
            "{name} of {job_id} expired at {} unexported: it can no longer be exported",
            soon.expires_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let hours = soon.left.as_secs() / 3600;
    let left = if hours >= 48 {
        format!("{} days", hours / 24)
    } else {
        format!("{hours} hours")
    };
    format!(
        "{name} of {job_id} expires in {left} ({}) and is not exported; keep it with \
         `wanft checkpoints export {job_id} {name} --name NAME`",
        soon.expires_at.format("%Y-%m-%d %H:%M UTC")
    )
}

/// `PENDING` means "never exported" unless an export was asked for.
fn export_state(checkpoint: &Checkpoint) -> &str {
    if checkpoint.export_requested() {
        checkpoint.status.as_str()
    } else {
        "-"
    }
}

fn details(
    session: &Session,
    job_id: &str,
    checkpoint: &str,
    download_dir: Option<&PathBuf>,
    stall_timeout: Duration,
) -> Result<()> {
    let client = &session.client;
    let previews = session.block_on(checkpoints::previews(client, job_id, checkpoint))?;
    let mut saved = Vec::new();
    if let Some(dir) = download_dir {
        let bar = Bar::bytes(!session.quiet);
        for (index, preview) in previews.iter().enumerate() {
            let Some(url) = preview.video_path.as_deref() else {
                continue;
            };
            let path = dir.join(format!("{checkpoint}-{:02}.mp4", index + 1));
            session.block_on(download(client, url, &path, stall_timeout, &bar))?;
            saved.push(path);
        }
    }
    if session.json() {
        return session.print_json(json!({
            "job_id": job_id,
            "checkpoint": checkpoint,
            "previews": previews,
            "downloaded": saved,
        }));
    }
    let mut lines = vec![format!(
        "{checkpoint} of {job_id}: {} preview(s) ({})",
        previews.len(),
        session.region()
    )];
    for (index, preview) in previews.iter().enumerate() {
        lines.push(format!(
            "{:2}. {}",
            index + 1,
            or_dash(preview.prompt.as_deref())
        ));
        lines.push(format!(
            "    video  {}",
            or_dash(preview.video_path.as_deref())
        ));
        lines.push(format!(
            "    frame  {}",
            or_dash(preview.first_frame_path.as_deref())
        ));
    }
    lines.extend(saved.iter().map(|p| format!("saved {}", p.display())));
    session.print_lines(&lines)
}

fn gallery(
    session: &Session,
    job_id: &str,
    out: Option<&PathBuf>,
    stall_timeout: Duration,
) -> Result<Outcome> {
    let dir = out
        .cloned()
        .unwrap_or_else(|| PathBuf::from(format!("gallery-{}", safe_component(job_id))));
    let bar = Bar::bytes(!session.quiet);
    let options = GalleryOptions {
        dir: &dir,
        stall_timeout,
        command_flags: command_flags(&session.client),
        progress: &bar,
    };
    let built = session.block_on(write_gallery(&session.client, job_id, &options))?;
    if session.json() {
        session.print_json(json!({
            "job_id": job_id,
            "page": built.page,
            "checkpoints": built.checkpoints,
            "prompts": built.prompts,
            "downloaded": built.downloaded,
            "reused": built.reused,
            "missing": built.missing,
        }))?;
    } else {
        session.print_lines(&[format!(
            "{}: {} checkpoint(s) × {} prompt(s); {} file(s) downloaded, {} already there",
            built.page.display(),
            built.checkpoints,
            built.prompts,
            built.downloaded,
            built.reused
        )])?;
        for missing in &built.missing {
            session.warn(&format!("not downloaded: {missing}"));
        }
    }
    Ok(if built.missing.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

/// A job id as a folder name.
fn safe_component(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn export(
    session: &Session,
    job_id: &str,
    checkpoint: &str,
    name: &str,
    wait: bool,
    interval: Duration,
) -> Result<Outcome> {
    let client = &session.client;
    let mut state = session.block_on(checkpoints::export(client, job_id, checkpoint, name))?;
    if !session.json() && !session.quiet {
        session.print_lines(&[format!(
            "export of {checkpoint} ({job_id}) as {name}: {} ({})",
            state.status,
            session.region()
        )])?;
    }
    if wait {
        state = session.wait_for(
            checkpoint,
            interval,
            || Ok(session.block_on(checkpoints::find_checkpoint(client, job_id, checkpoint))?),
            |c| (c.status.clone(), String::new()),
            ExportStatus::is_terminal,
        )?;
    }
    if session.json() {
        session.print_json(json!({ "job_id": job_id, "checkpoint": state }))?;
    } else if session.quiet {
        // The deployable name alone, for `MODEL=$(wanft checkpoints export … --wait --quiet)`.
        if let Some(model) = &state.model_name {
            session.print_lines(std::slice::from_ref(model))?;
        }
    } else if !wait {
        session.print_lines(&[format!(
            "follow the export with `{}`",
            session.command(&format!("checkpoints list {job_id}"))
        )])?;
    } else if let Some(model) = &state.model_name {
        session.print_lines(&[format!(
            "deploy it with `{}`",
            session.command(&format!("deploy create {model}"))
        )])?;
    }
    Ok(match (wait, &state.status) {
        (false, _) | (true, ExportStatus::Succeeded) => Outcome::Clean,
        (true, _) => Outcome::Failed,
    })
}
