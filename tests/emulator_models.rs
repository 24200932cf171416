//! After training: checkpoints and previews, export, deployments and generation (spec
//! §6.11–§6.20), on a frozen clock moved by the tests.

mod emulator_support;

use base64::Engine;
use emulator_support::{
    Harness, config, example_lines, example_zip, start, training_zip, validation_zip,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const FIRST_FRAME: &str = "/api/v1/services/aigc/video-generation/video-synthesis";
const KEY_FRAMES: &str = "/api/v1/services/aigc/image2video/video-synthesis";

/// 20 samples with a 3-line validation zip, batch 2: 10 steps per epoch. 40 epochs with
/// eval_epochs 4 → checkpoints every 40 steps up to 400 (10 of them); keep the last 4.
async fn trained_job(h: &Harness) -> String {
    let train = h.upload("train.zip", training_zip(20)).await;
    let valid = h.upload("valid.zip", validation_zip(3)).await;
    let job = h
        .create_job(json!({
            "model": "wan2.5-i2v-preview",
            "training_file_ids": [train],
            "validation_file_ids": [valid],
            "training_type": "efficient_sft",
            "hyper_parameters": { "n_epochs": 40, "eval_epochs": 4, "save_total_limit": 4 },
        }))
        .await;
    job["job_id"].as_str().expect("job id").to_owned()
}

fn checkpoint_names(output: &Value) -> Vec<String> {
    output
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["checkpoint"].as_str().expect("checkpoint").to_owned())
        .collect()
}

#[tokio::test]
async fn checkpoints_follow_eval_epochs_and_retention() {
    let h = start(config()).await;
    let job_id = trained_job(&h).await;
    let results = format!("/api/v1/fine-tunes/{job_id}/validation-results");
    h.advance(140.0).await; // halfway: steps 40..200 reached
    let (_, before) = h.get(&results).await;
    assert_eq!(
        before["output"],
        json!([]),
        "empty until the job has succeeded"
    );
    let (_, partial) = h
        .get(&format!("/api/v1/fine-tunes/{job_id}/checkpoints"))
        .await;
    assert_eq!(
        checkpoint_names(&partial["output"]),
        [
            "checkpoint-200",
            "checkpoint-160",
            "checkpoint-120",
            "checkpoint-80"
        ]
    );

    h.finish_job(&job_id).await;
    let job = h.job(&job_id).await;
    assert_eq!(
        (job["output_cnt"].as_u64(), job["max_output_cnt"].as_u64()),
        (Some(4), Some(4))
    );
    let (status, after) = h.get(&results).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        checkpoint_names(&after["output"]),
        [
            "checkpoint-280",
            "checkpoint-320",
            "checkpoint-360",
            "checkpoint-400"
        ]
    );

    let (_, listing) = h
        .get(&format!("/api/v1/fine-tunes/{job_id}/checkpoints"))
        .await;
    let items = listing["output"].as_array().expect("checkpoints");
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["checkpoint"], "checkpoint-400");
    assert_eq!(items[0]["full_name"], format!("{job_id}-checkpoint-400"));
    assert_eq!(items[0]["job_id"], job_id.as_str());
    assert_eq!(items[0]["status"], "PENDING");
    assert!(items[0].get("model_name").is_none());
    let created = items[0]["create_time"].as_str().expect("create_time");
    assert!(
        chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%dT%H:%M:%S").is_ok(),
        "{created}"
    );
}

#[tokio::test]
async fn validation_results_come_in_string_order() {
    let h = start(config()).await;
    let train = h.upload("train.zip", training_zip(10)).await;
    let valid = h.upload("valid.zip", validation_zip(1)).await;
    // Batch 4 over 10 samples: 3 steps per epoch; every 10 epochs up to 40: 30, 60, 90, 120.
    let job = h
        .create_job(json!({
            "model": "wan2.5-i2v-preview",
            "training_file_ids": [train],
            "validation_file_ids": [valid],
            "training_type": "efficient_sft",
            "hyper_parameters": { "n_epochs": 40, "eval_epochs": 10, "batch_size": 4 },
        }))
        .await;
    let job_id = job["job_id"].as_str().expect("job id");
    h.finish_job(job_id).await;
    let (_, results) = h
        .get(&format!("/api/v1/fine-tunes/{job_id}/validation-results"))
        .await;
    assert_eq!(
        checkpoint_names(&results["output"]),
        [
            "checkpoint-120",
            "checkpoint-30",
            "checkpoint-60",
            "checkpoint-90"
        ]
    );
}

#[tokio::test]
async fn validation_details_page_previews_served_by_the_emulator() {
    let h = start(config()).await;
    let job_id = trained_job(&h).await;
    let details = format!("/api/v1/fine-tunes/{job_id}/validation-details/checkpoint-400");
    let (status, early) = h.get(&details).await;
    assert_eq!(
        (status, early["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
    h.finish_job(&job_id).await;

    let (status, page) = h.get(&format!("{details}?page_no=2&page_size=2")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let output = &page["output"];
    assert_eq!(
        (
            output["total"].as_u64(),
            output["page_no"].as_u64(),
            output["page_size"].as_u64()
        ),
        (Some(3), Some(2), Some(2))
    );
    let list = output["list"].as_array().expect("list");
    assert_eq!(list.len(), 1);
    // Page 2 of size 2 holds the third validation line.
    assert_eq!(list[0]["prompt"], example_lines("i2v-val", 3)[2]["prompt"]);
    let video = list[0]["video_path"].as_str().expect("video_path");
    let image = list[0]["first_frame_path"]
        .as_str()
        .expect("first_frame_path");
    assert!(video.contains(".mp4?Expires="), "{video}");

    // Signed links need no key.
    let mp4 = h.client.get(video).send().await.expect("video");
    assert_eq!(mp4.status(), StatusCode::OK);
    assert_eq!(mp4.headers()["content-type"], "video/mp4");
    let mp4 = mp4.bytes().await.expect("body");
    assert_eq!(&mp4[4..8], b"ftyp");
    let jpeg = h
        .client
        .get(image)
        .send()
        .await
        .expect("image")
        .bytes()
        .await
        .expect("body");
    assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
    let forged = video.replace("Expires=", "Expires=9");
    let (status, body) =
        emulator_support::parts(h.client.get(forged).send().await.expect("forged")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("AccessDenied"))
    );
    h.advance(25.0 * 3600.0).await;
    let (status, body) =
        emulator_support::parts(h.client.get(video).send().await.expect("expired")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["message"], "Request has expired.");

    let (status, _) = h
        .get(&format!(
            "/api/v1/fine-tunes/{job_id}/validation-details/checkpoint-40"
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "checkpoint-40 was not kept");
}

#[tokio::test]
async fn export_runs_pending_processing_succeeded() {
    let h = start(config()).await;
    let job_id = trained_job(&h).await;
    let export =
        format!("/api/v1/fine-tunes/{job_id}/export/checkpoint-360?model_name=my-effect_v1");
    h.advance(100.0).await;
    let (status, body) = h.get(&export).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("UnsupportedOperation"))
    );
    h.finish_job(&job_id).await;

    let (status, body) = h
        .get(&format!(
            "/api/v1/fine-tunes/{job_id}/export/checkpoint-360"
        ))
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("Missing required parameter: model_name")
        )
    );
    let (status, _) = h
        .get(&format!(
            "/api/v1/fine-tunes/{job_id}/export/checkpoint-360?model_name=has%20space"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .get(&format!(
            "/api/v1/fine-tunes/{job_id}/export/checkpoint-7?model_name=x"
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = h.get(&export).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["output"], true);
    let status_of = |listing: &Value| -> Value {
        listing["output"]
            .as_array()
            .expect("checkpoints")
            .iter()
            .find(|c| c["checkpoint"] == "checkpoint-360")
            .cloned()
            .expect("checkpoint-360 listed")
    };
    let checkpoints = format!("/api/v1/fine-tunes/{job_id}/checkpoints");
    let pending = status_of(&h.get(&checkpoints).await.1);
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(pending["model_display_name"], "my-effect_v1");
    h.advance(20.0).await;
    assert_eq!(
        status_of(&h.get(&checkpoints).await.1)["status"],
        "PROCESSING"
    );
    h.advance(60.0).await;
    let done = status_of(&h.get(&checkpoints).await.1);
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(
        done["model_name"],
        format!("wan2.5-i2v-preview-{job_id}-c360")
    );

    // The exported model deploys like the final one.
    let (status, deployment) = h
        .post(
            "/api/v1/deployments",
            &deploy_body(done["model_name"].as_str().expect("name")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{deployment}");
    // Display names are unique.
    let (status, _) = h
        .get(&format!(
            "/api/v1/fine-tunes/{job_id}/export/checkpoint-400?model_name=my-effect_v1"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn deploy_body(model_name: &str) -> Value {
    json!({
        "model_name": model_name,
        "capacity": 1,
        "plan": "lora",
        "aigc_config": {
            "use_input_prompt": false,
            "prompt": "Describe the video from the image...\nThe video begins with [subject]. Then the s86b5p effect begins.\nExample...",
            "lora_prompt_default": "Then the s86b5p money rain effect begins.",
        },
    })
}

#[tokio::test]
async fn deployments_validate_conflict_run_and_delete() {
    let h = start(config()).await;
    let job_id = trained_job(&h).await;
    let model = format!("wan2.5-i2v-preview-{job_id}");
    let (status, body) = h.post("/api/v1/deployments", &deploy_body(&model)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("UnsupportedOperation")),
        "{body}"
    );
    h.finish_job(&job_id).await;

    let mut invalid = Vec::new();
    for (key, value) in [
        ("capacity", json!(0)),
        ("capacity", Value::Null),
        ("plan", json!("full")),
        (
            "aigc_config",
            json!({ "use_input_prompt": false, "prompt": "p" }),
        ),
        (
            "aigc_config",
            json!({ "prompt": "p", "lora_prompt_default": "d" }),
        ),
    ] {
        let mut body = deploy_body(&model);
        body[key] = value;
        invalid.push(body);
    }
    for body in invalid {
        let (status, answer) = h.post("/api/v1/deployments", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["code"], "InvalidParameter", "{answer}");
    }
    let (status, body) = h
        .post(
            "/api/v1/deployments",
            &deploy_body("wan2.5-i2v-preview-ft-unknown"),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );

    let (status, created) = h.post("/api/v1/deployments", &deploy_body(&model)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let output = &created["output"];
    assert_eq!(output["deployed_model"], model.as_str());
    assert_eq!(output["model_name"], model.as_str());
    assert_eq!(output["status"], "PENDING");
    assert_eq!(output["base_model"], "wan2.5-i2v-preview");
    assert_eq!(output["charge_type"], "post_paid");
    assert_eq!(output["plan"], "lora");
    let gmt = output["gmt_create"].as_str().expect("gmt_create");
    assert!(
        chrono::NaiveDateTime::parse_from_str(gmt, "%Y-%m-%dT%H:%M:%S%.3f").is_ok(),
        "{gmt}"
    );
    let (status, body) = h.post("/api/v1/deployments", &deploy_body(&model)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("Conflict"))
    );

    let path = format!("/api/v1/deployments/{model}");
    h.advance(130.0).await;
    let (_, running) = h.get(&path).await;
    assert_eq!(running["output"]["status"], "RUNNING");
    assert_ne!(
        running["output"]["gmt_modified"],
        running["output"]["gmt_create"]
    );
    let (_, listing) = h.get("/api/v1/deployments").await;
    assert_eq!(listing["output"]["total"], 1);
    assert_eq!(
        listing["output"]["deployments"][0]["deployed_model"],
        model.as_str()
    );

    let (status, deleted) = h.delete(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["output"]["status"], "DELETING");
    let (status, gone) = h.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        (gone["code"].as_str(), gone["message"].as_str()),
        (Some("NotFound"), Some("Not found."))
    );
    let (status, _) = h.delete(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Gone, it can be deployed again.
    let (status, _) = h.post("/api/v1/deployments", &deploy_body(&model)).await;
    assert_eq!(status, StatusCode::OK);
}

/// A deployment of a fresh wan2.5 job, RUNNING; returns its name.
async fn running_deployment(h: &Harness, use_input_prompt: bool) -> String {
    let job_id = h
        .start_job(12, json!({ "n_epochs": 10, "eval_epochs": 5 }))
        .await;
    h.finish_job(&job_id).await;
    let model = format!("wan2.5-i2v-preview-{job_id}");
    let mut body = deploy_body(&model);
    body["aigc_config"]["use_input_prompt"] = json!(use_input_prompt);
    let (status, answer) = h.post("/api/v1/deployments", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    model
}

fn image_data_url() -> String {
    let jpeg = include_bytes!("../src/emulator/assets/frame.jpeg"); // a real 256×256 JPEG
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    )
}

#[tokio::test]
async fn synthesis_requires_async_header_and_a_running_deployment() {
    let h = start(config()).await;
    let model = running_deployment(&h, true).await;
    let body =
        json!({ "model": model, "input": { "img_url": image_data_url(), "prompt": "a cat" } });
    let (status, answer) = h.post(FIRST_FRAME, &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(answer["code"], "AccessDenied");
    assert_eq!(
        answer["message"],
        "current user api does not support synchronous calls"
    );
    let (status, answer) = h.post_async(FIRST_FRAME, &body).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("UnsupportedOperation")),
        "still PENDING"
    );
    h.advance(130.0).await;

    let unknown = json!({ "model": "wan2.5-i2v-preview-ft-unknown", "input": { "img_url": "https://x/y.jpg" } });
    let (status, answer) = h.post_async(FIRST_FRAME, &unknown).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("ModelNotFound"))
    );
    let key_frames = json!({ "model": model, "input": { "first_frame_url": "https://x/y.jpg" } });
    let (status, answer) = h.post_async(KEY_FRAMES, &key_frames).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidParameter")),
        "i2v model on kf2v endpoint"
    );

    let tiny_png = {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 0, 100, 0, 0, 0, 100, 8, 2, 0, 0, 0]);
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        )
    };
    let invalid_inputs = [
        (json!({}), "Missing required parameter: input.img_url"),
        (
            json!({ "img_url": "ftp://host/a.jpg" }),
            "must be an http(s) URL",
        ),
        (
            json!({ "img_url": "data:image/jpeg;base64,@@@" }),
            "not valid base64",
        ),
        (
            json!({ "img_url": "data:image/gif;base64,R0lGODlhAQABAAAAACw=" }),
            "is a GIF image, which is not accepted",
        ),
        (
            json!({ "img_url": tiny_png }),
            "each side must be from 240 to 8000 pixels",
        ),
        (
            json!({ "img_url": "https://x/y.jpg", "negative_prompt": "n".repeat(501) }),
            "negative_prompt",
        ),
    ];
    for (input, expected) in invalid_inputs {
        let (status, answer) = h
            .post_async(FIRST_FRAME, &json!({ "model": model, "input": input }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{input}");
        let message = answer["message"].as_str().expect("message");
        assert!(message.contains(expected), "`{message}` lacks `{expected}`");
    }
    for parameters in [
        json!({ "resolution": "1080P" }),
        json!({ "duration": 7 }),
        json!({ "seed": -1 }),
        json!({ "watermark": "yes" }),
    ] {
        let body = json!({ "model": model, "input": { "img_url": "https://x/y.jpg" }, "parameters": parameters });
        let (status, answer) = h.post_async(FIRST_FRAME, &body).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("InvalidParameter")),
            "{parameters}"
        );
    }
}

#[tokio::test]
async fn generation_task_runs_and_serves_its_video() {
    let h = start(config()).await;
    let model = running_deployment(&h, true).await;
    h.advance(130.0).await;
    let long_prompt = "p".repeat(2000);
    let body = json!({
        "model": model,
        "input": { "img_url": image_data_url(), "prompt": long_prompt },
        "parameters": { "resolution": "480P", "duration": 10, "prompt_extend": false, "seed": 42 },
    });
    let (status, submitted) = h.post_async(FIRST_FRAME, &body).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["output"]["task_status"], "PENDING");
    let task_id = submitted["output"]["task_id"].as_str().expect("task id");
    let path = format!("/api/v1/tasks/{task_id}");
    let (_, pending) = h.get(&path).await;
    assert_eq!(pending["output"]["task_status"], "PENDING");
    assert!(pending.get("usage").is_none());
    h.advance(10.0).await;
    let (_, running) = h.get(&path).await;
    assert_eq!(running["output"]["task_status"], "RUNNING");
    assert!(running["output"]["scheduled_time"].is_string());
    h.advance(60.0).await;
    let (status, done) = h.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    let output = &done["output"];
    assert_eq!(output["task_status"], "SUCCEEDED");
    for key in ["submit_time", "scheduled_time", "end_time"] {
        let t = output[key].as_str().expect(key);
        assert!(
            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.3f").is_ok(),
            "{key}: {t}"
        );
    }
    assert_eq!(output["orig_prompt"].as_str().map(str::len), Some(2000));
    assert_eq!(
        output["actual_prompt"].as_str().map(str::len),
        Some(1500),
        "truncated to the model's limit"
    );
    assert_eq!(
        done["usage"],
        json!({ "duration": 10, "video_duration": 10, "video_count": 1, "SR": 480 }),
        "both keys of the billed seconds (spec §8.10)"
    );
    let video_url = output["video_url"].as_str().expect("video_url");
    let video = h.client.get(video_url).send().await.expect("download");
    assert_eq!(video.status(), StatusCode::OK);
    let bytes = video.bytes().await.expect("body");
    assert_eq!(&bytes[4..8], b"ftyp");

    // Unknown and expired ids answer UNKNOWN inside a 200.
    let (status, unknown) = h.get("/api/v1/tasks/no-such-task").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        unknown["output"],
        json!({ "task_id": "no-such-task", "task_status": "UNKNOWN" })
    );
    h.advance(25.0 * 3600.0).await;
    let (_, expired) = h.get(&path).await;
    assert_eq!(expired["output"]["task_status"], "UNKNOWN");
}

#[tokio::test]
async fn key_frame_models_use_their_endpoint_and_templates() {
    let h = start(config()).await;
    let train = h.upload("i2v.zip", training_zip(12)).await;
    let job = h
        .create_job(json!({
            "model": "wan2.2-kf2v-flash",
            "training_file_ids": [train],
            "training_type": "efficient_sft",
            "hyper_parameters": { "n_epochs": 10, "eval_epochs": 5 },
        }))
        .await;
    let job_id = job["job_id"].as_str().expect("id");
    h.advance(3600.0).await;
    // The i2v-shaped lines lack last_frame_path: a kf2v model fails them.
    assert_eq!(h.job_status(job_id).await, "FAILED");
    let (_, logs) = h.get(&format!("/api/v1/fine-tunes/{job_id}/logs")).await;
    let missing_last_frame = logs["output"]["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .filter_map(Value::as_str)
        .any(|l| l.contains(": J012 data.jsonl:1: ") && l.contains("last_frame_path"));
    assert!(missing_last_frame, "{logs}");

    let train = h.upload("kf2v.zip", example_zip("kf2v-train", 10)).await;
    let job = h
        .create_job(json!({
            "model": "wan2.2-kf2v-flash",
            "training_file_ids": [train],
            "training_type": "efficient_sft",
            "hyper_parameters": { "n_epochs": 10, "eval_epochs": 5 },
        }))
        .await;
    let job_id = job["job_id"].as_str().expect("id");
    h.advance(3600.0).await;
    assert_eq!(h.job_status(job_id).await, "SUCCEEDED");
    let model = format!("wan2.2-kf2v-flash-{job_id}");
    let (status, _) = h.post("/api/v1/deployments", &deploy_body(&model)).await;
    assert_eq!(status, StatusCode::OK);
    h.advance(130.0).await;

    let (status, answer) = h
        .post_async(
            FIRST_FRAME,
            &json!({ "model": model, "input": { "img_url": "https://x/a.jpg" } }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let body = json!({
        "model": model,
        "input": { "first_frame_url": image_data_url(), "last_frame_url": "https://x/b.jpg", "prompt": "ignored" },
    });
    let (status, submitted) = h.post_async(KEY_FRAMES, &body).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    let task_id = submitted["output"]["task_id"].as_str().expect("task id");
    h.advance(60.0).await;
    let (_, done) = h.get(&format!("/api/v1/tasks/{task_id}")).await;
    assert_eq!(done["output"]["task_status"], "SUCCEEDED");
    assert_eq!(
        done["usage"],
        json!({ "video_duration": 5, "video_count": 1, "SR": 720 })
    );
    // use_input_prompt=false: the deployment's fallback prompt is used, not the caller's.
    assert_eq!(
        done["output"]["actual_prompt"],
        "Then the s86b5p money rain effect begins."
    );
    assert_eq!(done["output"]["orig_prompt"], "ignored");
}

/// Uploads `bytes` the way the official SDKs do (getPolicy, then the OSS form) and returns the
/// `oss://` URL.
async fn temporary_upload(h: &Harness, model: &str, bytes: &[u8]) -> String {
    let (status, policy) = h
        .get(&format!("/api/v1/uploads?action=getPolicy&model={model}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{policy}");
    let p = &policy["output"];
    let key = format!("{}/frame.jpeg", p["upload_dir"].as_str().unwrap());
    let field = |name: &str| p[name].as_str().unwrap().to_owned();
    let form = reqwest::multipart::Form::new()
        .text("OSSAccessKeyId", field("oss_access_key_id"))
        .text("Signature", field("signature"))
        .text("policy", field("policy"))
        .text("key", key.clone())
        .text("x-oss-object-acl", field("x_oss_object_acl"))
        .text("x-oss-forbid-overwrite", field("x_oss_forbid_overwrite"))
        .text("success_action_status", "200")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("frame.jpeg"),
        );
    // No key: the signed policy is the credential.
    let response = h
        .client
        .post(p["upload_host"].as_str().unwrap())
        .multipart(form)
        .send()
        .await
        .expect("upload answered");
    assert_eq!(response.status(), StatusCode::OK);
    format!("oss://{key}")
}

/// wan2.7 deployments take `input.media[]` (spec §8.9), key frames included, on the
/// first-frame path, and refuse the legacy shapes; `oss://` inputs need the resolve header and
/// an object uploaded here (spec §8.7).
#[tokio::test]
async fn wan27_deployments_take_media_and_temporary_uploads() {
    let h = start(config()).await;
    let train = h.upload("kf2v.zip", example_zip("kf2v-train", 10)).await;
    let job = h
        .create_job(json!({
            "model": "wan2.7-i2v",
            "training_file_ids": [train],
            "hyper_parameters": { "n_epochs": 10, "eval_epochs": 5, "task_type": "kf2v" },
        }))
        .await;
    let job_id = job["job_id"].as_str().expect("id");
    h.advance(3600.0).await;
    assert_eq!(h.job_status(job_id).await, "SUCCEEDED");
    let model = format!("wan2.7-i2v-{job_id}");
    let (status, answer) = h
        .post(
            "/api/v1/deployments",
            &json!({ "model_name": model, "capacity": 1, "plan": "lora" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "without aigc_config: {answer}");
    h.advance(130.0).await;

    let jpeg = include_bytes!("../src/emulator/assets/frame.jpeg");
    let first = temporary_upload(&h, &model, jpeg).await;
    let last = temporary_upload(&h, &model, jpeg).await;
    assert_ne!(first, last);
    let media = json!({
        "model": model,
        "input": { "media": [
            { "type": "first_frame", "url": first },
            { "type": "last_frame", "url": last },
        ] },
    });
    // oss:// without the resolve header is refused.
    let (status, answer) = h.post_async(FIRST_FRAME, &media).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("X-DashScope-OssResourceResolve"),
        "{answer}"
    );
    let submit = |body: Value| {
        let h = &h;
        async move {
            let response = h
                .client
                .post(h.url(FIRST_FRAME))
                .bearer_auth(emulator_support::KEY)
                .header("X-DashScope-Async", "enable")
                .header("X-DashScope-OssResourceResolve", "enable")
                .json(&body)
                .send()
                .await
                .expect("answered");
            emulator_support::parts(response).await
        }
    };
    let (status, submitted) = submit(media.clone()).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    let task_id = submitted["output"]["task_id"].as_str().unwrap().to_owned();
    let (_, objects) = h.get("/__emulator/oss").await;
    let resolved: Vec<&Value> = objects["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["resolved_by"][0])
        .collect();
    assert_eq!(resolved, [&json!(task_id), &json!(task_id)]);
    h.advance(60.0).await;
    let (_, done) = h.get(&format!("/api/v1/tasks/{task_id}")).await;
    assert_eq!(done["output"]["task_status"], "SUCCEEDED", "{done}");

    // The legacy shapes, and unresolvable or malformed media, are refused.
    let refused = [
        (
            FIRST_FRAME,
            json!({ "model": model, "input": { "img_url": first } }),
            "input.img_url is not supported by wan2.7-i2v",
        ),
        (
            KEY_FRAMES,
            json!({ "model": model, "input": { "first_frame_url": first, "last_frame_url": last } }),
            "takes input.media[] on video-generation",
        ),
        (
            FIRST_FRAME,
            json!({ "model": model, "input": { "media": [{ "type": "last_frame", "url": last }] } }),
            "needs a first_frame item",
        ),
        (
            FIRST_FRAME,
            json!({ "model": model, "input": { "media": [{ "type": "first_frame", "url": "oss://dashscope-instant/nope.jpg" }] } }),
            "was not uploaded here",
        ),
        (
            FIRST_FRAME,
            json!({ "model": model, "input": { "media": [{ "type": "poster", "url": first }] } }),
            "has the type poster",
        ),
    ];
    for (path, body, expected) in refused {
        let response = h
            .client
            .post(h.url(path))
            .bearer_auth(emulator_support::KEY)
            .header("X-DashScope-Async", "enable")
            .header("X-DashScope-OssResourceResolve", "enable")
            .json(&body)
            .send()
            .await
            .expect("answered");
        let (status, answer) = emulator_support::parts(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains(expected),
            "{body}: `{message}` lacks `{expected}`"
        );
    }
    // A wan2.5 deployment refuses media[] in turn.
    let legacy = running_deployment(&h, true).await;
    h.advance(130.0).await;
    let (status, answer) = submit(json!({
        "model": legacy,
        "input": { "media": [{ "type": "first_frame", "url": first }] },
    }))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("input.media is not supported"),
        "{answer}"
    );

    // 48 hours on, the uploads no longer resolve; a forged form is refused.
    h.advance(49.0 * 3600.0).await;
    let (status, answer) = submit(media).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("older than 48 hours"),
        "{answer}"
    );
    let (_, policy) = h.get("/api/v1/uploads?action=getPolicy&model=m").await;
    let p = &policy["output"];
    let form = reqwest::multipart::Form::new()
        .text(
            "OSSAccessKeyId",
            p["oss_access_key_id"].as_str().unwrap().to_owned(),
        )
        .text("Signature", "forged")
        .text("policy", p["policy"].as_str().unwrap().to_owned())
        .text(
            "key",
            format!("{}/x.jpeg", p["upload_dir"].as_str().unwrap()),
        )
        .part("file", reqwest::multipart::Part::bytes(jpeg.to_vec()));
    let response = h
        .client
        .post(p["upload_host"].as_str().unwrap())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("<Code>AccessDenied</Code>")
    );
}
