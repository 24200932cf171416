//! `wanft pack`: check a dataset and write its upload zip (and, optionally, the validation zip).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anstyle::{AnsiColor, Style};
use anyhow::{Context as _, Result, anyhow, bail};

use super::progress::Bar;
use super::rule_args::{RuleArgs, project_dir};
use super::status::status;
use super::{GlobalArgs, Outcome};
use wanft::check::CheckOptions;
use wanft::config::{self, Config};
use wanft::dataset::{Mode, ModeChoice, Role};
use wanft::models::{self, ModelProfile};
use wanft::pack::budget::OverBudget;
use wanft::pack::fix::{FixSettings, Fixed, MediaFacts};
use wanft::pack::json::{DatasetDocument, PackDocument};
use wanft::pack::{self, PackOptions, Packed, Prepared, Refusal};
use wanft::plan::billing::group_thousands;
use wanft::plan::split::split_decimal;
use wanft::report::text::{self as report_text, TextOptions};
use wanft::report::{human_bytes, human_seconds, plural};
use wanft::rules::selection::relative_label;

#[derive(Debug, clap::Args)]
pub struct PackArgs {
    /// Dataset folder or .zip to pack [default: `[dataset] training` of wanft.toml].
    pub dataset: Option<PathBuf>,
    /// The zip to write [default: the dataset folder's name with .zip, beside it].
    #[arg(short = 'o', long = "output", value_name = "OUT.zip")]
    pub output: Option<PathBuf>,
    /// Base model [default: `model` of wanft.toml, else wan2.5-i2v-preview].
    #[arg(long, value_name = "MODEL", value_parser = models::lookup)]
    pub model: Option<&'static ModelProfile>,
    /// Task of the training set, instead of inferring it: i2v or kf2v [default: `[dataset]
    /// mode` of wanft.toml].
    #[arg(long, value_name = "TASK")]
    pub mode: Option<models::TaskType>,
    /// Trigger word every prompt must contain [default: `[dataset] trigger` of wanft.toml].
    #[arg(long)]
    pub trigger: Option<String>,
    /// max_pixels of the job; --fix downscales clips to it [default: wanft.toml, else the
    /// model's].
    #[arg(long, value_name = "PIXELS")]
    pub max_pixels: Option<u64>,
    /// Replace OUT.zip (and its manifest) if it exists.
    #[arg(long)]
    pub force: bool,
    /// Re-encode with ffmpeg what the platform refuses or would shrink anyway: other
    /// containers and codecs, clips above max_pixels or the model's maximum duration, GIF,
    /// TIFF, HEIF, AVIF and images above 4096 px. Originals are never modified; the copies
    /// are cached (WANFT_CACHE_DIR).
    /// With ffmpeg, --fix also decodes every file (as `check --deep` does): a clip with cuts
    /// is cut to its longest shot and dark bars are cropped away (images paired with it
    /// follow).
    #[arg(long)]
    pub fix: bool,
    /// With --fix: replace first and last-frame images that are not their clip's frames (or
    /// no longer are, once the clip is cut) by frames taken from the clip itself; this also
    /// lets --fix keep a longest shot that does not start the clip.
    #[arg(long, requires = "fix")]
    pub derive_frames: bool,
    /// Validation set (images only) to pack as well [default: `[dataset] validation` of
    /// wanft.toml when DATASET comes from it too].
    #[arg(long, value_name = "DIR")]
    pub validation: Option<PathBuf>,
    /// The validation zip [default: the validation folder's name with .zip, beside it].
    #[arg(short = 'O', long = "validation-output", value_name = "VAL.zip")]
    pub validation_output: Option<PathBuf>,
    /// Output format (json: the versioned schema of `wanft::pack::json`).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// One dataset to pack and where its zip goes.
struct Job {
    role: Role,
    dataset: PathBuf,
    output: PathBuf,
}

pub fn run(args: &PackArgs, global: &GlobalArgs) -> Result<Outcome> {
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    let config = Config::discover(global.config.as_deref(), &cwd)?.unwrap_or_default();
    let model = match args.model.or(config.model) {
        Some(model) => model,
        None => models::lookup(models::DEFAULT_MODEL).map_err(|e| anyhow!(e))?,
    };
    let jobs = jobs(args, &config)?;
    guard_outputs(&jobs, args.force)?;

    let selection = args.rules.selection(&config)?;
    let project = project_dir(&config, &cwd);
    let cancel = install_cancel_handler()?;
    let bar = Bar::new(!global.quiet && args.format == Format::Text);
    let fix_settings = args.fix.then(|| FixSettings {
        derive_frames: args.derive_frames,
        ..FixSettings::from_env()
    });
    let mut options: Vec<PackOptions> = jobs
        .iter()
        .map(|job| {
            let mut check = check_options(args, &config, model, job.role, jobs.len() > 1, &bar);
            check.rules = selection.clone();
            check.dataset_label = Some(relative_label(&job.dataset, &project));
            PackOptions {
                check,
                fix: fix_settings.as_ref(),
                cancel: &cancel,
            }
        })
        .collect();
    let mut prepared: Vec<Prepared> = Vec::with_capacity(jobs.len());
    for (job, options) in jobs.iter().zip(options.iter_mut()) {
        // The validation prompts must end with the training set's effect sentence.
        if job.role == Role::Validation
            && let Some(training) = prepared.first()
        {
            options.check.effect = training.report.effect_sentence.clone();
        }
        let done = pack::prepare(&job.dataset, options)
            .with_context(|| format!("cannot pack `{}`", job.dataset.display()))?;
        prepared.push(done);
    }
    // All or nothing: a training zip without the validation zip asked for is half a job.
    let mut packed = Vec::new();
    if prepared.iter().all(Prepared::is_ready) {
        for ((job, options), ready) in jobs.iter().zip(&options).zip(&prepared) {
            let zip = ready
                .write_with(&job.output, options, args.force)
                .with_context(|| format!("cannot write `{}`", job.output.display()))?;
            packed.push(zip);
        }
    }
    render(args.format, global, &prepared, &packed)?;
    Ok(if packed.len() == prepared.len() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

/// Refuses outputs that exist (without --force), sit inside or on an input, or collide.
fn guard_outputs(jobs: &[Job], force: bool) -> Result<()> {
    let inputs: Vec<&Path> = jobs.iter().map(|j| j.dataset.as_path()).collect();
    for job in jobs {
        pack::check_output(&job.output, &inputs, force)?;
    }
    if let [training, validation] = jobs
        && training.output == validation.output
    {
        bail!(
            "the training and validation zips would both be `{}`",
            training.output.display()
        );
    }
    Ok(())
}

/// The checks of one set: flags first, then wanft.toml, then the model's defaults.
fn check_options<'a>(
    args: &PackArgs,
    config: &Config,
    model: &'static ModelProfile,
    role: Role,
    validation_given: bool,
    bar: &'a Bar,
) -> CheckOptions<'a> {
    let hyper = config.hyper_parameters.resolve(model);
    let task = args.mode.or(config.dataset.mode);
    CheckOptions {
        model,
        mode: match (task, role) {
            (Some(task), role) => Some(ModeChoice::Exact(Mode { task, role })),
            (None, Role::Validation) => Some(ModeChoice::Validation),
            (None, Role::Training) => None,
        },
        trigger: args
            .trigger
            .clone()
            .or_else(|| config.dataset.trigger.clone()),
        effect: None,
        max_pixels: args
            .max_pixels
            .or(config.hyper_parameters.max_pixels.map(u64::from)),
        split: split_decimal(hyper.split),
        max_split_val: u64::from(hyper.max_split_val_dataset_sample),
        validation_given,
        // --fix looks at the pictures too, when it can (a missing ffmpeg is reported only
        // if something needs re-encoding).
        deep: args.fix && wanft::media::ffmpeg::Ffmpeg::find().is_some(),
        analysis: wanft::deep::Options {
            settings: config.deep.clone(),
            ..Default::default()
        },
        rules: None,
        dataset_label: None,
        progress: bar,
    }
}

fn render(
    format: Format,
    global: &GlobalArgs,
    prepared: &[Prepared],
    packed: &[Packed],
) -> Result<()> {
    let mut out = anstream::stdout().lock();
    match format {
        Format::Json => {
            let datasets = prepared
                .iter()
                .enumerate()
                .map(|(i, p)| DatasetDocument::new(p, packed.get(i)))
                .collect();
            serde_json::to_writer_pretty(&mut out, &PackDocument::new(datasets))?;
            writeln!(out)?;
        }
        Format::Text => {
            let text = TextOptions {
                verbose: global.verbose > 0,
                quiet: global.quiet,
            };
            let titled = prepared.len() > 1;
            for (i, p) in prepared.iter().enumerate() {
                write_text(&mut out, p, packed.get(i), titled, text)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// The datasets to pack: the command line's, else wanft.toml's.
fn jobs(args: &PackArgs, config: &Config) -> Result<Vec<Job>> {
    let from_config = args.dataset.is_none();
    let training = match &args.dataset {
        Some(path) => path.clone(),
        None => match config.dataset.training.as_slice() {
            [one] => one.clone(),
            [] => bail!(
                "nothing to pack: give a DATASET or set `[dataset] training` in {}",
                config::FILE_NAME
            ),
            _ => bail!(
                "{} lists several training sets; pack them one at a time: wanft pack DATASET",
                config::FILE_NAME
            ),
        },
    };
    let validation = match (&args.validation, from_config) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => match config.dataset.validation.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            _ => bail!(
                "{} lists several validation sets; pack them one at a time with --validation",
                config::FILE_NAME
            ),
        },
        (None, false) => None,
    };
    if args.validation_output.is_some() && validation.is_none() {
        bail!("-O/--validation-output needs a validation set (--validation DIR)");
    }
    let mut jobs = vec![Job {
        role: Role::Training,
        output: output_path(args.output.as_deref(), &training, "-o")?,
        dataset: training,
    }];
    if let Some(dataset) = validation {
        jobs.push(Job {
            role: Role::Validation,
            output: output_path(args.validation_output.as_deref(), &dataset, "-O")?,
            dataset,
        });
    }
    Ok(jobs)
}

/// The zip to write: as given, else `<folder>.zip` beside a dataset folder.
fn output_path(given: Option<&Path>, dataset: &Path, flag: &str) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_path_buf());
    }
    if !dataset.is_dir() {
        bail!(
            "`{}` is not a folder: say where to write the zip with {flag} OUT.zip",
            dataset.display()
        );
    }
    // `.` and `..` have no name of their own: use the folder's real name.
    let named = match dataset.file_name() {
        Some(_) => dataset.to_path_buf(),
        None => dataset.canonicalize()?,
    };
    let mut file = named
        .file_name()
        .ok_or_else(|| {
            anyhow!(
                "cannot name a zip after `{}`; give {flag} OUT.zip",
                dataset.display()
            )
        })?
        .to_os_string();
    file.push(".zip");
    Ok(named.with_file_name(file))
}

/// Turns SIGINT and SIGTERM into a cancellation the pack notices within moments, removing its
/// temporary file; a second signal exits at once. A file size limit (`ulimit -f`) becomes a
/// write error, cleaned up like any other, instead of killing the process.
#[cfg(unix)]
fn install_cancel_handler() -> Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM, SIGXFSZ};
    use signal_hook::flag;
    let cancel = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as it was before this signal.
        flag::register_conditional_shutdown(signal, 130, Arc::clone(&cancel))?;
        flag::register(signal, Arc::clone(&cancel))?;
    }
    flag::register(SIGXFSZ, Arc::new(AtomicBool::new(false)))?;
    Ok(cancel)
}

#[cfg(not(unix))]
fn install_cancel_handler() -> Result<Arc<AtomicBool>> {
    Ok(Arc::new(AtomicBool::new(false)))
}

// ---------------------------------------------------------------------------------------------
// Text report

fn bold(color: AnsiColor) -> Style {
    Style::new().bold().fg_color(Some(color.into()))
}

fn write_text(
    out: &mut dyn Write,
    prepared: &Prepared,
    packed: Option<&Packed>,
    titled: bool,
    options: TextOptions,
) -> io::Result<()> {
    if titled {
        let role = match prepared.role() {
            Role::Training => "training set",
            Role::Validation => "validation set",
        };
        let title = Style::new().bold().underline();
        writeln!(
            out,
            "{title}{} ({role}){title:#}",
            prepared.source.display()
        )?;
    }
    report_text::write_findings(out, &prepared.triage.shown, options)?;
    if prepared.triage.resolved > 0 && options.verbose {
        status(
            out,
            "Note",
            bold(AnsiColor::Cyan),
            &format!(
                "{} about files left out or rewritten by packing (not shown)",
                plural(prepared.triage.resolved, "finding", "findings")
            ),
        )?;
    }
    for fixed in &prepared.fixed {
        status(out, "Fixed", bold(AnsiColor::Green), &fix_lines(fixed))?;
    }
    match (&prepared.refusal, packed) {
        (Some(refusal), _) => status(
            out,
            "Refused",
            bold(AnsiColor::Red),
            &refusal_lines(prepared, refusal),
        ),
        (None, Some(zip)) => write_packed(out, zip),
        (None, None) => status(
            out,
            "Skipped",
            bold(AnsiColor::Yellow),
            "ready, but not written because another set was refused",
        ),
    }
}

fn write_packed(out: &mut dyn Write, zip: &Packed) -> io::Result<()> {
    let archive = &zip.manifest.archive;
    let media = zip.manifest.members.len().saturating_sub(1);
    status(
        out,
        "Packed",
        bold(AnsiColor::Green),
        &format!(
            "{}: data.jsonl + {}, {} ({} bytes), verified",
            zip.path.display(),
            plural(media, "file", "files"),
            human_bytes(archive.size),
            group_thousands(&archive.size.to_string())
        ),
    )?;
    status(out, "SHA-256", bold(AnsiColor::Green), &archive.sha256)?;
    status(
        out,
        "Manifest",
        bold(AnsiColor::Green),
        &zip.manifest_path.display().to_string(),
    )
}

/// `clip.mkv → clip.mp4 (why)` then the before → after facts.
fn fix_lines(fixed: &Fixed) -> String {
    let name = if fixed.renamed == fixed.member {
        fixed.member.clone()
    } else {
        format!("{} → {}", fixed.member, fixed.renamed)
    };
    let (b, a) = (&fixed.before, &fixed.after);
    let mut changes = vec![format!("{} → {}", format_of(b), format_of(a))];
    let resolution = |f: &MediaFacts| match (f.width, f.height) {
        (Some(w), Some(h)) => format!("{w}×{h}"),
        _ => "?".into(),
    };
    if resolution(b) != resolution(a) {
        changes.push(format!("{} → {}", resolution(b), resolution(a)));
    }
    let duration = |f: &MediaFacts| f.duration_s.map_or("?".into(), human_seconds);
    if a.duration_s.is_some() && duration(b) != duration(a) {
        changes.push(format!("{} → {}", duration(b), duration(a)));
    }
    changes.push(format!(
        "{} → {}",
        human_bytes(b.bytes),
        human_bytes(a.bytes)
    ));
    format!(
        "{name} ({}){}\n{}",
        fixed.reasons.join("; "),
        if fixed.cached { ", from the cache" } else { "" },
        changes.join(" · ")
    )
}

fn format_of(facts: &MediaFacts) -> String {
    match &facts.codec {
        Some(codec) => format!("{} {codec}", facts.format),
        None => facts.format.clone(),
    }
}

fn refusal_lines(prepared: &Prepared, refusal: &Refusal) -> String {
    let mut lines = Vec::new();
    if refusal.errors > 0 {
        let mut line = plural(refusal.errors, "error", "errors");
        match (refusal.errors, refusal.fixable) {
            (_, 0) => {}
            (1, 1) => line.push_str(" (--fix mends it)"),
            (count, fixable) if count == fixable => line.push_str(" (--fix mends them all)"),
            (_, fixable) => line.push_str(&format!(" (--fix mends {fixable} of them)")),
        }
        lines.push(line);
    }
    if let Some(over) = &refusal.over_budget {
        lines.push(budget_lines(over, prepared));
    }
    format!(
        "{}: nothing was written\n{}",
        prepared.source.display(),
        lines.join("\n")
    )
}

fn budget_lines(over: &OverBudget, prepared: &Prepared) -> String {
    let largest: Vec<String> = over
        .largest
        .iter()
        .map(|c| format!("{} ({})", c.name, human_bytes(c.bytes)))
        .collect();
    let mut lines = format!(
        "the zip would be {} ({} bytes), over the upload limit of {} bytes\nlargest: {}",
        human_bytes(over.size),
        group_thousands(&over.size.to_string()),
        group_thousands(&over.limit.to_string()),
        largest.join(", ")
    );
    if let Some(estimate) = &over.fix_estimate {
        let mut what = Vec::new();
        if estimate.clips_downscaled > 0 {
            what.push(format!(
                "downscale {} to max_pixels",
                plural(estimate.clips_downscaled, "clip", "clips")
            ));
        }
        if estimate.clips_trimmed > 0 {
            what.push(format!(
                "trim {} to {} s",
                plural(estimate.clips_trimmed, "clip", "clips"),
                prepared.limits().max_seconds
            ));
        }
        if estimate.images_downscaled > 0 {
            what.push(format!(
                "downscale {} to 4096 px",
                plural(estimate.images_downscaled, "image", "images")
            ));
        }
        let after = over.size.saturating_sub(estimate.saved);
        lines.push_str(&format!(
            "\n--fix would {}, saving about {} (an estimate) for a zip of about {}",
            what.join(", "),
            human_bytes(estimate.saved),
            human_bytes(after)
        ));
        if after > over.limit {
            lines.push_str("; still too large: split the samples over several zips");
        }
    } else {
        lines.push_str("\nsplit the samples over several zips");
    }
    lines
}
