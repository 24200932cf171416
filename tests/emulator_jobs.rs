//! Fine-tuning jobs (spec §4.4, §5.1, §6.5–§6.10) on a frozen clock moved by the tests.
//!
//! Default timings: a job is PENDING 10 s, QUEUING ≥ 10 s, then RUNNING with 30 s of data
//! processing, 180 s of training and 30 s of delivery.

mod emulator_support;

use emulator_support::{Harness, config, dataset_zip, expected_tokens, start, zip_of};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wanft::emulator::EmulatorConfig;

/// 12 clips of 4.6 s (billed 5 s) at 20 epochs: auto-split keeps 10 for training, so 5 steps
/// per epoch, 100 steps, checkpoints every 25 steps.
fn small_job() -> Value {
    json!({ "n_epochs": 20, "eval_epochs": 5, "save_total_limit": 3 })
}

const SMALL_JOB_TOKENS: u64 = 12 * 5 * 36 * 20;

#[tokio::test]
async fn job_runs_to_success_with_usage_and_logs() {
    let h = start(config()).await;
    let file_id = h.upload("train.zip", dataset_zip(12, Some(4.6))).await;
    let job = h
        .create_job(json!({
            "model": "wan2.5-i2v-preview",
            "training_file_ids": [file_id],
            "training_type": "efficient_sft",
            "hyper_parameters": small_job(),
        }))
        .await;
    let job_id = job["job_id"].as_str().expect("job id");
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
    assert_eq!(running["usage"], SMALL_JOB_TOKENS / 2);
    assert_eq!(running["output_cnt"], 2);
    assert!(running.get("end_time").is_none());

    h.advance(120.0).await;
    let done = h.job(job_id).await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["usage"], expected_tokens(12, 5, 36864, 20));
    assert_eq!(done["usage"], SMALL_JOB_TOKENS);
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
        Some(format!(" Actual number of consumed tokens is {SMALL_JOB_TOKENS} !").as_str())
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("10 training samples, 2 validation samples"))
    );
}

async fn logs(h: &Harness, job_id: &str) -> Vec<String> {
    let (status, body) = h.get(&format!("/api/v1/fine-tunes/{job_id}/logs")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lines: Vec<String> = body["output"]["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .map(|l| l.as_str().expect("line").to_owned())
        .collect();
    assert_eq!(body["output"]["total"], lines.len());
    lines
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
    // Defaults: 400 epochs at max_pixels 36864, 10 clips billed 5 s.
    assert_eq!(
        h.job(&job_id).await["usage"],
        expected_tokens(10, 5, 36864, 400)
    );
}

#[tokio::test]
async fn bad_datasets_fail_during_data_processing_unbilled() {
    let h = start(config()).await;
    let no_manifest = h.upload("broken.zip", zip_of(&[("clip.mp4", b"x")])).await;
    let too_small = h.upload("small.zip", dataset_zip(4, None)).await;
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
    for (job_id, problem) in jobs.iter().zip([
        "data.jsonl not found at the zip root",
        "holds 4 samples; at least 10 are required",
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
    assert_eq!(canceled["usage"], SMALL_JOB_TOKENS / 2);
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
    let file_id = h.upload("train.zip", dataset_zip(12, None)).await;
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
    let file_id = h.upload("train.zip", dataset_zip(12, None)).await;
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
            "does not support max_pixels: 65536, it must be between 16384 and 36864",
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
            "does not support hyper parameter task_type",
        ),
        (
            with("training_datasets", json!([])),
            "training_datasets is not supported",
        ),
        (
            with("validation_datasets", json!([])),
            "validation_datasets is not supported",
        ),
        (with("job_name", json!("mine")), "job_name is not supported"),
        (
            with("model_name", json!("mine")),
            "model_name is not supported",
        ),
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
}
