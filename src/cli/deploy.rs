//! `wanft deploy`: deploy a fine-tuned model, inspect, wait for and delete deployments.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use super::api_args::{ApiArgs, Session, fields, or_dash, parse_duration};
use super::consent::{self, ConsentArgs};
use super::{GlobalArgs, Outcome};
use wanft::api::deployments::{self, AigcConfig, Deployment, DeploymentStatus, NewDeployment};
use wanft::spend;

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[command(subcommand)]
    pub command: DeployCommand,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum DeployCommand {
    /// Deploy a job's model (`finetuned_output`) or an exported checkpoint's `model_name`.
    Create {
        model_name: String,
        /// Instances.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        capacity: u32,
        /// Use each call's prompt verbatim instead of the [deploy] templates of wanft.toml.
        #[arg(long)]
        use_input_prompt: bool,
        /// Wait until the deployment runs.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        consent: ConsentArgs,
        /// Longest time between two looks with --wait (they start at 0.5 s and slow down).
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
        interval: Duration,
    },
    /// Show a deployment.
    Get { deployed_model: String },
    /// List deployments, newest first.
    List {
        #[arg(long, value_name = "N", default_value_t = 1)]
        page: u32,
        #[arg(long, value_name = "N", default_value_t = 10)]
        page_size: u32,
    },
    /// Delete a deployment: immediate and irreversible.
    Delete { deployed_model: String },
    /// Wait until a deployment runs: exit 0 when it does, 1 when it settles otherwise.
    Wait {
        deployed_model: String,
        /// Longest time between two looks (they start at 0.5 s and slow down; deploying takes
        /// 5–10 minutes).
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
        interval: Duration,
    },
}

pub fn run(args: &DeployArgs, global: &GlobalArgs) -> Result<Outcome> {
    let session = args.api.connect(global)?;
    let client = &session.client;
    match &args.command {
        DeployCommand::Create {
            model_name,
            capacity,
            use_input_prompt,
            wait: then_wait,
            interval,
            consent,
        } => {
            let spending = spend::deployment(model_name);
            if !consent::obtain(&spending, consent.yes, None, global.quiet) {
                return Ok(Outcome::Failed);
            }
            let section = &session.config.deploy;
            let configured = *use_input_prompt
                || section.use_input_prompt.is_some()
                || section.prompt.is_some()
                || section.lora_prompt_default.is_some();
            let aigc_config = configured.then(|| AigcConfig {
                use_input_prompt: *use_input_prompt || section.use_input_prompt == Some(true),
                prompt: section.prompt.clone(),
                lora_prompt_default: section.lora_prompt_default.clone(),
            });
            if aigc_config.is_none() {
                session.note(
                    "no [deploy] prompt settings in wanft.toml and no --use-input-prompt: the \
                     deployment gets no aigc_config, so the platform's default prompt handling \
                     applies",
                );
            }
            let request = NewDeployment {
                model_name: model_name.clone(),
                capacity: *capacity,
                aigc_config,
            };
            let deployment = session.block_on(deployments::create_deployment(client, &request))?;
            let id = &deployment.deployed_model;
            if *then_wait {
                if !session.json() && !global.quiet {
                    print_deployment(&session, &deployment)?;
                }
                let outcome = wait(&session, id, *interval)?;
                if global.quiet && !session.json() && outcome == Outcome::Clean {
                    // The id alone, for `DEPLOYED=$(wanft deploy create … --wait --quiet)`.
                    session.print_lines(std::slice::from_ref(id))?;
                }
                return Ok(outcome);
            }
            if global.quiet && !session.json() {
                session.print_lines(std::slice::from_ref(id))?;
                return Ok(Outcome::Clean);
            }
            print_deployment(&session, &deployment)?;
            session.status(&format!(
                "deploying takes 5–10 minutes: follow it with `{}`",
                session.command(&format!("deploy wait {id}"))
            ));
        }
        DeployCommand::Get { deployed_model } => {
            let deployment =
                session.block_on(deployments::get_deployment(client, deployed_model))?;
            print_deployment(&session, &deployment)?;
        }
        DeployCommand::List { page, page_size } => {
            let listing =
                session.block_on(deployments::list_deployments(client, *page, *page_size))?;
            if session.json() {
                session.print_json(json!(listing))?;
            } else {
                let lines: Vec<String> = listing
                    .deployments
                    .iter()
                    .map(|d| {
                        format!(
                            "{}  {:<8}  {}  {}",
                            d.deployed_model,
                            d.status.as_str(),
                            or_dash(d.base_model.as_deref()),
                            or_dash(d.gmt_create.as_deref())
                        )
                    })
                    .collect();
                session.print_lines(&lines)?;
                session.status(&format!(
                    "page {} · {} of {} deployments in {}",
                    (*page).max(1),
                    listing.deployments.len(),
                    listing.total.unwrap_or(listing.deployments.len() as u64),
                    session.region()
                ));
            }
        }
        DeployCommand::Delete { deployed_model } => {
            let deployment =
                session.block_on(deployments::delete_deployment(client, deployed_model))?;
            print_deployment(&session, &deployment)?;
        }
        DeployCommand::Wait {
            deployed_model,
            interval,
        } => return wait(&session, deployed_model, *interval),
    }
    Ok(Outcome::Clean)
}

/// Polls until the deployment runs or settles in another state.
fn wait(session: &Session, deployed_model: &str, interval: Duration) -> Result<Outcome> {
    let deployment = session.wait_for(
        deployed_model,
        interval,
        || Ok(session.block_on(deployments::get_deployment(&session.client, deployed_model))?),
        |d| (d.status.clone(), String::new()),
        DeploymentStatus::is_settled,
    )?;
    if session.json() {
        session.print_json(json!({ "deployment": deployment }))?;
    } else if deployment.status == DeploymentStatus::Running && !session.quiet {
        session.print_lines(&[format!(
            "ready: `{}`",
            session.command(&format!(
                "generate --model {deployed_model} --image FRAME.jpg --wait -o out.mp4"
            ))
        )])?;
    }
    Ok(match deployment.status {
        DeploymentStatus::Running => Outcome::Clean,
        _ => Outcome::Failed,
    })
}

fn print_deployment(session: &Session, deployment: &Deployment) -> Result<()> {
    if session.json() {
        return session.print_json(json!({ "deployment": deployment }));
    }
    let mut lines = vec![format!(
        "deployment {}  {}  ({})",
        deployment.deployed_model,
        deployment.status,
        session.region()
    )];
    lines.extend(fields(&[
        (
            "model",
            or_dash(deployment.model_name.as_deref()).to_owned(),
        ),
        (
            "base model",
            or_dash(deployment.base_model.as_deref()).to_owned(),
        ),
        (
            "created",
            or_dash(deployment.gmt_create.as_deref()).to_owned(),
        ),
        (
            "modified",
            or_dash(deployment.gmt_modified.as_deref()).to_owned(),
        ),
        (
            "charge",
            or_dash(deployment.charge_type.as_deref()).to_owned(),
        ),
    ]));
    session.print_lines(&lines)
}
