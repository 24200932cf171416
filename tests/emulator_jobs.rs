//! Fine-tuning jobs (spec §4.4, §5.1, §6.5–§6.10) on a frozen clock moved by the tests.
//!
//! Default timings: a job is PENDING 10 s, QUEUING ≥ 10 s, then RUNNING with 30 s of data
//! processing, 180 s of training and 30 s of delivery.

mod emulator_support;

use emulator_support::{
    Harness, billable_seconds, config, expected_tokens, start, training_zip, zip_of,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wanft::check::{self, CheckOptions, CheckReport};
use wanft::dataset::{Mode, ModeChoice, Role};
use wanft::emulator::EmulatorConfig;
use wanft::models::{self, TaskType};
use wanft::rules::Severity;

/// The first 12 clips of the i2v example at 20 epochs: auto-split keeps 10 for training, so 5
/// steps per epoch, 100 steps, checkpoints every 25 steps.
fn small_job() -> Value {
    json!({ "n_epochs": 20, "eval_epochs": 5, "save_total_limit": 3 })
}

/// What [`small_job`] bills: all 12 clips (wan2.5 caps at 10 s) at max_pixels 36864.
fn small_job_tokens() -> u64 {
    expected_tokens(billable_seconds("i2v-train", 12, 10), 36864, 20)
}

#[tokio::test]
async fn job_runs_to_success_with_usage_and_logs() {
    let h = start(config()).await;
    let file_id = h.upload("train.zip", training_zip(12)).await;
    let job = h
        .create_job(json!({
            "model": "wan2.5-i2v-preview",
            "training_file_ids": [file_id],
            "training_type": "efficient_sft",
            "hyper_parameters": small_job(),
        }))
        .await;
    let job_id = job["job_id"].as_str().expect("job id");
    let tokens = small_job_tokens();
    assert!(
        tokens > 0 && tokens.is_multiple_of(2),
        "halves exactly: {tokens}"
    );
    assert!(
        job_id.len() == 20 && job_id.starts_with("ft-") && job_id.as_bytes()[15] == b'-',
        "{job_id}"
    );
    assert_eq!(job["job_name"], job_id);
    assert_eq!(job["status"], "PENDING");
    assert_eq!(
        job["finetuned_output"],
        format!("wan2.5-i2v-preview-{job_id}")
    );
    assert_eq!(job["model"], "wan2.5-i2v-preview");
    assert_eq!(job["base_model"], "wan2.5-i2v-preview");
    assert_eq!(job["validation_file_ids"], json!([]));
    assert_eq!(job["training_type"], "efficient_sft");
    assert_eq!(job["group"], "llm");
    assert_eq!(job["max_output_cnt"], 3);
    assert!(
        job["workspace_id"]
            .as_str()
            .is_some_and(|w| w.starts_with("llm-"))
    );
    // Missing hyper-parameters take the model's defaults.
    let hyper = &job["hyper_parameters"];
    assert_eq!(
        (hyper["n_epochs"].as_u64(), hyper["batch_size"].as_u64()),
        (Some(20), Some(2))
    );
    assert_eq!(hyper["max_pixels"], 36864);
    assert_eq!(hyper["learning_rate"].as_f64(), Some(2e-5));
    assert!(job.get("usage").is_none(), "create answers without usage");
    let create_time = job["create_time"].as_str().expect("create_time");
    assert!(chrono::NaiveDateTime::parse_from_str(create_time, "%Y-%m-%d %H:%M:%S").is_ok());

    h.advance(15.0).await;
    assert_eq!(h.job_status(job_id).await, "QUEUING");
    h.advance(10.0).await;
    assert_eq!(h.job_status(job_id).await, "RUNNING");
    let early = logs(&h, job_id).await;
    assert!(
        early.iter().all(|l| !l.contains("data process succeeded")),
        "{early:#?}"
    );

    h.advance(115.0).await; // halfway through training
    let running = h.job(job_id).await;
    assert_eq!(running["status"], "RUNNING");
    assert_eq!(running["usage"], tokens / 2);
    assert_eq!(running["output_cnt"], 2);
    assert!(running.get("end_time").is_none());

    h.advance(120.0).await;
    let done = h.job(job_id).await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["usage"], tokens);
    assert_eq!(done["output_cnt"], 3);
    assert!(done["end_time"].is_string());

    let lines = logs(&h, job_id).await;
    let milestones = [
        "data process succeeded, start to fine-tune",
        " Actual number of consumed tokens is",
        "fine-tuned output got, start to transfer it for inference",
        "transfer for inference succeeded, start to deliver it for inference",
        "start to save checkpoint",
        "finetune-job succeeded",
        "##FT_COMPLETE##",
    ];
    let positions: Vec<usize> = milestones
        .iter()
        .map(|m| {
            lines
                .iter()
                .position(|l| l.contains(m))
                .unwrap_or_else(|| panic!("no `{m}` in {lines:#?}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{lines:#?}");
    let counters: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with(" Actual number"))
        .collect();
    assert_eq!(counters.len(), 4, "one counter per checkpoint: {lines:#?}");
    assert_eq!(
        counters.last().map(|l| l.as_str()),
        Some(format!(" Actual number of consumed tokens is {tokens} !").as_str())
    );
    let seconds = billable_seconds("i2v-train", 12, 10);
    let summary = format!(
        "10 training samples, 2 validation samples, 5 steps per epoch, 100 steps, \
         {seconds} billable seconds of video"
    );
    assert!(lines.iter().any(|l| l.ends_with(&summary)), "{lines:#?}");
}

/// Every line of a job's log, read in pages of 1000 (spec §8.1).
async fn logs(h: &Harness, job_id: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    loop {
        let path = format!(
            "/api/v1/fine-tunes/{job_id}/logs?offset={}&line=1000",
            lines.len()
        );
        let (status, body) = h.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: Vec<String> = body["output"]["logs"]
            .as_array()
            .expect("logs")
            .iter()
            .map(|l| l.as_str().expect("line").to_owned())
            .collect();
        let total = body["output"]["total"].as_u64().expect("total") as usize;
        assert!(page.len() <= 1000);
        lines.extend(page);
        if lines.len() >= total {
            assert_eq!(lines.len(), total);
            return lines;
        }
    }
}

/// Logs are paged: 100 lines unless asked, at most 1000, `offset` skips lines (spec §8.1).
#[tokio::test]
async fn logs_are_paged_by_offset_and_line() {
    let h = start(config()).await;
    let job_id = h.start_job(10, json!({})).await;
    h.advance(100_000.0).await;
    let every = logs(&h, &job_id).await;
    assert!(every.len() > 2000, "one line per step: {}", every.len());
    assert!(every.last().unwrap().ends_with("##FT_COMPLETE##"));
    let path = |query: &str| format!("/api/v1/fine-tunes/{job_id}/logs{query}");
    let h = &h;
    let page = |query: &str| {
        let path = path(query);
        async move { h.get(&path).await }
    };
    let (status, body) = page("").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["output"]["logs"].as_array().unwrap().len(), 100);
    assert_eq!(body["output"]["total"], every.len());
    assert_eq!(body["output"]["logs"][0], every[0].as_str());
    let (_, body) = page("?offset=150&line=1000").await;
    let lines = body["output"]["logs"].as_array().unwrap();
    assert_eq!(lines.len(), 1000);
    assert_eq!(lines[0], every[150].as_str());
    let (_, body) = page(&format!("?offset={}", every.len())).await;
    assert_eq!(body["output"]["logs"], json!([]));
    assert_eq!(body["output"]["total"], every.len());
    for bad in ["?line=1001", "?line=0", "?offset=-1"] {
        let (status, body) = page(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["code"], "InvalidParameter");
    }
}

#[tokio::test]
async fn fast_clock_finishes_a_default_job_while_polling() {
    let h = start(EmulatorConfig {
        time_scale: 100_000.0,
        ..config()
    })
    .await;
    let job_id = h.start_job(10, json!({})).await;
    let mut status = String::new();
    for _ in 0..1000 {
        status = h.job_status(&job_id).await;
        if status == "SUCCEEDED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(status, "SUCCEEDED");
    // Defaults: 400 epochs at max_pixels 36864, every clip billed.
    assert_eq!(
        h.job(&job_id).await["usage"],
        expected_tokens(billable_seconds("i2v-train", 10, 10), 36864, 400)
    );
}

#[tokio::test]
async fn bad_datasets_fail_during_data_processing_unbilled() {
    let h = start(config()).await;
    let no_manifest = h.upload("broken.zip", zip_of(&[("clip.mp4", b"x")])).await;
    let too_small = h.upload("small.zip", training_zip(4)).await;
    let mut jobs = Vec::new();
    for file_id in [&no_manifest, &too_small] {
        let job = h
            .create_job(json!({
                "model": "wan2.5-i2v-preview",
                "training_file_ids": [file_id],
                "training_type": "efficient_sft",
            }))
            .await;
        jobs.push(job["job_id"].as_str().expect("id").to_owned());
    }
    h.advance(3600.0).await;
    // The log names each error finding in the check format.
    for (job_id, problem) in jobs.iter().zip([
        "J001 data.jsonl: no data.jsonl at the dataset root",
        "S001 <dataset>: 4 training sample(s); at least 10 are required",
    ]) {
        let job = h.job(job_id).await;
        assert_eq!(job["status"], "FAILED", "{job}");
        assert_eq!(job["usage"], 0);
        assert_eq!(job["output_cnt"], 0);
        let lines = logs(&h, job_id).await;
        assert!(lines.iter().any(|l| l.contains(problem)), "{lines:#?}");
        assert!(lines.iter().any(|l| l.contains("ERROR")), "{lines:#?}");
        assert!(
            !lines.iter().any(|l| l.contains("data process succeeded")),
            "{lines:#?}"
        );
        let (status, results) = h
            .get(&format!("/api/v1/fine-tunes/{job_id}/validation-results"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(results["output"], json!([]));
    }
}

#[tokio::test]
async fn a_second_job_queues_until_the_first_ends() {
    let h = start(config()).await;
    let first = h.start_job(12, small_job()).await;
    let second = h.start_job(12, small_job()).await;
    h.advance(25.0).await;
    assert_eq!(h.job_status(&first).await, "RUNNING");
    assert_eq!(h.job_status(&second).await, "QUEUING");
    // The first ends 260 s after creation; the second takes the slot then.
    h.advance(234.0).await;
    assert_eq!(h.job_status(&first).await, "RUNNING");
    assert_eq!(h.job_status(&second).await, "QUEUING");
    h.advance(2.0).await;
    assert_eq!(h.job_status(&first).await, "SUCCEEDED");
    assert_eq!(h.job_status(&second).await, "RUNNING");
    h.advance(260.0).await;
    assert_eq!(h.job_status(&second).await, "SUCCEEDED");
}

#[tokio::test]
async fn cancel_bills_consumed_steps_and_frees_the_slot() {
    let h = start(config()).await;
    let job_id = h.start_job(12, small_job()).await;
    let waiting = h.start_job(12, small_job()).await;
    h.advance(140.0).await; // training started at 50 s: halfway
    let (status, body) = h
        .post(&format!("/api/v1/fine-tunes/{job_id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["output"], json!({ "status": "success" }));
    assert_eq!(h.job_status(&job_id).await, "CANCELING");
    let (status, _) = h.delete(&format!("/api/v1/fine-tunes/{job_id}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "deleting a CANCELING job");
    h.advance(10.0).await;
    let canceled = h.job(&job_id).await;
    assert_eq!(canceled["status"], "CANCELED");
    assert_eq!(canceled["usage"], small_job_tokens() / 2);
    assert!(canceled["end_time"].is_string());
    let lines = logs(&h, &job_id).await;
    assert!(
        lines
            .last()
            .is_some_and(|l| l.ends_with("finetune-job canceled")),
        "{lines:#?}"
    );
    assert_eq!(h.job_status(&waiting).await, "RUNNING");

    let (status, body) = h
        .post(&format!("/api/v1/fine-tunes/{job_id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "UnsupportedOperation");

    // A job cancelled before it ran is billed nothing.
    let (status, _) = h
        .post(&format!("/api/v1/fine-tunes/{waiting}/cancel"), &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let queued = h.start_job(12, small_job()).await;
    h.post(&format!("/api/v1/fine-tunes/{queued}/cancel"), &json!({}))
        .await;
    h.advance(10.0).await;
    let never_ran = h.job(&queued).await;
    assert_eq!(
        (never_ran["status"].as_str(), never_ran["usage"].as_u64()),
        (Some("CANCELED"), Some(0))
    );
}

#[tokio::test]
async fn delete_only_finished_jobs_and_404_for_unknown_ids() {
    let h = start(config()).await;
    let job_id = h.start_job(12, small_job()).await;
    let (status, body) = h.delete(&format!("/api/v1/fine-tunes/{job_id}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "UnsupportedOperation");
    h.finish_job(&job_id).await;
    let (status, body) = h.delete(&format!("/api/v1/fine-tunes/{job_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["output"]["status"], "success");
    let unknown = "ft-202501010000-zzzz";
    for (status, body) in [
        h.get(&format!("/api/v1/fine-tunes/{job_id}")).await,
        h.get(&format!("/api/v1/fine-tunes/{unknown}/logs")).await,
        h.delete(&format!("/api/v1/fine-tunes/{unknown}")).await,
        h.post(&format!("/api/v1/fine-tunes/{unknown}/cancel"), &json!({}))
            .await,
    ] {
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["code"], "NotFound");
        assert_eq!(body["message"], "Not found.");
    }
}

#[tokio::test]
async fn list_pages_newest_first_and_filters_by_model() {
    let h = start(config()).await;
    let file_id = h.upload("train.zip", training_zip(12)).await;
    let mut ids = Vec::new();
    for model in [
        "wan2.5-i2v-preview",
        "wan2.2-i2v-flash",
        "wan2.5-i2v-preview",
    ] {
        let job = h
            .create_job(json!({
                "model": model,
                "training_file_ids": [file_id],
                "training_type": "efficient_sft",
            }))
            .await;
        ids.push(job["job_id"].as_str().expect("id").to_owned());
    }
    let (status, page) = h.get("/api/v1/fine-tunes?page_size=2").await;
    assert_eq!(status, StatusCode::OK);
    let output = &page["output"];
    assert_eq!(
        (
            output["total"].as_u64(),
            output["page_no"].as_u64(),
            output["page_size"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    let listed: Vec<&str> = output["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["job_id"].as_str().expect("id"))
        .collect();
    assert_eq!(listed, [ids[2].as_str(), ids[1].as_str()]);
    let (_, filtered) = h.get("/api/v1/fine-tunes?model=wan2.2-i2v-flash").await;
    assert_eq!(filtered["output"]["total"], 1);
    assert_eq!(filtered["output"]["jobs"][0]["job_id"], ids[1].as_str());
    assert_eq!(
        filtered["output"]["jobs"][0]["hyper_parameters"]["batch_size"],
        4
    );
    let (status, _) = h.get("/api/v1/fine-tunes?page_no=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn create_time_checks_answer_invalid_parameter() {
    let h = start(config()).await;
    let file_id = h.upload("train.zip", training_zip(12)).await;
    let native = {
        let form = reqwest::multipart::Form::new()
            .part(
                "files",
                reqwest::multipart::Part::bytes(vec![1]).file_name("x.zip"),
            )
            .text("purpose", "batch");
        let response = h
            .client
            .post(h.url("/api/v1/files"))
            .bearer_auth(emulator_support::KEY)
            .multipart(form)
            .send()
            .await
            .expect("answered");
        emulator_support::parts(response).await.1["data"]["uploaded_files"][0]["file_id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let valid = json!({
        "model": "wan2.5-i2v-preview",
        "training_file_ids": [file_id],
        "training_type": "efficient_sft",
    });
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let hyper = |value: Value| with("hyper_parameters", value);
    let cases = [
        (
            with("model", json!("wan9-t2v")),
            "The model wan9-t2v does not support fine-tuning",
        ),
        (
            json!({ "model": "wan2.7-i2v", "training_file_ids": [file_id], "training_type": "full_sft" }),
            "The model wan2.7-i2v does not support training_type: full_sft",
        ),
        (
            with("training_file_ids", json!([])),
            "training_file_ids must not be empty",
        ),
        (
            with("training_file_ids", json!(["file-ft-nope"])),
            "File not found: file-ft-nope",
        ),
        (
            with("validation_file_ids", json!(["nope"])),
            "File not found: nope",
        ),
        (with("training_file_ids", json!([native])), "purpose batch"),
        (
            hyper(json!({ "max_pixels": 65536 })),
            "The hyper parameter max_pixels: 65536 is not supported by wan2.5-i2v-preview, it \
             must be between 16384 and 36864",
        ),
        (
            hyper(json!({ "n_epochs": 400, "eval_epochs": 39 })),
            "10 * eval_epochs must not be less than n_epochs: 400",
        ),
        (hyper(json!({ "split": 1 })), "split: 1 is invalid"),
        (
            hyper(json!({ "max_split_val_dataset_sample": 0 })),
            "max_split_val_dataset_sample: 0 is invalid",
        ),
        (
            hyper(json!({ "lora_rank": 48 })),
            "lora_rank: 48 is invalid, it must be a power of two",
        ),
        (
            hyper(json!({ "lora_alpha": 3 })),
            "lora_alpha: 3 is invalid",
        ),
        (hyper(json!({ "n_epochs": 0 })), "n_epochs: 0 is invalid"),
        (
            hyper(json!({ "batch_size": -1 })),
            "batch_size: -1 is invalid",
        ),
        (
            hyper(json!({ "learning_rate": 0.0 })),
            "learning_rate: 0 is invalid",
        ),
        (
            hyper(json!({ "save_total_limit": 0 })),
            "save_total_limit: 0 is invalid",
        ),
        (
            hyper(json!({ "task_type": "kf2v" })),
            "The hyper parameter task_type: kf2v is not supported by wan2.5-i2v-preview",
        ),
        (
            with("training_datasets", json!([])),
            "training_datasets is not supported: dataset sources",
        ),
        (
            with(
                "validation_datasets",
                json!([{ "data_source_type": "oss_mount", "path": "oss://b/d/" }]),
            ),
            "OSS-mounted datasets (data_source_type oss_mount) are not supported here. Upload",
        ),
        (
            with("job_name", json!(" ")),
            "job_name must be a non-empty string",
        ),
        (
            with("model_name", json!("m".repeat(257))),
            "model_name must be a non-empty string",
        ),
        (with("job_name", json!(7)), "job_name must be a string"),
        (
            json!({ "training_file_ids": [file_id], "training_type": "efficient_sft" }),
            "Missing required parameter: model",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = h.post("/api/v1/fine-tunes", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert_eq!(answer["code"], "InvalidParameter", "{answer}");
        let message = answer["message"].as_str().expect("message");
        assert!(
            message.contains(expected),
            "{body}: `{message}` lacks `{expected}`"
        );
    }
    let response = h
        .client
        .post(h.url("/api/v1/fine-tunes"))
        .bearer_auth(emulator_support::KEY)
        .body("{not json")
        .send()
        .await
        .expect("answered");
    let (status, answer) = emulator_support::parts(response).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidParameter"))
    );
    let (_, listing) = h.get("/api/v1/fine-tunes").await;
    assert_eq!(
        listing["output"]["total"], 0,
        "no refused request created a job"
    );

    // task_type is accepted for wan2.7-i2v only, and echoed.
    let job = h
        .create_job(json!({
            "model": "wan2.7-i2v",
            "training_file_ids": [file_id],
            "training_type": "efficient_sft",
            "hyper_parameters": { "task_type": "kf2v" },
        }))
        .await;
    assert_eq!(job["hyper_parameters"]["task_type"], "kf2v");
    assert_eq!(job["hyper_parameters"]["batch_size"], 1);

    // Since 2026 (spec §8.5): training_type may be left out, job_name and model_name are kept.
    let job = h
        .create_job(json!({
            "model": "wan2.5-i2v-preview",
            "training_file_ids": [file_id],
            "job_name": "wanft-nightly-7",
            "model_name": "bubbles-v1",
        }))
        .await;
    assert_eq!(job["training_type"], "efficient_sft");
    assert_eq!(job["job_name"], "wanft-nightly-7");
    assert_eq!(job["model_name"], "bubbles-v1");
    let fetched = h.job(job["job_id"].as_str().unwrap()).await;
    assert_eq!(fetched["job_name"], "wanft-nightly-7");
    assert_eq!(fetched["model_name"], "bubbles-v1");
}

/// Creates a default wan2.5 job over `training` with `hyper`; returns its id.
async fn create_job_over(h: &Harness, training: &[&str], hyper: Value) -> String {
    let job = h
        .create_job(json!({
            "model": "wan2.5-i2v-preview",
            "training_file_ids": training,
            "training_type": "efficient_sft",
            "hyper_parameters": hyper,
        }))
        .await;
    job["job_id"].as_str().expect("job id").to_owned()
}

#[tokio::test]
async fn several_training_zips_count_their_samples_together() {
    let h = start(config()).await;
    let six = h.upload("a.zip", training_zip(6)).await;
    let six_more = h.upload("b.zip", training_zip(6)).await;
    let four = h.upload("c.zip", training_zip(4)).await;
    let four_more = h.upload("d.zip", training_zip(4)).await;
    let together = create_job_over(&h, &[&six, &six_more], small_job()).await;
    let too_few = create_job_over(&h, &[&four, &four_more], small_job()).await;
    h.advance(3600.0).await;

    // 6 + 6 samples train like one zip of 12; every clip of both zips is billed.
    let job = h.job(&together).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job}");
    let seconds = 2 * billable_seconds("i2v-train", 6, 10);
    assert_eq!(job["usage"], expected_tokens(seconds, 36864, 20));

    let job = h.job(&too_few).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let lines = logs(&h, &too_few).await;
    let errors: Vec<&String> = lines.iter().filter(|l| l.contains(" - ERROR - ")).collect();
    assert_eq!(errors.len(), 1, "{lines:#?}");
    assert!(
        errors[0].ends_with(
            "data process failed: S001 <dataset>: 8 training sample(s) in 2 training files \
             together; at least 10 are required"
        ),
        "{lines:#?}"
    );
}

/// The first 12 samples of the i2v example with three errors: line 2 names a missing first
/// frame, line 5 has an empty prompt, and clip03.mp4 is cut in half.
fn broken_training_zip() -> Vec<u8> {
    let dir = emulator_support::example_dir("i2v-train");
    let mut lines = emulator_support::example_lines("i2v-train", 12);
    lines[1]["first_frame_path"] = json!("missing.jpg");
    lines[4]["prompt"] = json!("");
    let manifest: String = lines.iter().map(|line| format!("{line}\n")).collect();
    let mut members = vec![("data.jsonl".to_owned(), manifest.into_bytes())];
    for line in &lines {
        for key in ["first_frame_path", "video_path"] {
            let path = line[key].as_str().expect("path");
            let Ok(mut bytes) = std::fs::read(dir.join(path)) else {
                continue; // missing.jpg
            };
            if path == "clip03.mp4" {
                bytes.truncate(bytes.len() / 2);
            }
            members.push((path.to_owned(), bytes));
        }
    }
    zip_of(&members)
}

/// `wanft check` of a zip, as a user runs it before uploading.
fn check_locally(zip: &[u8], options: &CheckOptions) -> CheckReport {
    let local = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(local.path(), zip).expect("write zip");
    check::run(local.path(), options).expect("check runs")
}

fn wan25() -> &'static models::ModelProfile {
    models::find("wan2.5-i2v-preview").expect("model")
}

#[tokio::test]
async fn jobs_fail_for_exactly_the_errors_check_reports() {
    let zip = broken_training_zip();
    let options = CheckOptions {
        mode: Some(ModeChoice::Exact(Mode {
            task: TaskType::I2v,
            role: Role::Training,
        })),
        ..CheckOptions::new(wan25())
    };
    let report = check_locally(&zip, &options);
    let expected: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{} {}: {}", f.rule.code, f.location, f.message))
        .collect();
    let codes: Vec<&str> = expected.iter().map(|l| &l[..4]).collect();
    for code in ["P001", "T001", "M011"] {
        assert!(codes.contains(&code), "{code} missing from {expected:#?}");
    }

    let h = start(config()).await;
    let file_id = h.upload("broken.zip", zip).await;
    let job_id = create_job_over(&h, &[&file_id], small_job()).await;
    h.advance(3600.0).await;
    let job = h.job(&job_id).await;
    assert_eq!(
        (job["status"].as_str(), job["usage"].as_u64()),
        (Some("FAILED"), Some(0))
    );
    let prefix = format!("data process failed: training file {file_id} (broken.zip): ");
    let logged: Vec<String> = logs(&h, &job_id)
        .await
        .iter()
        .filter_map(|l| l.split_once(" - ERROR - ").map(|(_, text)| text))
        .map(|text| text.strip_prefix(&prefix).expect(text).to_owned())
        .collect();
    assert_eq!(logged, expected);
}

/// The first 12 samples of the i2v example in the folders layout (no data.jsonl): `wanft pack`
/// can write data.jsonl for such a folder, but as a zip the platform cannot read it.
fn folders_layout_zip() -> Vec<u8> {
    let dir = emulator_support::example_dir("i2v-train");
    let mut members = Vec::new();
    for line in emulator_support::example_lines("i2v-train", 12) {
        let video = line["video_path"].as_str().expect("video");
        let first = line["first_frame_path"].as_str().expect("first frame");
        let stem = video.trim_end_matches(".mp4");
        let extension = first.rsplit_once('.').expect("extension").1;
        let read = |path: &str| std::fs::read(dir.join(path)).expect("example media");
        members.push((format!("videos/{video}"), read(video)));
        members.push((format!("first_frames/{stem}.{extension}"), read(first)));
        let prompt = line["prompt"].as_str().expect("prompt");
        members.push((format!("prompts/{stem}.txt"), prompt.as_bytes().to_vec()));
    }
    zip_of(&members)
}

#[tokio::test]
async fn a_zip_without_data_jsonl_fails_even_in_the_folders_layout() {
    let zip = folders_layout_zip();
    let report = check_locally(&zip, &CheckOptions::new(wan25()));
    assert_eq!(report.summary.samples, 12);
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == wanft::rules::Severity::Error)
        .map(|f| f.rule.code)
        .collect();
    assert_eq!(errors, ["J001"], "only the missing data.jsonl is wrong");

    let h = start(config()).await;
    let file_id = h.upload("folders.zip", zip).await;
    let job_id = create_job_over(&h, &[&file_id], small_job()).await;
    h.advance(3600.0).await;
    assert_eq!(h.job_status(&job_id).await, "FAILED");
    let lines = logs(&h, &job_id).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("(folders.zip): J001 data.jsonl: the zip has no data.jsonl")),
        "{lines:#?}"
    );
}

/// Every answer names its request in `x-request-id`, the body's `request_id` where the body
/// has one (spec §8.7; the OpenAI SDK reads the header).
#[tokio::test]
async fn answers_carry_their_request_id_as_a_header() {
    let h = start(config()).await;
    for path in [
        "/api/v1/fine-tunes",
        "/api/v1/fine-tunes/ft-202501010000-none",
        "/compatible-mode/v1/files",
        "/compatible-mode/v1/files/file-ft-none",
    ] {
        let response = h
            .client
            .get(h.url(path))
            .bearer_auth(emulator_support::KEY)
            .send()
            .await
            .expect("answered");
        let header = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{path}: no x-request-id"));
        let (_, body) = emulator_support::parts(response).await;
        if let Some(id) = body["request_id"].as_str() {
            assert_eq!(id, header, "{path}");
        }
        assert_eq!(header.len(), 36, "{path}: a UUID, {header}");
    }
}

/// The job-event stream the official SDK reads (`/fine-tunes/{id}/stream`): server-sent events,
/// one per status and per log line, ending with the job; 404 for an unknown job.
#[tokio::test]
async fn the_event_stream_carries_status_and_every_log_line_then_ends() {
    let h = start(config()).await;
    let job_id = h.start_job(10, json!({})).await;
    h.advance(100_000.0).await;
    let every = logs(&h, &job_id).await;
    let response = h
        .client
        .get(h.url(&format!("/api/v1/fine-tunes/{job_id}/stream")))
        .bearer_auth(emulator_support::KEY)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = response.text().await.expect("the stream ends");
    let events: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| serde_json::from_str(d.trim()).expect("JSON event"))
        .collect();
    assert_eq!(
        events[0],
        json!({ "job_id": job_id, "status": "SUCCEEDED" })
    );
    let lines: Vec<&str> = events[1..]
        .iter()
        .map(|e| e["line"].as_str().expect("a log line"))
        .collect();
    assert_eq!(lines, every);
    let (status, body) = h
        .get("/api/v1/fine-tunes/ft-202501010000-none/stream")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
