//! `wanft files list|get|delete`: uploaded files, in either region's file API.

use anyhow::Result;
use serde_json::json;

use super::api_args::{ApiArgs, Session, fields, or_dash};
use super::{GlobalArgs, Outcome};
use wanft::api::files::{self, RemoteFile};
use wanft::api::ledger::Ledger;
use wanft::report::human_bytes;

#[derive(Debug, clap::Args)]
pub struct FilesArgs {
    #[command(subcommand)]
    pub command: FilesCommand,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum FilesCommand {
    /// List uploaded files (oldest first).
    List {
        /// Show at most N files.
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: usize,
    },
    /// Show one file.
    Get { file_id: String },
    /// Delete a file (and forget it in the upload ledger).
    Delete { file_id: String },
}

pub fn run(args: &FilesArgs, global: &GlobalArgs) -> Result<Outcome> {
    let session = args.api.connect(global)?;
    match &args.command {
        FilesCommand::List { limit } => {
            let listed = session.block_on(files::list_files(&session.client, *limit))?;
            if session.json() {
                session.print_json(json!({ "files": listed }))?;
            } else if listed.is_empty() {
                session.status(&format!("no files in {}", session.region()));
            } else {
                let lines: Vec<String> = listed.iter().map(file_line).collect();
                session.print_lines(&lines)?;
            }
        }
        FilesCommand::Get { file_id } => {
            let file = session.block_on(files::get_file(&session.client, file_id))?;
            if session.json() {
                session.print_json(json!({ "file": file }))?;
            } else {
                print_file(&session, &file)?;
            }
        }
        FilesCommand::Delete { file_id } => {
            session.block_on(files::delete_file(&session.client, file_id))?;
            forget(&session, file_id);
            if session.json() {
                session.print_json(json!({ "id": file_id, "deleted": true }))?;
            } else {
                session.print_lines(&[format!("deleted {file_id} ({})", session.region())])?;
            }
        }
    }
    Ok(Outcome::Clean)
}

/// Removes a deleted file from the ledger, so that its zip is uploaded again next time.
fn forget(session: &Session, file_id: &str) {
    let Some(path) = Ledger::default_path() else {
        return;
    };
    let (mut ledger, _) = Ledger::open(&path);
    let base_url = session.client.base_url();
    if let Err(e) = ledger.forget(file_id, session.region(), &base_url) {
        session.note(&format!(
            "the upload ledger {} could not be updated: {e}",
            path.display()
        ));
    }
}

fn file_line(file: &RemoteFile) -> String {
    format!(
        "{}  {:>9}  {}  {}",
        file.id,
        file.bytes.map_or_else(|| "-".into(), human_bytes),
        or_dash(file.created.as_deref()),
        or_dash(file.name.as_deref()),
    )
}

fn print_file(session: &Session, file: &RemoteFile) -> Result<()> {
    let mut lines = vec![format!("file {} ({})", file.id, session.region())];
    lines.extend(fields(&[
        ("name", or_dash(file.name.as_deref()).to_owned()),
        (
            "size",
            file.bytes
                .map_or_else(|| "-".into(), |b| format!("{} ({b} bytes)", human_bytes(b))),
        ),
        ("purpose", or_dash(file.purpose.as_deref()).to_owned()),
        ("status", or_dash(file.status.as_deref()).to_owned()),
        ("created", or_dash(file.created.as_deref()).to_owned()),
        ("md5", or_dash(file.md5.as_deref()).to_owned()),
    ]));
    session.print_lines(&lines)
}
