//! `wanft init`: writes the commented `wanft.toml` template, filled in with the datasets, mode
//! and model found in the folder.

use std::io;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};

use super::{GlobalArgs, Outcome};
use wanft::config::{self, FILE_NAME};
use wanft::dataset::Role;
use wanft::init;
use wanft::models::TaskType;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Writes the template to `--config PATH`, or to `wanft.toml` in the current folder, with what
/// that folder holds filled in.
pub fn run(args: &InitArgs, global: &GlobalArgs) -> Result<Outcome> {
    let path = match &global.config {
        Some(path) => path.clone(),
        None => PathBuf::from(FILE_NAME),
    };
    let folder = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let found = init::inspect(&folder);
    match config::write_project_file(&path, &init::render(&found), args.force) {
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
        for set in &found.sets {
            let role = match set.role {
                Role::Training => "training",
                Role::Validation => "validation",
            };
            let task = match set.task {
                TaskType::I2v => "i2v",
                TaskType::Kf2v => "kf2v",
            };
            anstream::eprintln!(
                "{green}{:>12}{green:#}  {} set {} ({task}, {} samples)",
                "Found",
                role,
                set.path,
                set.samples
            );
        }
        let next = if found.training().is_empty() {
            "set [dataset] training, model and region, then run `wanft plan`"
        } else if found.task().is_none() {
            "training sets of both modes were found: keep one mode's, set region, then run \
             `wanft plan`"
        } else {
            "check region and the model, then run `wanft plan`"
        };
        anstream::eprintln!(
            "{green}{:>12}{green:#}  {}: {next}",
            "Created",
            path.display()
        );
    }
    Ok(Outcome::Clean)
}
