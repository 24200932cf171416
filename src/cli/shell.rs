//! `wanft completions SHELL` and `wanft man`: shell completion scripts and manual pages,
//! generated from the same command definitions that parse the arguments, so they never drift.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Outcome};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish.
    pub shell: Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write wanft.1 and one page per command (wanft-check.1, …) into this folder instead of
    /// printing wanft.1.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Prints the completion script; e.g. `wanft completions bash > ~/.local/share/bash-completion/completions/wanft`.
pub fn run_completions(args: &CompletionsArgs) -> Result<Outcome> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "wanft", &mut out);
    out.flush()?;
    Ok(Outcome::Clean)
}

pub fn run_man(args: &ManArgs) -> Result<Outcome> {
    let cmd = Cli::command();
    match &args.out_dir {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            out.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("cannot write the manual pages into {}", dir.display()))?;
            let pages = count_pages(dir)?;
            anstream::eprintln!("Wrote {pages} manual pages into {}", dir.display());
        }
    }
    Ok(Outcome::Clean)
}

fn count_pages(dir: &Path) -> Result<usize> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "1"))
        .count())
}
