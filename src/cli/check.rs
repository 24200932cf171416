//! `wanft check`: validate a dataset folder or zip.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::progress::Bar;
use super::{GlobalArgs, Outcome};
use wanft::check::{self, CheckOptions};
use wanft::dataset::ModeChoice;
use wanft::models;
use wanft::report::{self, text::TextOptions};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Dataset folder or .zip to check.
    pub path: PathBuf,
    /// Model the dataset is for.
    #[arg(long, default_value = models::DEFAULT_MODEL)]
    pub model: String,
    /// Force the mode instead of inferring it: i2v, kf2v, validation, i2v-validation,
    /// kf2v-validation.
    #[arg(long)]
    pub mode: Option<ModeChoice>,
    /// Trigger word every prompt must contain (otherwise the shared effect sentence is inferred).
    #[arg(long)]
    pub trigger: Option<String>,
    /// max_pixels the job will use (default: the model's).
    #[arg(long)]
    pub max_pixels: Option<u64>,
    /// A separate validation set will be supplied, so no samples are split off for validation.
    #[arg(long)]
    pub with_validation_set: bool,
    /// Also decode every stream with ffmpeg and report decode errors.
    #[arg(long)]
    pub deep: bool,
    /// Exit with status 1 on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(args: &CheckArgs, global: &GlobalArgs) -> Result<Outcome> {
    let model = models::lookup(&args.model).map_err(anyhow::Error::msg)?;
    let bar = Bar::new(!global.quiet && args.format == Format::Text);
    let mut options = CheckOptions::new(model);
    options.mode = args.mode;
    options.trigger = args.trigger.clone();
    options.max_pixels = args.max_pixels;
    options.validation_given = args.with_validation_set;
    options.deep = args.deep;
    options.progress = &bar;
    let report = check::run(&args.path, &options)
        .with_context(|| format!("cannot check `{}`", args.path.display()))?;

    let mut out = anstream::stdout().lock();
    match args.format {
        Format::Json => report::json::write_report(&mut out, &report, &args.path)?,
        Format::Text => {
            let opts = TextOptions {
                verbose: global.verbose > 0,
                quiet: global.quiet,
            };
            report::text::write_report(&mut out, &report, opts)?;
        }
    }
    out.flush()?;
    let s = &report.summary;
    Ok(if s.errors > 0 || (args.strict && s.warnings > 0) {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}
