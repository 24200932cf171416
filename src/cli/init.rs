//! `wanft init`: writes the commented `wanft.toml` template.

use std::io;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};

use super::{GlobalArgs, Outcome};
use wanft::config::{self, FILE_NAME};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Writes the template to `--config PATH`, or to `wanft.toml` in the current folder.
pub fn run(args: &InitArgs, global: &GlobalArgs) -> Result<Outcome> {
    let path = match &global.config {
        Some(path) => path.clone(),
        None => PathBuf::from(FILE_NAME),
    };
    match config::write_template(&path, args.force) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        ),
        Err(err) => {
            return Err(err).with_context(|| format!("cannot write {}", path.display()));
        }
    }
    if !global.quiet {
        let green = anstyle::Style::new()
            .bold()
            .fg_color(Some(anstyle::AnsiColor::Green.into()));
        anstream::eprintln!(
            "{green}{:>12}{green:#}  {}: set model, region and [dataset], then run `wanft plan`",
            "Created",
            path.display()
        );
    }
    Ok(Outcome::Clean)
}
