//! `wanft doctor`: what will cost or block a user before they start, in one look.
//!
//! Account checks ([`diagnose_account`]) ask the API: whether the key works in the region, the
//! jobs counted against the 20-job quota (spec §8.2), the deployments that are up, and the
//! unexported checkpoints of succeeded jobs that expire soon (spec §8.3). Local checks
//! ([`diagnose_local`]) need no network: the age of the built-in price table and ffmpeg.
//! Each finding has a [`Level`]; the command fails when one is a [`Level::Problem`].

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::api::checkpoints::{self, EXPIRY_WARNING};
use crate::api::deployments::{self, DeploymentStatus};
use crate::api::jobs::{self, Job, JobStatus};
use crate::api::{ApiError, Client};
use crate::media::ffmpeg::Ffmpeg;
use crate::models::{self, PRICES_AS_OF};

/// A price table older than this is worth a warning: prices change several times a year.
pub const PRICE_TABLE_MAX_AGE_DAYS: i64 = 180;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    /// Worth knowing; nothing is blocked.
    Warning,
    /// Something will fail or cost money unless dealt with.
    Problem,
}

/// One line of the diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `key`, `job-quota`, `deployments`, `checkpoints`, `prices`, `ffmpeg`.
    pub topic: &'static str,
    pub level: Level,
    pub summary: String,
    /// Details, one per line (the jobs counted, the deployments up, …).
    pub details: Vec<String>,
    /// What to do, when something should be done.
    pub hint: Option<String>,
}

impl Check {
    fn new(topic: &'static str, level: Level, summary: impl Into<String>) -> Self {
        Check {
            topic,
            level,
            summary: summary.into(),
            details: Vec::new(),
            hint: None,
        }
    }

    fn details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

fn job_line(job: &Job) -> String {
    format!(
        "{}  {:<9}  {}  {}",
        job.job_id,
        job.status.as_str(),
        job.model.as_deref().unwrap_or("-"),
        job.create_time.as_deref().unwrap_or("-")
    )
}

/// The account checks. A key the region refuses stops them there (every other call would fail
/// the same way); other failures are reported per check.
pub async fn diagnose_account(client: &Client) -> Vec<Check> {
    let region = client.region();
    let quota = match jobs::job_quota(client).await {
        Ok(quota) => quota,
        Err(e) if e.http().is_some_and(|f| f.status == 401) => {
            return vec![
                Check::new(
                    "key",
                    Level::Problem,
                    format!("the API key is not valid in {region}"),
                )
                .hint(e.hint().unwrap_or_default()),
            ];
        }
        Err(e) => return vec![unanswered("key", &e)],
    };
    let mut checks = vec![Check::new(
        "key",
        Level::Ok,
        format!("the API key works in {region}"),
    )];
    let counted = quota.counted.len();
    let level = if quota.is_full() {
        Level::Problem
    } else if quota.remaining() <= 2 {
        Level::Warning
    } else {
        Level::Ok
    };
    let mut check = Check::new(
        "job-quota",
        level,
        format!(
            "{counted} of {} jobs count against the job quota (running or succeeded)",
            quota.limit
        ),
    )
    .details(quota.counted.iter().map(job_line).collect());
    if level != Level::Ok {
        check = check.hint(
            "delete succeeded jobs whose models you no longer need (`wanft jobs delete ID`, \
             oldest first): a full quota refuses every new job",
        );
    }
    checks.push(check);
    checks.push(deployments_check(client).await);
    let succeeded: Vec<&Job> = quota
        .counted
        .iter()
        .filter(|j| j.status == JobStatus::Succeeded)
        .collect();
    checks.push(checkpoints_check(client, &succeeded).await);
    checks
}

/// A check the API did not answer.
fn unanswered(topic: &'static str, error: &ApiError) -> Check {
    let mut check = Check::new(topic, Level::Warning, format!("could not check: {error}"));
    if let Some(hint) = error.hint() {
        check = check.hint(hint);
    }
    check
}

async fn deployments_check(client: &Client) -> Check {
    let all = match deployments::all_deployments(client).await {
        Ok(all) => all,
        Err(e) => return unanswered("deployments", &e),
    };
    let up: Vec<String> = all
        .iter()
        .filter(|d| d.status != DeploymentStatus::Deleting)
        .map(|d| {
            format!(
                "{}  {}  since {}",
                d.deployed_model,
                d.status.as_str(),
                d.gmt_create.as_deref().unwrap_or("-")
            )
        })
        .collect();
    if up.is_empty() {
        return Check::new("deployments", Level::Ok, "no deployments");
    }
    // Spec §5.3: a LoRA deployment itself is free and calls bill per second; some accounts
    // and plans do bill instances by the hour, so running ones are always worth a look.
    Check::new(
        "deployments",
        Level::Warning,
        format!("{} deployment(s) up", up.len()),
    )
    .details(up)
    .hint(
        "calls to them bill per second of video, and an instance plan may bill by the hour: \
         delete the ones you no longer call (`wanft deploy delete ID`)",
    )
}

async fn checkpoints_check(client: &Client, succeeded: &[&Job]) -> Check {
    let now = client.server_now();
    let mut soon = Vec::new();
    for job in succeeded {
        let listed = match checkpoints::checkpoints(client, &job.job_id).await {
            Ok(listed) => listed,
            Err(e) => return unanswered("checkpoints", &e),
        };
        for expiring in checkpoints::expiring_soon(&listed, now, EXPIRY_WARNING) {
            soon.push(expiry_line(&job.job_id, &expiring));
        }
    }
    if soon.is_empty() {
        return Check::new(
            "checkpoints",
            Level::Ok,
            format!(
                "no unexported checkpoint of {} succeeded job(s) expires within {} days",
                succeeded.len(),
                EXPIRY_WARNING.as_secs() / 86_400
            ),
        );
    }
    Check::new(
        "checkpoints",
        Level::Warning,
        format!(
            "{} unexported checkpoint(s) expire within {} days",
            soon.len(),
            EXPIRY_WARNING.as_secs() / 86_400
        ),
    )
    .details(soon)
    .hint("export the ones to keep: `wanft checkpoints export JOB CHECKPOINT --name NAME`")
}

fn expiry_line(job_id: &str, expiring: &checkpoints::Expiring<'_>) -> String {
    let when = expiring.expires_at.format("%Y-%m-%d %H:%M UTC");
    if expiring.expired() {
        format!(
            "{job_id} {}  expired {when}",
            expiring.checkpoint.checkpoint
        )
    } else {
        format!(
            "{job_id} {}  expires {when} (in {})",
            expiring.checkpoint.checkpoint,
            span(expiring.left)
        )
    }
}

fn span(left: Duration) -> String {
    let hours = left.as_secs() / 3600;
    if hours >= 48 {
        format!("{} days", hours / 24)
    } else {
        format!("{hours} hours")
    }
}

/// The local checks: the price table's age at `today`, and ffmpeg.
pub fn diagnose_local(today: DateTime<Utc>, ffmpeg: Option<Ffmpeg>) -> Vec<Check> {
    vec![price_check(today), ffmpeg_check(ffmpeg)]
}

fn price_check(today: DateTime<Utc>) -> Check {
    let Ok(read) = NaiveDate::parse_from_str(PRICES_AS_OF, "%Y-%m-%d") else {
        return Check::new("prices", Level::Warning, "the price table has no date");
    };
    let age = (today.date_naive() - read).num_days();
    let assumed: Vec<String> = models::MODELS
        .iter()
        .filter(|m| m.cap_assumed)
        .map(|m| {
            format!(
                "{}: billing cap of {} s assumed",
                m.name, m.max_clip_seconds
            )
        })
        .collect();
    let summary = format!("the built-in price table was read on {PRICES_AS_OF}, {age} days ago");
    if age > PRICE_TABLE_MAX_AGE_DAYS {
        Check::new("prices", Level::Warning, summary)
            .details(assumed)
            .hint(
                "fees printed by `wanft plan` may be out of date: compare with the platform's \
                 price list, or pass the current price with --price",
            )
    } else {
        Check::new("prices", Level::Ok, summary).details(assumed)
    }
}

fn ffmpeg_check(ffmpeg: Option<Ffmpeg>) -> Check {
    let Some(ffmpeg) = ffmpeg else {
        return Check::new("ffmpeg", Level::Warning, "ffmpeg not found").hint(
            "the core checks work without it; `check --deep` and `pack --fix` need it \
             (apt-get install ffmpeg, or set WANFT_FFMPEG)",
        );
    };
    match ffmpeg.version() {
        Ok(version) => Check::new(
            "ffmpeg",
            Level::Ok,
            format!("ffmpeg {version} at {}", ffmpeg.path().display()),
        ),
        Err(e) => Check::new(
            "ffmpeg",
            Level::Warning,
            format!("ffmpeg at {} does not run: {e}", ffmpeg.path().display()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_price_table_ages() {
        let fresh = DateTime::parse_from_rfc3339("2026-01-10T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let check = price_check(fresh);
        assert_eq!(check.level, Level::Ok);
        assert!(check.summary.contains("19 days ago"), "{}", check.summary);
        let stale = fresh + chrono::Duration::days(400);
        let check = price_check(stale);
        assert_eq!(check.level, Level::Warning);
        assert!(check.hint.unwrap().contains("--price"));
    }

    #[test]
    fn a_missing_ffmpeg_is_a_warning_not_a_problem() {
        let check = ffmpeg_check(None);
        assert_eq!(check.level, Level::Warning);
        let broken = ffmpeg_check(Some(Ffmpeg::at("/nonexistent/ffmpeg")));
        assert_eq!(broken.level, Level::Warning);
        assert!(
            broken.summary.contains("does not run"),
            "{}",
            broken.summary
        );
    }
}
