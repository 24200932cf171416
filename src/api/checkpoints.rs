//! Checkpoints of a finished job: previews, export and export status (spec §6.11–§6.14).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Call, Client, Output};
use super::create::{self, Creation, Found};
use super::de::nullable;
use super::error::ApiError;
use super::jobs::job_path;
use super::status::status_enum;

/// Page size asked for when walking preview pages.
const PREVIEW_PAGE: u32 = 100;
/// Most preview pages read (a validation set is small).
const MAX_PREVIEW_PAGES: u32 = 100;
/// How often `--wait` looks at an export by default.
pub const EXPORT_POLL: Duration = Duration::from_secs(30);

/// The training step of `checkpoint-<step>`.
pub fn step_of(checkpoint: &str) -> Option<u64> {
    let digits = checkpoint.strip_prefix("checkpoint-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Orders checkpoint names by step (names without a step last, by name): the API's order is
/// not numeric (spec §6.11).
pub fn by_step(a: &str, b: &str) -> Ordering {
    let key = |name| (step_of(name).is_none(), step_of(name), name);
    key(a).cmp(&key(b))
}

/// An item of `validation-results`: documented as an object, once as a plain string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Previewed {
    Object {
        #[serde(default)]
        checkpoint: Option<String>,
    },
    Name(String),
}

/// `GET …/validation-results`: checkpoints whose previews were rendered, sorted by step. Empty
/// until the job has finished.
pub async fn previewed_checkpoints(client: &Client, job_id: &str) -> Result<Vec<String>, ApiError> {
    let items: Option<Vec<Previewed>> = client
        .get_output(&job_path(job_id, &["validation-results"]), &[])
        .await?;
    let mut names: Vec<String> = items
        .unwrap_or_default()
        .into_iter()
        .filter_map(|item| match item {
            Previewed::Object { checkpoint } => checkpoint,
            Previewed::Name(name) => Some(name),
        })
        .collect();
    names.sort_by(|a, b| by_step(a, b));
    Ok(names)
}

/// One validation line rendered at a checkpoint (spec §6.12). Links live 24 hours.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preview {
    /// Signed URL of the preview video.
    pub video_path: Option<String>,
    pub prompt: Option<String>,
    /// URL of the validation image.
    pub first_frame_path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PreviewPage {
    total: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    list: Vec<Preview>,
}

/// `GET …/validation-details/{checkpoint}`, every page.
pub async fn previews(
    client: &Client,
    job_id: &str,
    checkpoint: &str,
) -> Result<Vec<Preview>, ApiError> {
    let path = job_path(job_id, &["validation-details", checkpoint]);
    let mut all = Vec::new();
    for page in 1..=MAX_PREVIEW_PAGES {
        let query = [
            ("page_no", page.to_string()),
            ("page_size", PREVIEW_PAGE.to_string()),
        ];
        let answer: PreviewPage = client.get_output(&path, &query).await?;
        let got = answer.list.len();
        all.extend(answer.list);
        let done =
            got < PREVIEW_PAGE as usize || answer.total.is_some_and(|t| all.len() as u64 >= t);
        if done {
            break;
        }
    }
    Ok(all)
}

status_enum! {
    /// Export state of a checkpoint (spec §6.14).
    ExportStatus {
        /// Queued, or never exported.
        Pending = "PENDING",
        Processing = "PROCESSING",
        /// `model_name` can be deployed.
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        Unsupported = "UNSUPPORTED",
    }
}

impl ExportStatus {
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ExportStatus::Succeeded | ExportStatus::Failed | ExportStatus::Unsupported
        )
    }
}

/// A checkpoint and its export (spec §6.14, §8.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Checkpoint {
    pub checkpoint: String,
    /// `{job_id}:checkpoint-{step}` (spec §8.3).
    pub checkpoint_id: Option<String>,
    /// The training step; read [`Checkpoint::step`], which falls back on the name.
    #[serde(rename = "step")]
    pub step_field: Option<u64>,
    pub job_id: Option<String>,
    pub full_name: Option<String>,
    pub create_time: Option<String>,
    /// After this an unexported checkpoint can no longer be exported (spec §8.3).
    pub expire_time: Option<String>,
    pub status: ExportStatus,
    /// The deployable name, once exported.
    pub model_name: Option<String>,
    /// The name given at export.
    pub model_display_name: Option<String>,
}

impl Checkpoint {
    /// The training step: the `step` the platform sends, else the one in the name.
    pub fn step(&self) -> Option<u64> {
        self.step_field.or_else(|| step_of(&self.checkpoint))
    }

    /// True once the checkpoint is exported: it no longer expires.
    pub fn is_exported(&self) -> bool {
        self.status == ExportStatus::Succeeded
    }

    /// When export stops being possible, as an instant. `expire_time` carries no time zone;
    /// it is read as China Standard Time (UTC+8), the earlier of the two plausible readings
    /// (the platform's home zone, UTC), so warnings come early rather than late.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        parse_platform_time(self.expire_time.as_deref()?)
    }

    /// True once an export was asked for (a plain `PENDING` is also "never exported").
    pub fn export_requested(&self) -> bool {
        self.model_display_name.is_some() || self.status != ExportStatus::Pending
    }
}

/// How long before expiry an unexported checkpoint is worth a warning.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(3 * 24 * 3600);

/// An unexported checkpoint close to (or past) its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiring<'a> {
    pub checkpoint: &'a Checkpoint,
    pub expires_at: DateTime<Utc>,
    /// Time left at `now`; zero once expired.
    pub left: Duration,
}

impl Expiring<'_> {
    pub fn expired(&self) -> bool {
        self.left.is_zero()
    }
}

/// The unexported checkpoints that expire within `within` of `now` (expired ones included),
/// soonest first: what `checkpoints list`, `doctor` and `run` warn about (spec §8.3).
pub fn expiring_soon(
    checkpoints: &[Checkpoint],
    now: DateTime<Utc>,
    within: Duration,
) -> Vec<Expiring<'_>> {
    let mut soon: Vec<Expiring<'_>> = checkpoints
        .iter()
        .filter(|c| !c.is_exported())
        .filter_map(|checkpoint| {
            let expires_at = checkpoint.expires_at()?;
            let left = (expires_at - now).to_std().unwrap_or(Duration::ZERO);
            (left <= within).then_some(Expiring {
                checkpoint,
                expires_at,
                left,
            })
        })
        .collect();
    soon.sort_by_key(|e| e.expires_at);
    soon
}

/// A platform timestamp without zone (`2025-11-26T13:42:31`, optional fraction, `T` or a
/// space) read as UTC+8; one with a zone or `Z` as written.
pub fn parse_platform_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(zoned) = DateTime::parse_from_rfc3339(text) {
        return Some(zoned.with_timezone(&Utc));
    }
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())?;
    let china = FixedOffset::east_opt(8 * 3600)?;
    Some(
        naive
            .and_local_timezone(china)
            .single()?
            .with_timezone(&Utc),
    )
}

/// `GET …/checkpoints`: every kept checkpoint with its export state, sorted by step.
pub async fn checkpoints(client: &Client, job_id: &str) -> Result<Vec<Checkpoint>, ApiError> {
    let items: Option<Vec<Checkpoint>> = client
        .get_output(&job_path(job_id, &["checkpoints"]), &[])
        .await?;
    let mut items = items.unwrap_or_default();
    items.sort_by(|a, b| by_step(&a.checkpoint, &b.checkpoint));
    Ok(items)
}

/// `GET …/export/{checkpoint}?model_name=NAME`: starts an export (a GET that creates, so it is
/// sent at most once; see [`create`]). `false` ("not accepted", spec §6.13) is asked again after
/// a backoff. Returns the checkpoint as listed afterwards.
pub async fn export(
    client: &Client,
    job_id: &str,
    checkpoint: &str,
    display_name: &str,
) -> Result<Checkpoint, ApiError> {
    let creation = ExportCreation {
        job_id,
        checkpoint,
        display_name,
    };
    let operation = client.operation(&Method::GET, &creation.path());
    let policy = client.retry_policy();
    let mut refusals = 0;
    while !create::create_once(client, &creation, &operation).await? {
        if refusals >= policy.retries {
            return Err(ApiError::Invalid(format!(
                "{operation}: the export was not accepted after {} tries",
                refusals + 1
            )));
        }
        let delay = policy.delay(refusals, None);
        refusals += 1;
        let refused = ApiError::Invalid("the export was not accepted".into());
        super::retry::announce(
            policy,
            client.observer(),
            &operation,
            &refused,
            delay,
            refusals,
        );
        tokio::time::sleep(delay).await;
    }
    find_checkpoint(client, job_id, checkpoint).await
}

/// The checkpoint named `checkpoint` of the job, or `NotFound`-like `Invalid`.
pub async fn find_checkpoint(
    client: &Client,
    job_id: &str,
    checkpoint: &str,
) -> Result<Checkpoint, ApiError> {
    checkpoints(client, job_id)
        .await?
        .into_iter()
        .find(|c| c.checkpoint == checkpoint)
        .ok_or_else(|| ApiError::Invalid(format!("job {job_id} lists no checkpoint {checkpoint}")))
}

struct ExportCreation<'a> {
    job_id: &'a str,
    checkpoint: &'a str,
    display_name: &'a str,
}

impl ExportCreation<'_> {
    fn path(&self) -> Vec<&str> {
        job_path(self.job_id, &["export", self.checkpoint])
    }
}

impl Creation for ExportCreation<'_> {
    /// Whether the platform accepted the export.
    type Created = bool;
    /// Checkpoints whose export was already asked for.
    type Survey = HashSet<String>;

    async fn survey(&self, client: &Client) -> Result<HashSet<String>, ApiError> {
        Ok(checkpoints(client, self.job_id)
            .await?
            .into_iter()
            .filter(Checkpoint::export_requested)
            .map(|c| c.checkpoint)
            .collect())
    }

    async fn send(&self, client: &Client) -> Result<bool, ApiError> {
        let path = self.path();
        let query = [("model_name", self.display_name.to_owned())];
        let call = Call::new(&Method::GET, &path).query(&query);
        let answer: Output<Option<bool>> = client.once(call).await?;
        Ok(answer.output.unwrap_or(false))
    }

    async fn find(
        &self,
        client: &Client,
        before: &HashSet<String>,
    ) -> Result<Found<bool>, ApiError> {
        let started = checkpoints(client, self.job_id)
            .await?
            .into_iter()
            .any(|c| {
                c.checkpoint == self.checkpoint
                    && c.export_requested()
                    && (!before.contains(&c.checkpoint)
                        || c.model_display_name.as_deref() == Some(self.display_name))
            });
        Ok(if started {
            Found::Created(true)
        } else {
            Found::Nothing
        })
    }

    fn id_of(_: &bool) -> String {
        "export".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_sort_numerically() {
        let mut names: Vec<String> = ["checkpoint-160", "checkpoint-20", "odd", "checkpoint-40"]
            .map(String::from)
            .to_vec();
        names.sort_by(|a, b| by_step(a, b));
        assert_eq!(
            names,
            ["checkpoint-20", "checkpoint-40", "checkpoint-160", "odd"]
        );
        assert_eq!(step_of("checkpoint-+1"), None);
        assert_eq!(step_of("checkpoint-"), None);
    }

    #[test]
    fn both_shapes_of_validation_results_are_read() {
        let items: Vec<Previewed> =
            serde_json::from_str(r#"[{"checkpoint":"checkpoint-20"},"checkpoint-40",{}]"#).unwrap();
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[1], Previewed::Name(n) if n == "checkpoint-40"));
    }

    #[test]
    fn identity_and_expiry_are_read_and_near_expiry_is_found() {
        let listed: Vec<Checkpoint> = serde_json::from_str(
            r#"[{"checkpoint":"checkpoint-180","checkpoint_id":"ft-1:checkpoint-180","step":180,
                 "create_time":"2025-11-11T13:42:31","expire_time":"2025-11-26T13:42:31",
                 "status":"PENDING"},
                {"checkpoint":"checkpoint-160","expire_time":"2025-11-12T00:00:00.500",
                 "status":"PENDING"},
                {"checkpoint":"checkpoint-140","expire_time":"2025-11-12T00:00:00",
                 "status":"SUCCEEDED","model_name":"m-c140"},
                {"checkpoint":"checkpoint-120","status":"PENDING"}]"#,
        )
        .unwrap();
        assert_eq!(listed[0].step(), Some(180));
        assert_eq!(
            listed[0].checkpoint_id.as_deref(),
            Some("ft-1:checkpoint-180")
        );
        // No zone: read as UTC+8.
        let expiry = listed[0].expires_at().unwrap();
        assert_eq!(expiry.to_rfc3339(), "2025-11-26T05:42:31+00:00");
        let now = parse_platform_time("2025-11-24T13:42:31").unwrap();
        let soon = expiring_soon(&listed, now, EXPIRY_WARNING);
        let names: Vec<&str> = soon
            .iter()
            .map(|e| e.checkpoint.checkpoint.as_str())
            .collect();
        // 160 expired (listed first), 180 in two days; 140 is exported, 120 has no expiry.
        assert_eq!(names, ["checkpoint-160", "checkpoint-180"]);
        assert!(soon[0].expired() && !soon[1].expired());
        assert_eq!(soon[1].left, Duration::from_secs(2 * 24 * 3600));
        assert!(expiring_soon(&listed, now, Duration::from_secs(3600)).len() == 1);
        assert_eq!(
            parse_platform_time("2025-11-26T13:42:31Z")
                .unwrap()
                .to_rfc3339(),
            "2025-11-26T13:42:31+00:00"
        );
        assert_eq!(parse_platform_time("yesterday"), None);
    }

    #[test]
    fn a_plain_pending_checkpoint_was_never_exported() {
        let listed: Vec<Checkpoint> = serde_json::from_str(
            r#"[{"checkpoint":"checkpoint-180","status":"PENDING"},
                {"checkpoint":"checkpoint-160","status":"SUCCEEDED","model_name":"m-c160",
                 "model_display_name":"mine"}]"#,
        )
        .unwrap();
        assert!(!listed[0].export_requested());
        assert!(listed[1].export_requested() && listed[1].status.is_terminal());
        assert_eq!(listed[1].step(), Some(160));
    }
}
