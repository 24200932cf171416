//! `wanft generate`: a video from a deployed LoRA model; `wanft tasks get`: a generation task.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use serde_json::json;

use super::api_args::{ApiArgs, Session, fields, or_dash, parse_duration};
use super::consent::{self, ConsentArgs};
use super::progress::Bar;
use super::{GlobalArgs, Outcome};
use wanft::api::deployments::{self, DeploymentStatus};
use wanft::api::download::download;
use wanft::api::generation::{
    self, DEFAULT_RESOLUTION, Endpoint, InferenceRules, MAX_SEED, Synthesis, Task, TaskStatus,
};
use wanft::api::images::{LocalImages, prepare_image};
use wanft::models::{self, TaskType};
use wanft::spend;

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The deployed model (`deployed_model` of a RUNNING deployment).
    #[arg(long, value_name = "DEPLOYED")]
    pub model: String,
    /// First frame: a local image (uploaded temporarily, as the official clients do) or an
    /// http(s)/oss URL.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub image: String,
    /// Last frame (key-frame models): a local image or a URL.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub last_frame: Option<String>,
    /// Send local images inline as data: URLs instead of uploading them (a third larger, and
    /// counted against the image size limits).
    #[arg(long)]
    pub inline_images: bool,
    /// Prompt; used only by deployments created with --use-input-prompt.
    #[arg(long)]
    pub prompt: Option<String>,
    /// What to avoid (at most 500 characters).
    #[arg(long)]
    pub negative_prompt: Option<String>,
    /// Output resolution.
    #[arg(long, default_value = DEFAULT_RESOLUTION)]
    pub resolution: String,
    /// Seconds of video (the model's default when omitted).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u32>,
    /// Random seed, for repeatable results (0 to 2147483647).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_SEED)))]
    pub seed: Option<u32>,
    /// Endpoint: i2v (first frame) or kf2v (first and last frame) [default: from the frames and
    /// the base model].
    #[arg(long, value_name = "TASK")]
    pub task: Option<TaskType>,
    /// Wait for the video (and download it with -o).
    #[arg(long)]
    pub wait: bool,
    /// Longest time between two looks with --wait (they start at 0.5 s and slow down).
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Save the video here (written atomically); needs --wait.
    #[arg(short, long, value_name = "OUT.mp4", requires = "wait")]
    pub output: Option<PathBuf>,
    /// Abandon (and retry) the download when no byte arrives for this long.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub stall_timeout: Duration,
    #[command(flatten)]
    pub consent: ConsentArgs,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, clap::Args)]
pub struct TasksArgs {
    #[command(subcommand)]
    pub command: TasksCommand,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum TasksCommand {
    /// Show a generation task (ids expire after 24 hours); exit 1 when it failed, was
    /// cancelled or is unknown.
    Get { task_id: String },
}

pub fn run(args: &GenerateArgs, global: &GlobalArgs) -> Result<Outcome> {
    let session = args.api.connect(global)?;
    let client = &session.client;
    let deployment = session.block_on(deployments::get_deployment(client, &args.model))?;
    if deployment.status != DeploymentStatus::Running {
        bail!(
            "deployment {} is {}, not RUNNING: wait with `{}`",
            args.model,
            deployment.status,
            session.command(&format!("deploy wait {}", args.model))
        );
    }
    let base = deployment.base_model.as_deref().and_then(models::find);
    let endpoint = Endpoint::choose(args.task, args.last_frame.is_some(), base);
    let rules = InferenceRules::of(endpoint, base);
    let how = if args.inline_images {
        LocalImages::Inline
    } else {
        LocalImages::Upload
    };
    let frame = |arg: &str| -> Result<String> {
        let prepared = session.block_on(prepare_image(
            client,
            &args.model,
            arg,
            rules.max_image_bytes,
            how,
        ))?;
        if let Some(note) = &prepared.note {
            session.note(note);
        }
        Ok(prepared.url)
    };
    let synthesis = Synthesis {
        model: args.model.clone(),
        endpoint,
        first_frame: frame(&args.image)?,
        last_frame: args.last_frame.as_deref().map(frame).transpose()?,
        prompt: args.prompt.clone(),
        negative_prompt: args.negative_prompt.clone(),
        resolution: args.resolution.clone(),
        duration: args.duration,
        seed: args.seed,
    };
    synthesis.check(&rules)?;
    if let Some(prompt) = &args.prompt
        && prompt.chars().count() > rules.max_prompt_chars
    {
        session.note(&format!(
            "the prompt is longer than {} characters; the platform truncates it",
            rules.max_prompt_chars
        ));
    }
    let spending = spend::generation(1, args.duration, &args.resolution);
    if !consent::obtain(&spending, args.consent.yes, None, global.quiet) {
        return Ok(Outcome::Failed);
    }
    let task = session.block_on(generation::submit(client, &synthesis))?;
    if !args.wait {
        if global.quiet && !session.json() {
            return session
                .print_lines(std::slice::from_ref(&task.task_id))
                .map(|()| Outcome::Clean);
        }
        print_task(&session, &task)?;
        session.status(&format!(
            "follow it with `{}` (task ids expire after 24 hours)",
            session.command(&format!("tasks get {}", task.task_id))
        ));
        return Ok(Outcome::Clean);
    }
    session.status(&format!(
        "task {} submitted to {} ({})",
        task.task_id,
        args.model,
        session.region()
    ));
    let task = session.wait_for(
        &task.task_id,
        args.interval,
        || Ok(session.block_on(generation::get_task(client, &task.task_id))?),
        |t| (t.task_status.clone(), String::new()),
        TaskStatus::is_terminal,
    )?;
    if task.task_status != TaskStatus::Succeeded {
        print_task(&session, &task)?;
        return Ok(Outcome::Failed);
    }
    let saved = match (&args.output, task.video_url.as_deref()) {
        (Some(path), Some(url)) => {
            let bar = Bar::bytes(!session.quiet);
            session.block_on(download(client, url, path, args.stall_timeout, &bar))?;
            Some(path)
        }
        (Some(_), None) => bail!("task {} succeeded without a video_url", task.task_id),
        (None, _) => None,
    };
    if session.json() {
        session.print_json(json!({ "task": task, "saved": saved }))?;
    } else if global.quiet {
        let result = saved.map_or_else(|| task.task_id.clone(), |p| p.display().to_string());
        session.print_lines(&[result])?;
    } else {
        print_task(&session, &task)?;
        if let Some(path) = saved {
            session.print_lines(&[format!("saved {}", path.display())])?;
        }
    }
    Ok(Outcome::Clean)
}

pub fn run_tasks(args: &TasksArgs, global: &GlobalArgs) -> Result<Outcome> {
    let session = args.api.connect(global)?;
    match &args.command {
        TasksCommand::Get { task_id } => {
            let task = session.block_on(generation::get_task(&session.client, task_id))?;
            print_task(&session, &task)?;
            Ok(match task.task_status {
                TaskStatus::Failed | TaskStatus::Canceled | TaskStatus::Unknown => Outcome::Failed,
                _ => Outcome::Clean,
            })
        }
    }
}

fn print_task(session: &Session, task: &Task) -> Result<()> {
    if session.json() {
        return session.print_json(json!({ "task": task }));
    }
    let mut lines = vec![format!(
        "task {}  {}  ({})",
        task.task_id,
        task.task_status,
        session.region()
    )];
    let mut rows = vec![("submitted", or_dash(task.submit_time.as_deref()).to_owned())];
    if let Some(end) = &task.end_time {
        rows.push(("ended", end.clone()));
    }
    if let Some(url) = &task.video_url {
        rows.push(("video", url.clone()));
    }
    if let Some(prompt) = &task.actual_prompt {
        rows.push(("prompt", prompt.clone()));
    }
    if let Some(usage) = &task.usage {
        let seconds = usage
            .seconds()
            .map_or_else(|| "-".into(), |s| format!("{s} s"));
        let class = usage.sr.map_or_else(String::new, |sr| format!(" at {sr}P"));
        rows.push(("billed", format!("{seconds}{class}")));
    }
    if task.code.is_some() || task.message.is_some() {
        rows.push((
            "error",
            format!(
                "{}: {}",
                or_dash(task.code.as_deref()),
                or_dash(task.message.as_deref())
            ),
        ));
    }
    if task.task_status == TaskStatus::Unknown {
        rows.push(("note", "unknown id, or older than 24 hours".into()));
    }
    lines.extend(fields(&rows));
    session.print_lines(&lines)
}
