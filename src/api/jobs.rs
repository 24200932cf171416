//! Fine-tuning jobs (spec §6.5–§6.10).

use std::collections::HashSet;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::client::{Call, Client, Output};
use super::create::{self, Creation, Found};
use super::de::{hyper_echo, nullable};
use super::error::{ApiError, HttpFailure, JobQuotaFull};
use super::status::status_enum;
use crate::hyper::HyperParams;
use crate::models::{self, ModelProfile};

const JOBS: [&str; 3] = ["api", "v1", "fine-tunes"];
/// The only training type (LoRA).
const EFFICIENT_SFT: &str = "efficient_sft";
/// Largest page of the job listing.
pub const MAX_PAGE_SIZE: u32 = 100;

status_enum! {
    /// Where a job is in its life (spec §6.5); the last three are terminal.
    JobStatus {
        Pending = "PENDING",
        /// Waiting: one training job per account runs at a time.
        Queuing = "QUEUING",
        Running = "RUNNING",
        Canceling = "CANCELING",
        Succeeded = "SUCCEEDED",
        /// Failed, not billed.
        Failed = "FAILED",
        /// Cancelled; the tokens consumed so far are billed.
        Canceled = "CANCELED",
    }
}

impl JobStatus {
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Canceled
        )
    }
}

/// A job record (spec §6.5, §6.6). Timestamps stay as the API wrote them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Job {
    pub job_id: String,
    pub job_name: Option<String>,
    /// The name given to the resulting model at create (spec §8.5).
    pub model_name: Option<String>,
    pub status: JobStatus,
    /// The resulting model's name, used to deploy it.
    pub finetuned_output: Option<String>,
    pub model: Option<String>,
    pub base_model: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub training_file_ids: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub validation_file_ids: Vec<String>,
    /// The effective values; the echo may omit keys.
    #[serde(deserialize_with = "hyper_echo")]
    pub hyper_parameters: HyperParams,
    pub training_type: Option<String>,
    pub create_time: Option<String>,
    pub end_time: Option<String>,
    pub workspace_id: Option<String>,
    /// Checkpoints kept at most (`save_total_limit`).
    pub max_output_cnt: Option<u64>,
    /// Checkpoints actually kept.
    pub output_cnt: Option<u64>,
    /// Training tokens: the billing basis.
    pub usage: Option<u64>,
}

/// One page of the job listing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JobPage {
    pub page_no: Option<u64>,
    pub page_size: Option<u64>,
    pub total: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    pub jobs: Vec<Job>,
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    /// Only jobs of this base model.
    pub model: Option<String>,
    /// 1-based.
    pub page_no: u32,
    /// At most [`MAX_PAGE_SIZE`].
    pub page_size: u32,
}

/// A page of a job's log (spec §8.1): `logs` from line `offset` on, `total` lines in all.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JobLogs {
    pub total: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    pub logs: Vec<String>,
}

/// Lines asked for per log page: the platform's maximum (it answers 100 when not asked).
pub const LOG_PAGE_LINES: u32 = 1000;
/// Most pages read in one go (ten million lines), so a server that ignores `offset` cannot
/// keep a reader busy forever.
const MAX_LOG_PAGES: usize = 10_000;

/// Reads a job's log from where it last stopped: each line is handed out once, however often
/// it is asked (`jobs logs --follow`, `run`'s live tail).
#[derive(Debug, Clone)]
pub struct LogCursor {
    job_id: String,
    /// Lines already handed out.
    offset: u64,
}

impl LogCursor {
    /// A cursor at the first line of `job_id`'s log.
    pub fn new(job_id: impl Into<String>) -> Self {
        LogCursor {
            job_id: job_id.into(),
            offset: 0,
        }
    }

    /// Lines handed out so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Every line logged since the last call (all of them the first time), paging as needed.
    pub async fn next_lines(&mut self, client: &Client) -> Result<Vec<String>, ApiError> {
        let mut fresh = Vec::new();
        for _ in 0..MAX_LOG_PAGES {
            let page = log_page(client, &self.job_id, self.offset, LOG_PAGE_LINES).await?;
            let mut lines = page.logs;
            // A server that ignores `offset` answers from the first line again: more lines than
            // remain after the offset. Skip what was handed out already.
            if let Some(total) = page.total
                && lines.len() as u64 > total.saturating_sub(self.offset)
            {
                let seen = usize::try_from(self.offset).unwrap_or(usize::MAX);
                lines.drain(..seen.min(lines.len()));
            }
            let got = lines.len() as u64;
            self.offset += got;
            fresh.extend(lines);
            // A full page may have more behind it; a short one (or one that ignored `line`)
            // is the end.
            let at_end = got != u64::from(LOG_PAGE_LINES)
                || page.total.is_some_and(|total| self.offset >= total);
            if at_end {
                break;
            }
        }
        Ok(fresh)
    }
}

/// A job to create.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub model: &'static ModelProfile,
    pub training_file_ids: Vec<String>,
    /// Empty: the platform splits the training set (spec §4.2).
    pub validation_file_ids: Vec<String>,
    /// As given; the five keys documented as required are filled in when sent.
    pub hyper_parameters: HyperParams,
    /// `job_name` (spec §8.5). `None`: [`create_job`] sends a fresh unique one, which is how
    /// a create whose answer was lost finds its own job, even among concurrent creates.
    pub job_name: Option<String>,
    /// `model_name`: a name for the resulting model (spec §8.5).
    pub model_name: Option<String>,
}

/// A job name no other create sends: `wanft-<UTC time>-<random>`.
pub fn unique_job_name() -> String {
    format!(
        "wanft-{}-{:08x}",
        chrono::Utc::now().format("%Y%m%d%H%M%S"),
        rand::random::<u32>()
    )
}

impl NewJob {
    /// The hyper-parameters as sent: all five "required" keys present (spec §4).
    pub fn hyper_for_request(&self) -> HyperParams {
        self.hyper_parameters.for_request(self.model)
    }

    /// The create-job body of spec §6.5.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "model": self.model.name,
            "training_file_ids": self.training_file_ids,
            "training_type": EFFICIENT_SFT,
            "hyper_parameters": self.hyper_for_request(),
        });
        if !self.validation_file_ids.is_empty() {
            body["validation_file_ids"] = json!(self.validation_file_ids);
        }
        if let Some(name) = &self.job_name {
            body["job_name"] = json!(name);
        }
        if let Some(name) = &self.model_name {
            body["model_name"] = json!(name);
        }
        body
    }

    /// Whether `job` is the one this request created. With a job name, the name decides; a
    /// server that does not keep names (it echoes the job id) is matched as before names
    /// existed: same model, same files, the same value for every hyper-parameter both sides
    /// state.
    fn created(&self, job: &Job) -> bool {
        let echoed = job.job_name.as_deref().filter(|n| *n != job.job_id);
        match (&self.job_name, echoed) {
            (Some(sent), Some(echoed)) => sent == echoed,
            _ => self.matches(job),
        }
    }

    /// Same model, same files, and the same value for every hyper-parameter both sides state.
    fn matches(&self, job: &Job) -> bool {
        let same_model =
            job.model.as_deref().or(job.base_model.as_deref()) == Some(self.model.name);
        same_model
            && same_ids(&job.training_file_ids, &self.training_file_ids)
            && same_ids(&job.validation_file_ids, &self.validation_file_ids)
            && compatible(&job.hyper_parameters, &self.hyper_for_request())
    }
}

/// `/api/v1/fine-tunes/{job_id}/{rest…}`.
pub(crate) fn job_path<'a>(job_id: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut path = JOBS.to_vec();
    path.push(job_id);
    path.extend_from_slice(rest);
    path
}

fn same_ids(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// True when every key set on both sides has the same value (floats within rounding).
fn compatible(echo: &HyperParams, sent: &HyperParams) -> bool {
    let as_map = |h: &HyperParams| match serde_json::to_value(h) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let (echo, sent) = (as_map(echo), as_map(sent));
    echo.iter().all(|(key, echoed)| match sent.get(key) {
        None => true,
        Some(given) => match (echoed.as_f64(), given.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300),
            _ => echoed == given,
        },
    })
}

/// `POST /api/v1/fine-tunes`, at most once (see [`create`]). A refusal for the job quota comes
/// back as [`ApiError::JobQuota`], listing the jobs that count.
pub async fn create_job(client: &Client, job: &NewJob) -> Result<Job, ApiError> {
    let operation = client.operation(&Method::POST, &JOBS);
    let named;
    let job = match job.job_name {
        Some(_) => job,
        None => {
            named = NewJob {
                job_name: Some(unique_job_name()),
                ..job.clone()
            };
            &named
        }
    };
    match create::create_once(client, &JobCreation { job }, &operation).await {
        Err(ApiError::Http(failure)) if is_quota_refusal(&failure) => {
            // Best effort: the refusal stands even when the jobs cannot be listed.
            let quota = job_quota(client).await.ok();
            Err(ApiError::JobQuota(Box::new(JobQuotaFull {
                refusal: Some(*failure),
                quota,
            })))
        }
        other => other,
    }
}

/// A 429 `Throttling` without suffix on create: the job quota (spec §7.2, §8.2), not a rate
/// limit (those carry `.RateQuota` or `.AllocationQuota`).
fn is_quota_refusal(failure: &HttpFailure) -> bool {
    failure.status == 429 && failure.code.as_deref() == Some("Throttling")
}

/// How much of the job quota is used (spec §8.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobQuota {
    /// Jobs allowed at once ([`models::JOB_QUOTA`]).
    pub limit: usize,
    /// The jobs that count against it, oldest first.
    pub counted: Vec<Job>,
}

impl JobQuota {
    pub fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.counted.len())
    }

    pub fn is_full(&self) -> bool {
        self.remaining() == 0
    }
}

/// Whether a job in `status` counts against the quota: "running or succeeded" (spec §8.2),
/// read conservatively: everything but failed and cancelled jobs, unfamiliar states included.
pub fn counts_against_quota(status: &JobStatus) -> bool {
    !matches!(status, JobStatus::Failed | JobStatus::Canceled)
}

/// Most listing pages walked (ten thousand jobs).
const MAX_JOB_PAGES: u32 = 100;

/// Every job of the account, newest first, walking the listing's pages.
pub async fn all_jobs(client: &Client) -> Result<Vec<Job>, ApiError> {
    let mut all = Vec::new();
    for page_no in 1..=MAX_JOB_PAGES {
        let query = JobQuery {
            model: None,
            page_no,
            page_size: MAX_PAGE_SIZE,
        };
        let page = list_jobs(client, &query).await?;
        let got = page.jobs.len();
        all.extend(page.jobs);
        if got < MAX_PAGE_SIZE as usize || page.total.is_some_and(|t| all.len() as u64 >= t) {
            break;
        }
    }
    Ok(all)
}

/// The jobs counting against the quota, oldest first.
pub async fn job_quota(client: &Client) -> Result<JobQuota, ApiError> {
    let mut counted: Vec<Job> = all_jobs(client)
        .await?
        .into_iter()
        .filter(|j| counts_against_quota(&j.status))
        .collect();
    // `create_time` ("2025-11-11 11:22:22") sorts as text; the id breaks ties.
    counted.sort_by(|a, b| (&a.create_time, &a.job_id).cmp(&(&b.create_time, &b.job_id)));
    Ok(JobQuota {
        limit: models::JOB_QUOTA,
        counted,
    })
}

/// The check before spending (`upload`, `jobs create`, `run`): the quota's use, or
/// [`ApiError::JobQuota`] when no job can be created.
pub async fn ensure_job_quota(client: &Client) -> Result<JobQuota, ApiError> {
    let quota = job_quota(client).await?;
    if quota.is_full() {
        return Err(ApiError::JobQuota(Box::new(JobQuotaFull {
            refusal: None,
            quota: Some(quota),
        })));
    }
    Ok(quota)
}

struct JobCreation<'a> {
    job: &'a NewJob,
}

impl JobCreation<'_> {
    /// The newest jobs of the model: a job created by a lost attempt is among them.
    async fn recent(&self, client: &Client) -> Result<Vec<Job>, ApiError> {
        let query = JobQuery {
            model: Some(self.job.model.name.to_owned()),
            page_no: 1,
            page_size: MAX_PAGE_SIZE,
        };
        Ok(list_jobs(client, &query).await?.jobs)
    }
}

impl Creation for JobCreation<'_> {
    type Created = Job;
    /// Ids of the model's jobs before the first attempt.
    type Survey = HashSet<String>;

    async fn survey(&self, client: &Client) -> Result<HashSet<String>, ApiError> {
        Ok(self
            .recent(client)
            .await?
            .into_iter()
            .map(|j| j.job_id)
            .collect())
    }

    async fn send(&self, client: &Client) -> Result<Job, ApiError> {
        let body = self.job.body();
        let call = Call::new(&Method::POST, &JOBS).body(&body);
        client.post_output_once(call).await
    }

    async fn find(
        &self,
        client: &Client,
        before: &HashSet<String>,
    ) -> Result<Found<Job>, ApiError> {
        // Newest first: the first new match is the lost attempt's job.
        let found = self
            .recent(client)
            .await?
            .into_iter()
            .find(|j| !before.contains(&j.job_id) && self.job.created(j));
        Ok(found.map_or(Found::Nothing, Found::Created))
    }

    fn id_of(job: &Job) -> String {
        job.job_id.clone()
    }
}

/// The job that a create of `job` made after `before` was surveyed (a create whose answer was
/// lost, or whose process was killed before it wrote the id down): the newest job of the model
/// not in `before` that matches the request.
pub async fn find_created(
    client: &Client,
    job: &NewJob,
    before: &HashSet<String>,
) -> Result<Option<Job>, ApiError> {
    let creation = JobCreation { job };
    Ok(match creation.find(client, before).await? {
        Found::Created(job) => Some(job),
        Found::Nothing | Found::Unknowable => None,
    })
}

/// Ids of the newest jobs of `model` (the survey before a create).
pub async fn recent_job_ids(
    client: &Client,
    model: &'static ModelProfile,
) -> Result<Vec<String>, ApiError> {
    let query = JobQuery {
        model: Some(model.name.to_owned()),
        page_no: 1,
        page_size: MAX_PAGE_SIZE,
    };
    Ok(list_jobs(client, &query)
        .await?
        .jobs
        .into_iter()
        .map(|j| j.job_id)
        .collect())
}

/// `GET /api/v1/fine-tunes/{job_id}`.
pub async fn get_job(client: &Client, job_id: &str) -> Result<Job, ApiError> {
    client.get_output(&job_path(job_id, &[]), &[]).await
}

/// `GET /api/v1/fine-tunes` (newest first on the platform).
pub async fn list_jobs(client: &Client, query: &JobQuery) -> Result<JobPage, ApiError> {
    let mut params = vec![
        ("page_no", query.page_no.max(1).to_string()),
        (
            "page_size",
            query.page_size.clamp(1, MAX_PAGE_SIZE).to_string(),
        ),
    ];
    if let Some(model) = &query.model {
        params.push(("model", model.clone()));
    }
    client.get_output(&JOBS, &params).await
}

/// `GET /api/v1/fine-tunes/{job_id}/logs?offset=…&line=…`: one page of the log.
pub async fn log_page(
    client: &Client,
    job_id: &str,
    offset: u64,
    lines: u32,
) -> Result<JobLogs, ApiError> {
    let query = [
        ("offset", offset.to_string()),
        ("line", lines.clamp(1, LOG_PAGE_LINES).to_string()),
    ];
    client
        .get_output(&job_path(job_id, &["logs"]), &query)
        .await
}

/// The whole log of a job, every line once, read page by page.
pub async fn job_logs(client: &Client, job_id: &str) -> Result<JobLogs, ApiError> {
    let logs = LogCursor::new(job_id).next_lines(client).await?;
    Ok(JobLogs {
        total: Some(logs.len() as u64),
        logs,
    })
}

/// `POST /api/v1/fine-tunes/{job_id}/cancel`. Asking twice is harmless, so it is retried.
pub async fn cancel_job(client: &Client, job_id: &str) -> Result<(), ApiError> {
    let path = job_path(job_id, &["cancel"]);
    let _: Output<Value> = client.repeatable(Call::new(&Method::POST, &path)).await?;
    Ok(())
}

/// `DELETE /api/v1/fine-tunes/{job_id}` (terminal jobs only).
pub async fn delete_job(client: &Client, job_id: &str) -> Result<(), ApiError> {
    let _: Value = client.delete_output(&job_path(job_id, &[])).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models;

    fn new_job() -> NewJob {
        NewJob {
            model: models::find("wan2.5-i2v-preview").unwrap(),
            training_file_ids: vec!["f1".into(), "f2".into()],
            validation_file_ids: vec![],
            hyper_parameters: HyperParams {
                n_epochs: Some(300),
                ..HyperParams::default()
            },
            job_name: None,
            model_name: None,
        }
    }

    #[test]
    fn job_records_read_leniently() {
        let job: Job = serde_json::from_str(
            r#"{"job_id":"ft-1","status":"SUCCEEDED","hyper_parameters":{"n_epochs":400,
                "learning_rate":2.0E-5,"max_output_cnt":8},"usage":432000,"new_key":[1],
                "validation_file_ids":null}"#,
        )
        .unwrap();
        assert_eq!(job.status, JobStatus::Succeeded);
        assert!(job.status.is_terminal());
        assert_eq!(job.usage, Some(432_000));
        assert_eq!(job.hyper_parameters.learning_rate, Some(2e-5));
        assert!(job.validation_file_ids.is_empty());
        let odd: Job = serde_json::from_str(r#"{"job_id":"ft-2","status":"PAUSED"}"#).unwrap();
        assert_eq!(odd.status, JobStatus::Other("PAUSED".into()));
        assert!(!odd.status.is_terminal());
    }

    #[test]
    fn the_body_carries_the_required_keys_and_omits_empty_validation() {
        let body = new_job().body();
        assert_eq!(body["training_type"], "efficient_sft");
        assert_eq!(body["hyper_parameters"]["n_epochs"], 300);
        assert_eq!(body["hyper_parameters"]["batch_size"], 2);
        assert!(body.get("validation_file_ids").is_none());
    }

    #[test]
    fn a_named_request_knows_its_job_by_name() {
        let mut request = new_job();
        request.job_name = Some("wanft-a".into());
        let body = request.body();
        assert_eq!(body["job_name"], "wanft-a");
        assert!(body.get("model_name").is_none());
        let twin = Job {
            job_id: "ft-1".into(),
            job_name: Some("wanft-b".into()),
            model: Some("wan2.5-i2v-preview".into()),
            training_file_ids: vec!["f1".into(), "f2".into()],
            hyper_parameters: HyperParams {
                n_epochs: Some(300),
                ..HyperParams::default()
            },
            ..Job::default()
        };
        assert!(request.matches(&twin), "same parameters…");
        assert!(!request.created(&twin), "…but another create's name");
        let ours = Job {
            job_name: Some("wanft-a".into()),
            ..twin.clone()
        };
        assert!(request.created(&ours));
        // A server that does not keep names echoes the id: parameters decide.
        let unnamed = Job {
            job_name: Some("ft-1".into()),
            ..twin
        };
        assert!(request.created(&unnamed));
        assert_ne!(unique_job_name(), unique_job_name());
        assert!(unique_job_name().starts_with("wanft-"));
    }

    #[test]
    fn matching_ignores_order_and_omitted_echo_keys() {
        let request = new_job();
        let echo = Job {
            job_id: "ft-1".into(),
            model: Some("wan2.5-i2v-preview".into()),
            training_file_ids: vec!["f2".into(), "f1".into()],
            hyper_parameters: HyperParams {
                n_epochs: Some(300),
                learning_rate: Some(2e-5 * (1.0 + 1e-12)),
                ..HyperParams::default()
            },
            ..Job::default()
        };
        assert!(request.matches(&echo));
        let other_epochs = Job {
            hyper_parameters: HyperParams {
                n_epochs: Some(400),
                ..HyperParams::default()
            },
            ..echo.clone()
        };
        assert!(!request.matches(&other_epochs));
        let other_files = Job {
            training_file_ids: vec!["f1".into()],
            ..echo.clone()
        };
        assert!(!request.matches(&other_files));
        let other_model = Job {
            model: Some("wan2.2-i2v-flash".into()),
            ..echo
        };
        assert!(!request.matches(&other_model));
    }
}
