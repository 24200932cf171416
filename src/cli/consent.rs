//! Stating what a command is about to spend, and asking for consent on a terminal (the rules
//! are `wanft::spend`).

use std::io::{BufRead, IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use rust_decimal::Decimal;

use super::status::status;
use wanft::spend::{Consent, Decision, Spending};

/// The consent flags every spending command takes.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Consent")]
pub struct ConsentArgs {
    /// Spend without asking.
    #[arg(short, long)]
    pub yes: bool,
}

/// Whether a person can be asked: stdin and stderr are terminals.
pub fn terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The statement of `spendings`, as status lines.
pub fn statement(spendings: &[Spending]) -> String {
    let cyan = Style::new().bold().fg_color(Some(AnsiColor::Cyan.into()));
    let mut buffer = Vec::new();
    for spending in spendings {
        let mut text = format!("to {}", spending.action);
        for detail in &spending.details {
            text.push('\n');
            text.push_str(detail);
        }
        let _ = status(&mut buffer, "Spend", cyan, &text);
    }
    String::from_utf8_lossy(&buffer).trim_end().to_owned()
}

/// Asks `Create the job? [y/N]` on stderr and reads the answer from stdin.
pub fn ask(spendings: &[Spending]) -> bool {
    let actions: Vec<&str> = spendings.iter().map(|s| s.action.as_str()).collect();
    let joined = actions.join(", then ");
    let mut chars = joined.chars();
    let question = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => return false,
    };
    anstream::eprint!("{question}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok()
        && matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// States `spending` on stderr (unless `quiet`) and decides: `Ok(true)` to go ahead,
/// `Ok(false)` after saying why not.
pub fn obtain(spending: &Spending, yes: bool, max_cost: Option<Decimal>, quiet: bool) -> bool {
    if !quiet {
        anstream::eprintln!("{}", statement(std::slice::from_ref(spending)));
    }
    let consent = Consent {
        yes,
        max_cost,
        terminal: terminal(),
    };
    match consent.decide(spending) {
        Decision::Proceed => true,
        Decision::Ask => {
            let approved = ask(std::slice::from_ref(spending));
            if !approved {
                anstream::eprintln!("not done: declined");
            }
            approved
        }
        Decision::Refuse(reason) => {
            anstream::eprintln!("refusing to {}: {reason}", spending.action);
            false
        }
    }
}
