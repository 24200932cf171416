//! LoRA deployments (spec §6.15–§6.17).

use std::collections::HashSet;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::{Call, Client};
use super::create::{self, Creation, Found};
use super::de::nullable;
use super::error::ApiError;
use super::status::status_enum;

const DEPLOYMENTS: [&str; 3] = ["api", "v1", "deployments"];
/// Page size used to walk the listing, and how many pages at most.
const PAGE_SIZE: u32 = 100;
const MAX_PAGES: u32 = 100;

status_enum! {
    /// State of a deployment (spec §6.16).
    DeploymentStatus {
        Pending = "PENDING",
        /// Serving: the model can be called.
        Running = "RUNNING",
        Failed = "FAILED",
        /// Stopped: payment overdue.
        ArrearsDown = "ARREARS_DOWN",
        ArrearsRecovering = "ARREARS_RECOVERING",
        Offlining = "OFFLINING",
        Updating = "UPDATING",
        UpdatingFailed = "UPDATING_FAILED",
        Deleting = "DELETING",
    }
}

impl DeploymentStatus {
    /// States a deployment does not leave by waiting for it to come up.
    pub fn is_settled(&self) -> bool {
        matches!(
            self,
            DeploymentStatus::Running
                | DeploymentStatus::Failed
                | DeploymentStatus::UpdatingFailed
                | DeploymentStatus::ArrearsDown
                | DeploymentStatus::Offlining
                | DeploymentStatus::Deleting
        )
    }
}

/// A deployment record (spec §6.15).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Deployment {
    /// The id used to query, delete and call the deployment.
    pub deployed_model: String,
    pub model_name: Option<String>,
    pub status: DeploymentStatus,
    pub base_model: Option<String>,
    pub gmt_create: Option<String>,
    pub gmt_modified: Option<String>,
    pub workspace_id: Option<String>,
    pub charge_type: Option<String>,
    pub plan: Option<String>,
    pub capacity: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentPage {
    pub page_no: Option<u64>,
    pub page_size: Option<u64>,
    pub total: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    pub deployments: Vec<Deployment>,
}

/// How a deployment handles prompts at call time (spec §6.15).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AigcConfig {
    /// `true`: the caller's prompt is used verbatim; `false`: prompts are written from `prompt`.
    pub use_input_prompt: bool,
    /// Captioning instruction, output template and example (needed when `use_input_prompt` is
    /// false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Fallback prompt when captioning fails (needed when `use_input_prompt` is false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lora_prompt_default: Option<String>,
}

impl AigcConfig {
    /// Checks the config is complete before anything is sent.
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.use_input_prompt {
            return Ok(());
        }
        let missing: Vec<&str> = [
            ("prompt", &self.prompt),
            ("lora_prompt_default", &self.lora_prompt_default),
        ]
        .into_iter()
        .filter(|(_, v)| v.as_deref().is_none_or(|t| t.trim().is_empty()))
        .map(|(k, _)| k)
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(format!(
                "the deployment writes prompts itself (use_input_prompt = false) and needs {} \
                 in [deploy] of wanft.toml; or pass --use-input-prompt",
                missing.join(" and ")
            )))
        }
    }
}

/// A deployment to create.
#[derive(Debug, Clone)]
pub struct NewDeployment {
    /// A job's `finetuned_output`, or an exported checkpoint's `model_name`.
    pub model_name: String,
    /// Instances; use 1.
    pub capacity: u32,
    /// Optional (spec §8.6): without it the platform's default prompt handling applies.
    pub aigc_config: Option<AigcConfig>,
}

impl NewDeployment {
    pub fn body(&self) -> Value {
        let mut body = json!({
            "model_name": self.model_name,
            "capacity": self.capacity,
            "plan": "lora",
        });
        if let Some(config) = &self.aigc_config {
            body["aigc_config"] = json!(config);
        }
        body
    }
}

fn deployment_path(id: &str) -> [&str; 4] {
    [DEPLOYMENTS[0], DEPLOYMENTS[1], DEPLOYMENTS[2], id]
}

/// `POST /api/v1/deployments`, at most once (see [`create`]).
pub async fn create_deployment(
    client: &Client,
    deployment: &NewDeployment,
) -> Result<Deployment, ApiError> {
    if let Some(config) = &deployment.aigc_config {
        config.validate()?;
    }
    let operation = client.operation(&Method::POST, &DEPLOYMENTS);
    create::create_once(client, &DeploymentCreation { deployment }, &operation).await
}

struct DeploymentCreation<'a> {
    deployment: &'a NewDeployment,
}

impl DeploymentCreation<'_> {
    async fn of_model(&self, client: &Client) -> Result<Vec<Deployment>, ApiError> {
        let model = self.deployment.model_name.as_str();
        Ok(all_deployments(client)
            .await?
            .into_iter()
            .filter(|d| d.model_name.as_deref() == Some(model) || d.deployed_model == model)
            .collect())
    }
}

impl Creation for DeploymentCreation<'_> {
    type Created = Deployment;
    type Survey = HashSet<String>;

    async fn survey(&self, client: &Client) -> Result<HashSet<String>, ApiError> {
        Ok(self
            .of_model(client)
            .await?
            .into_iter()
            .map(|d| d.deployed_model)
            .collect())
    }

    async fn send(&self, client: &Client) -> Result<Deployment, ApiError> {
        let body = self.deployment.body();
        client
            .post_output_once(Call::new(&Method::POST, &DEPLOYMENTS).body(&body))
            .await
    }

    async fn find(
        &self,
        client: &Client,
        before: &HashSet<String>,
    ) -> Result<Found<Deployment>, ApiError> {
        let found = self.of_model(client).await?.into_iter().find(|d| {
            !before.contains(&d.deployed_model) && d.status != DeploymentStatus::Deleting
        });
        Ok(found.map_or(Found::Nothing, Found::Created))
    }

    fn id_of(deployment: &Deployment) -> String {
        deployment.deployed_model.clone()
    }
}

/// `GET /api/v1/deployments/{deployed_model}`.
pub async fn get_deployment(client: &Client, deployed_model: &str) -> Result<Deployment, ApiError> {
    client
        .get_output(&deployment_path(deployed_model), &[])
        .await
}

/// `GET /api/v1/deployments`: one page.
pub async fn list_deployments(
    client: &Client,
    page_no: u32,
    page_size: u32,
) -> Result<DeploymentPage, ApiError> {
    let query = [
        ("page_no", page_no.max(1).to_string()),
        ("page_size", page_size.clamp(1, PAGE_SIZE).to_string()),
    ];
    client.get_output(&DEPLOYMENTS, &query).await
}

/// Every deployment, walking the pages.
pub async fn all_deployments(client: &Client) -> Result<Vec<Deployment>, ApiError> {
    let mut all = Vec::new();
    for page in 1..=MAX_PAGES {
        let listing = list_deployments(client, page, PAGE_SIZE).await?;
        let got = listing.deployments.len();
        all.extend(listing.deployments);
        if got < PAGE_SIZE as usize || listing.total.is_some_and(|t| all.len() as u64 >= t) {
            break;
        }
    }
    Ok(all)
}

/// `DELETE /api/v1/deployments/{deployed_model}`: immediate and irreversible. Answers the record
/// with `DELETING`.
pub async fn delete_deployment(
    client: &Client,
    deployed_model: &str,
) -> Result<Deployment, ApiError> {
    client.delete_output(&deployment_path(deployed_model)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_templates_are_required_unless_the_input_prompt_is_used() {
        let mut config = AigcConfig::default();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("prompt and lora_prompt_default"), "{err}");
        config.prompt = Some("describe…".into());
        config.lora_prompt_default = Some("  ".into());
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("needs lora_prompt_default")
        );
        config.use_input_prompt = true;
        assert!(config.validate().is_ok());
        let body = NewDeployment {
            model_name: "m".into(),
            capacity: 1,
            aigc_config: Some(AigcConfig {
                use_input_prompt: true,
                ..AigcConfig::default()
            }),
        }
        .body();
        assert_eq!(body["plan"], "lora");
        assert_eq!(body["aigc_config"], json!({ "use_input_prompt": true }));
        let bare = NewDeployment {
            model_name: "m".into(),
            capacity: 1,
            aigc_config: None,
        }
        .body();
        assert!(bare.get("aigc_config").is_none(), "{bare}");
    }

    #[test]
    fn records_read_leniently() {
        let d: Deployment = serde_json::from_str(
            r#"{"deployed_model":"m","status":"RUNNING","gmt_create":"2025-11-11T17:46:53.294","x":1}"#,
        )
        .unwrap();
        assert_eq!(d.status, DeploymentStatus::Running);
        assert!(d.status.is_settled());
        assert!(!DeploymentStatus::Pending.is_settled());
    }
}
