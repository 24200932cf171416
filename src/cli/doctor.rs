//! `wanft doctor`: what will cost or block the user before they start (see [`wanft::doctor`]).

use anyhow::Result;
use serde_json::json;

use super::api_args::ApiArgs;
use super::{GlobalArgs, Outcome};
use wanft::doctor::{self, Check, Level};
use wanft::media::ffmpeg::Ffmpeg;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Exit 1 when a check finds a problem (a key the region refuses, a full job quota), else 0.
pub fn run(args: &DoctorArgs, global: &GlobalArgs) -> Result<Outcome> {
    let session = args.api.connect(global)?;
    let mut checks = session.block_on(doctor::diagnose_account(&session.client));
    checks.extend(doctor::diagnose_local(chrono::Utc::now(), Ffmpeg::find()));
    let worst = checks.iter().map(|c| c.level).max().unwrap_or(Level::Ok);
    if session.json() {
        session.print_json(json!({ "checks": checks, "ok": worst != Level::Problem }))?;
    } else {
        let lines: Vec<String> = checks.iter().flat_map(render).collect();
        session.print_lines(&lines)?;
    }
    Ok(match worst {
        Level::Problem => Outcome::Failed,
        _ => Outcome::Clean,
    })
}

fn render(check: &Check) -> Vec<String> {
    let mark = match check.level {
        Level::Ok => "ok     ",
        Level::Warning => "warning",
        Level::Problem => "PROBLEM",
    };
    let mut lines = vec![format!("{mark}  {:<11}  {}", check.topic, check.summary)];
    lines.extend(check.details.iter().map(|d| format!("{:22}{d}", "")));
    if let Some(hint) = &check.hint {
        lines.push(format!("{:22}hint: {hint}", ""));
    }
    lines
}
