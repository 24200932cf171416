//! `wanft report`: one self-contained HTML page showing what will train.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use super::progress::Bar;
use super::{GlobalArgs, Outcome};
use wanft::config::{self, Config};
use wanft::dataset::{Mode, ModeChoice, Role};
use wanft::models::{self, ModelProfile, Region};
use wanft::report::html::dataset::{self, ReportOptions, Target};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Dataset folder or .zip [default: the training and validation sets of wanft.toml].
    pub path: Option<PathBuf>,
    /// The page to write.
    #[arg(long, short, value_name = "FILE", default_value = "wanft-report.html")]
    pub out: PathBuf,
    /// Model the dataset is for [default: `model` of wanft.toml, else wan2.5-i2v-preview].
    #[arg(long, value_parser = models::lookup)]
    pub model: Option<&'static ModelProfile>,
    /// Force the mode: i2v, kf2v, validation, i2v-validation, kf2v-validation.
    #[arg(long)]
    pub mode: Option<ModeChoice>,
    /// Trigger word to highlight and check [default: `[dataset] trigger` of wanft.toml].
    #[arg(long)]
    pub trigger: Option<String>,
    /// Region whose prices make the fee [default: `region` of wanft.toml].
    #[arg(long)]
    pub region: Option<Region>,
}

pub fn run(args: &ReportArgs, global: &GlobalArgs) -> Result<Outcome> {
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    let config = Config::discover(global.config.as_deref(), &cwd)?.unwrap_or_default();
    let model = match args.model.or(config.model) {
        Some(model) => model,
        None => models::lookup(models::DEFAULT_MODEL).map_err(anyhow::Error::msg)?,
    };
    let targets: Vec<Target> = match &args.path {
        Some(path) => vec![Target {
            path,
            mode: args.mode,
            validation: matches!(
                args.mode,
                Some(ModeChoice::Validation)
                    | Some(ModeChoice::Exact(Mode {
                        role: Role::Validation,
                        ..
                    }))
            ),
        }],
        None => {
            let mode = |role| {
                config
                    .dataset
                    .mode
                    .map(|task| ModeChoice::Exact(Mode { task, role }))
            };
            let training = config.dataset.training.iter().map(|p| Target {
                path: p,
                mode: args.mode.or(mode(Role::Training)),
                validation: false,
            });
            let validation = config.dataset.validation.iter().map(|p| Target {
                path: p,
                mode: mode(Role::Validation).or(Some(ModeChoice::Validation)),
                validation: true,
            });
            training.chain(validation).collect()
        }
    };
    if targets.is_empty() {
        bail!(
            "nothing to report on: give a dataset folder or .zip, or set `[dataset] training` in {}",
            config::FILE_NAME
        );
    }
    let bar = Bar::new(!global.quiet);
    let options = ReportOptions {
        model,
        trigger: args.trigger.clone().or(config.dataset.trigger.clone()),
        hyper: config.hyper_parameters.clone(),
        region: args.region.or(config.region),
        price_override: config.plan.price,
        settings: config.deep.clone(),
        progress: &bar,
    };
    let title = match targets.as_slice() {
        [one] => format!("What will train: {}", one.path.display()),
        _ => "What will train".to_string(),
    };
    let built = dataset::build(&title, &targets, &options).context("cannot build the report")?;
    write_atomically(&args.out, built.html.as_bytes())?;
    let errors: usize = built.reports.iter().map(|r| r.summary.errors).sum();
    let warnings: usize = built.reports.iter().map(|r| r.summary.warnings).sum();
    let samples: usize = built.reports.iter().map(|r| r.summary.samples).sum();
    if !global.quiet {
        let mut err = anstream::stderr().lock();
        writeln!(
            err,
            "Wrote {}: {samples} samples, {errors} errors, {warnings} warnings. Open it in a \
             browser (it needs no network).",
            args.out.display()
        )?;
    }
    Ok(if errors > 0 {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}

/// Writes `bytes` to `path` through a temporary file beside it, renamed into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".wanft-report-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644));
    }
    temp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
