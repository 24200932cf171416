//! `wanft rules` and `wanft explain`.

use anyhow::{Result, bail};

use super::Outcome;
use wanft::rules::{self, Severity};

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
    /// The reference page `docs/rules.md`.
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Rule code (J009) or name (invalid-json).
    pub rule: String,
}

pub fn run_rules(args: &RulesArgs) -> Result<Outcome> {
    let all = rules::all();
    match args.format {
        ListFormat::Json => {
            let items: Vec<_> = all
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code, "name": r.name, "severity": r.severity,
                        "summary": r.summary, "why": r.why, "fix": r.fix,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&items)?);
        }
        ListFormat::Markdown => print!("{}", rules::markdown()),
        ListFormat::Text => {
            for r in all {
                anstream::println!(
                    "{}  {:<7}  {:<28}  {}",
                    r.code,
                    severity_label(r.severity),
                    r.name,
                    r.summary
                );
            }
        }
    }
    Ok(Outcome::Clean)
}

pub fn run_explain(args: &ExplainArgs) -> Result<Outcome> {
    let Some(r) = rules::find(&args.rule) else {
        bail!(
            "no rule `{}`; `wanft rules` lists every code and name",
            args.rule
        );
    };
    println!("{} ({}) — {}\n", r.code, r.name, r.severity);
    println!("What it checks\n  {}\n", r.summary);
    println!("Why it matters\n  {}\n", r.why);
    println!("How to fix it\n  {}", r.fix);
    let thresholds = wanft::deep::Settings::default().lines_of(r.code);
    if !thresholds.is_empty() {
        println!("\nThresholds (`[deep]` in wanft.toml; the defaults)");
        for line in thresholds {
            println!("  {line}");
        }
    }
    Ok(Outcome::Clean)
}

fn severity_label(s: Severity) -> &'static str {
    s.as_str()
}
