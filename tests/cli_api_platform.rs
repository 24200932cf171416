//! The platform of 2026 (spec §8) from the command line, against the emulator: paged logs read
//! and followed line by line, the 20-job quota, checkpoint identity and expiry.

mod cli_api_support;

use cli_api_support::{Cli, fast_clock, frozen_clock};
use serde_json::json;
use wanft::emulator::EmulatorConfig;

const REGION: &str = "cn-beijing";

/// Uploads the i2v example and returns its file id.
fn upload_example(cli: &Cli) -> String {
    let zip = cli.example_zip("i2v-train");
    let (stdout, _) = cli.run(cli.wanft(REGION, &["upload", zip.to_str().unwrap()]), 0);
    stdout.trim().to_owned()
}

/// Every line of the job's log as the emulator holds it, read in pages of 1000.
fn raw_log(cli: &Cli, job_id: &str) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let page = cli.raw_get(&format!(
            "/api/v1/fine-tunes/{job_id}/logs?offset={}&line=1000",
            lines.len()
        ));
        let got: Vec<String> = page["output"]["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect();
        let total = page["output"]["total"].as_u64().unwrap() as usize;
        lines.extend(got);
        if lines.len() >= total {
            return lines;
        }
    }
}

/// 18 training samples × 200 epochs at batch size 2: 1,800 steps, a log of about 1,850 lines.
const LONG_JOB: [&str; 4] = ["--n-epochs", "200", "--eval-epochs", "20"];

#[test]
fn logs_of_more_than_a_thousand_lines_are_read_whole_and_followed_once() {
    // A clock slow enough that the job runs for a few seconds while it is followed.
    let cli = Cli::start(EmulatorConfig {
        time_scale: 60.0,
        ..fast_clock()
    });
    let file_id = upload_example(&cli);
    let mut args = vec!["jobs", "create", "--yes", "--training", &file_id];
    args.extend(LONG_JOB);
    let created = cli.json(cli.wanft(REGION, &args));
    let job_id = created["job"]["job_id"].as_str().unwrap().to_owned();

    let (followed, _) = cli.run(
        cli.wanft(
            REGION,
            &["jobs", "logs", &job_id, "--follow", "--interval", "300ms"],
        ),
        0,
    );
    let whole = raw_log(&cli, &job_id);
    assert!(whole.len() > 1000, "{} lines", whole.len());
    let followed: Vec<&str> = followed.lines().collect();
    assert_eq!(followed, whole, "each line once, in order");

    let (read, _) = cli.run(cli.wanft(REGION, &["jobs", "logs", &job_id]), 0);
    let read: Vec<&str> = read.lines().collect();
    assert_eq!(read, whole);
    assert!(read.last().unwrap().ends_with("##FT_COMPLETE##"));
    assert!(
        read.iter()
            .any(|l| l.contains("step 1800/1800, epoch 200/200"))
    );
    let json = cli.json(cli.wanft(REGION, &["jobs", "logs", &job_id]));
    assert_eq!(json["total"], whole.len());
    assert_eq!(json["logs"].as_array().unwrap().len(), whole.len());
}

#[test]
fn the_21st_job_meets_the_quota_with_the_jobs_to_delete() {
    let cli = Cli::start(frozen_clock());
    let file_id = upload_example(&cli);
    let body = json!({
        "model": "wan2.5-i2v-preview",
        "training_file_ids": [file_id],
        "training_type": "efficient_sft",
    });
    let mut ids = Vec::new();
    for _ in 0..20 {
        let created = cli.raw_post("/api/v1/fine-tunes", body.clone());
        ids.push(created["output"]["job_id"].as_str().unwrap().to_owned());
    }

    // Upload and create both check the quota before spending anything.
    let zip = cli.example_zip("i2v-val");
    let (stdout, stderr) = cli.run(cli.wanft(REGION, &["upload", zip.to_str().unwrap()]), 2);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("job quota reached: 20 jobs"), "{stderr}");
    assert_eq!(cli.file_count(), 1, "nothing was uploaded");
    let (_, stderr) = cli.run(
        cli.wanft(REGION, &["jobs", "create", "--yes", "--training", &file_id]),
        2,
    );
    assert!(stderr.contains("the account allows 20"), "{stderr}");
    for id in &ids {
        assert!(stderr.contains(id.as_str()), "{id} is listed: {stderr}");
    }
    assert!(stderr.contains("not a rate limit"), "{stderr}");
    assert_eq!(cli.job_count(), 20);

    // The platform's own refusal, when the check before spending is passed by a race: the
    // emulator enforces the cap, and the client turns its 429 into the same error.
    // One job trains at a time: ten hours see all twenty through.
    cli.advance(36_000.0);
    let listed = cli.raw_get("/api/v1/fine-tunes?page_size=100");
    let statuses: Vec<&str> = listed["output"]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["status"].as_str().unwrap())
        .collect();
    assert!(statuses.iter().all(|s| *s == "SUCCEEDED"), "{statuses:?}");
    let (_, stderr) = cli.run(
        cli.wanft(REGION, &["jobs", "create", "--yes", "--training", &file_id]),
        2,
    );
    assert!(stderr.contains("wanft jobs delete"), "{stderr}");

    // Deleting one frees a slot.
    let oldest = &ids[0];
    cli.run(cli.wanft(REGION, &["jobs", "delete", oldest]), 0);
    let created = cli.json(cli.wanft(REGION, &["jobs", "create", "--yes", "--training", &file_id]));
    assert!(created["job"]["job_id"].is_string());
}

#[test]
fn checkpoints_show_identity_and_expiry_and_warn_before_it() {
    let cli = Cli::start(frozen_clock());
    let file_id = upload_example(&cli);
    let created = cli.json(cli.wanft(
        REGION,
        &[
            "jobs",
            "create",
            "--yes",
            "--training",
            &file_id,
            "--n-epochs",
            "100",
            "--eval-epochs",
            "20",
        ],
    ));
    let job_id = created["job"]["job_id"].as_str().unwrap().to_owned();
    cli.advance(3600.0);
    let listed = cli.json(cli.wanft(REGION, &["checkpoints", "list", &job_id]));
    let items = listed["checkpoints"].as_array().unwrap();
    assert!(items.len() > 1);
    for item in items {
        let step = item["step"].as_u64().unwrap();
        assert_eq!(
            item["checkpoint_id"],
            format!("{job_id}:checkpoint-{step}").as_str()
        );
        assert!(item["expire_time"].is_string(), "{item}");
        assert_eq!(item["expires_soon"], false);
    }
    let (stdout, stderr) = cli.run(cli.wanft(REGION, &["checkpoints", "list", &job_id]), 0);
    assert!(stdout.contains("expires 20"), "{stdout}");
    assert!(!stderr.contains("warning"), "{stderr}");

    // Export the final checkpoint; then thirteen days on, the others are about to expire.
    let last = items.last().unwrap()["checkpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    cli.run(
        cli.wanft(
            REGION,
            &["checkpoints", "export", &job_id, &last, "--name", "keep-me"],
        ),
        0,
    );
    cli.advance(13.0 * 24.0 * 3600.0);
    let (_, stderr) = cli.run(cli.wanft(REGION, &["checkpoints", "list", &job_id]), 0);
    let first = items[0]["checkpoint"].as_str().unwrap();
    assert!(
        stderr.contains(&format!("warning: {first} of {job_id} expires in")),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&format!("{last} of")),
        "exported: {stderr}"
    );
    let listed = cli.json(cli.wanft(REGION, &["checkpoints", "list", &job_id]));
    assert_eq!(listed["checkpoints"][0]["expires_soon"], true);

    // Past expiry, an unexported checkpoint can no longer be exported.
    cli.advance(3.0 * 24.0 * 3600.0);
    let (_, stderr) = cli.run(
        cli.wanft(
            REGION,
            &[
                "checkpoints",
                "export",
                &job_id,
                first,
                "--name",
                "too-late",
            ],
        ),
        2,
    );
    assert!(stderr.contains("can no longer be exported"), "{stderr}");
    let (_, stderr) = cli.run(cli.wanft(REGION, &["checkpoints", "list", &job_id]), 0);
    assert!(stderr.contains("it can no longer be exported"), "{stderr}");
}

/// Two `jobs create` at once, both answers lost: each finds its own job by the unique
/// `job_name` it sent (spec §8.5), so they report two distinct jobs, and two exist.
#[test]
fn concurrent_creates_with_lost_answers_report_distinct_jobs() {
    let cli = Cli::start(frozen_clock());
    let file_id = upload_example(&cli);
    cli.faults(json!({ "lose_next_create": 2 }));
    let create = || {
        let cmd = cli.wanft(
            REGION,
            &[
                "jobs",
                "create",
                "--yes",
                "--training",
                &file_id,
                "--n-epochs",
                "100",
                "--eval-epochs",
                "20",
                "--format",
                "json",
            ],
        );
        let (stdout, stderr) = cli.run(cmd, 0);
        assert!(stderr.contains("not sent again"), "{stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        doc["job"]["job_id"].as_str().unwrap().to_owned()
    };
    let ids: Vec<String> = std::thread::scope(|scope| {
        let a = scope.spawn(create);
        let b = scope.spawn(create);
        [a, b].map(|t| t.join().expect("create ran")).to_vec()
    });
    assert_ne!(ids[0], ids[1], "each reports its own job");
    assert_eq!(cli.job_count(), 2);
}

/// A wan2.7 key-frame deployment generates with `input.media[]` (spec §8.9), and local frames
/// travel as temporary uploads: the emulator resolved both `oss://` objects for the task.
#[test]
fn a_wan27_kf2v_deployment_generates_from_local_frames_via_oss() {
    let cli = Cli::start(frozen_clock());
    let zip = cli.example_zip("kf2v-train");
    let (stdout, _) = cli.run(
        cli.wanft(
            REGION,
            &["upload", zip.to_str().unwrap(), "--model", "wan2.7-i2v"],
        ),
        0,
    );
    let file_id = stdout.trim().to_owned();
    let created = cli.json(cli.wanft(
        REGION,
        &[
            "jobs",
            "create",
            "--yes",
            "--training",
            &file_id,
            "--model",
            "wan2.7-i2v",
            "--task-type",
            "kf2v",
            "--n-epochs",
            "10",
            "--eval-epochs",
            "5",
        ],
    ));
    let job_id = created["job"]["job_id"].as_str().unwrap().to_owned();
    cli.advance(3600.0);
    let model = format!("wan2.7-i2v-{job_id}");
    let (_, stderr) = cli.run(cli.wanft(REGION, &["deploy", "create", "--yes", &model]), 0);
    assert!(stderr.contains("no aigc_config"), "{stderr}");
    cli.advance(600.0);

    let frames = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kf2v-train/image");
    let first = frames.join("clip01_first.jpg");
    let last = frames.join("clip02_first.jpg");
    let generated = cli.json(cli.wanft(
        REGION,
        &[
            "generate",
            "--yes",
            "--model",
            &model,
            "--image",
            first.to_str().unwrap(),
            "--last-frame",
            last.to_str().unwrap(),
        ],
    ));
    let task_id = generated["task"]["task_id"].as_str().unwrap().to_owned();
    let objects = cli.raw_get("/__emulator/oss")["objects"].clone();
    let objects = objects.as_array().unwrap();
    assert_eq!(objects.len(), 2, "{objects:?}");
    for object in objects {
        assert!(
            object["url"]
                .as_str()
                .unwrap()
                .starts_with("oss://dashscope-instant/")
        );
        assert_eq!(object["resolved_by"], json!([task_id.as_str()]));
    }
    cli.advance(60.0);
    let (stdout, _) = cli.run(cli.wanft(REGION, &["tasks", "get", &task_id]), 0);
    assert!(stdout.contains("SUCCEEDED"), "{stdout}");

    // data: stays available as the fallback.
    cli.run(
        cli.wanft(
            REGION,
            &[
                "generate",
                "--yes",
                "--model",
                &model,
                "--image",
                first.to_str().unwrap(),
                "--inline-images",
            ],
        ),
        0,
    );
    let objects = cli.raw_get("/__emulator/oss")["objects"].clone();
    assert_eq!(objects.as_array().unwrap().len(), 2, "nothing new uploaded");
}

/// One wrapping folder (spec §8.8): `check` warns (J002), `upload` sends the zip as it is, and
/// the emulator trains on it; two levels stay an error.
#[test]
fn a_zip_with_one_wrapping_folder_checks_with_a_warning_uploads_and_trains() {
    let cli = Cli::start(frozen_clock());
    let wrapped = cli.work.path().join("wrapped");
    let inner = wrapped.join("effect-dataset");
    std::fs::create_dir_all(&inner).unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/i2v-train");
    for entry in std::fs::read_dir(&example).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), inner.join(entry.file_name())).unwrap();
    }
    let zip = cli.work.path().join("wrapped.zip");
    cli_api_support::common::zip_dir(&wrapped, &zip);
    let zip = zip.to_str().unwrap();

    let (stdout, _) = cli.run(cli.bare(&["check", zip]), 0);
    assert!(stdout.contains("J002"), "{stdout}");
    assert!(stdout.contains("warning"), "{stdout}");
    let (stdout, _) = cli.run(cli.wanft(REGION, &["upload", zip]), 0);
    let file_id = stdout.trim().to_owned();
    let created = cli.json(cli.wanft(
        REGION,
        &[
            "jobs",
            "create",
            "--yes",
            "--training",
            &file_id,
            "--n-epochs",
            "100",
            "--eval-epochs",
            "20",
        ],
    ));
    let job_id = created["job"]["job_id"].as_str().unwrap().to_owned();
    cli.advance(3600.0);
    let job = cli.json(cli.wanft(REGION, &["jobs", "get", &job_id]));
    assert_eq!(job["job"]["status"], "SUCCEEDED", "{job}");
    assert!(job["job"]["usage"].as_u64().unwrap() > 0);

    // pack still writes it flat.
    let out = cli.work.path().join("flat.zip");
    cli.run(
        cli.bare(&["pack", inner.to_str().unwrap(), "-o", out.to_str().unwrap()]),
        0,
    );
    let (stdout, _) = cli.run(cli.bare(&["check", out.to_str().unwrap()]), 0);
    assert!(!stdout.contains("J002"), "{stdout}");

    // Two levels down stay an error.
    let deeper = cli.work.path().join("deeper");
    std::fs::create_dir_all(&deeper).unwrap();
    std::fs::rename(&wrapped, deeper.join("outer")).unwrap();
    let deep_zip = cli.work.path().join("deep.zip");
    cli_api_support::common::zip_dir(&deeper, &deep_zip);
    let (stdout, _) = cli.run(cli.bare(&["check", deep_zip.to_str().unwrap()]), 1);
    assert!(stdout.contains("J022"), "{stdout}");
}

/// `wanft doctor`: the key works, the jobs counted against the quota (all 20 listed, a
/// problem once full), deployments up, checkpoints about to expire, the price table, ffmpeg.
#[test]
fn doctor_lists_what_will_cost_or_block() {
    let cli = Cli::start(frozen_clock());
    let file_id = upload_example(&cli);
    let (stdout, _) = cli.run(cli.wanft(REGION, &["doctor"]), 0);
    assert!(
        stdout.contains("the API key works in cn-beijing"),
        "{stdout}"
    );
    assert!(stdout.contains("0 of 20 jobs count"), "{stdout}");
    assert!(stdout.contains("no deployments"), "{stdout}");
    assert!(stdout.contains("price table was read on"), "{stdout}");
    assert!(stdout.contains("ffmpeg "), "{stdout}");

    let body = json!({
        "model": "wan2.5-i2v-preview",
        "training_file_ids": [file_id],
        "hyper_parameters": { "n_epochs": 100, "eval_epochs": 20 },
    });
    let ids: Vec<String> = (0..20)
        .map(|_| {
            cli.raw_post("/api/v1/fine-tunes", body.clone())["output"]["job_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    cli.advance(36_000.0);
    let model = format!("wan2.5-i2v-preview-{}", ids[0]);
    cli.run(
        cli.wanft(
            REGION,
            &["deploy", "create", "--yes", &model, "--use-input-prompt"],
        ),
        0,
    );
    // Thirteen days on, the unexported checkpoints are close to expiry.
    cli.advance(13.0 * 24.0 * 3600.0);
    let (stdout, _) = cli.run(cli.wanft(REGION, &["doctor"]), 1);
    assert!(stdout.contains("PROBLEM  job-quota"), "{stdout}");
    assert!(stdout.contains("20 of 20 jobs count"), "{stdout}");
    for id in &ids {
        assert!(stdout.contains(id.as_str()), "{id} listed: {stdout}");
    }
    assert!(stdout.contains("1 deployment(s) up"), "{stdout}");
    assert!(stdout.contains(&model), "{stdout}");
    assert!(
        stdout.contains("unexported checkpoint(s) expire within 3 days"),
        "{stdout}"
    );
    let report = cli
        .run(cli.wanft(REGION, &["doctor", "--format", "json"]), 1)
        .0;
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["ok"], false);
    let quota = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["topic"] == "job-quota")
        .unwrap();
    assert_eq!(quota["details"].as_array().unwrap().len(), 20);

    // A key the region refuses is the first thing doctor says.
    let mut cmd = cli.wanft(REGION, &["doctor"]);
    cmd.env("DASHSCOPE_API_KEY", "sk-not-this-one");
    let (stdout, _) = cli.run(cmd, 1);
    assert!(
        stdout.contains("the API key is not valid in cn-beijing"),
        "{stdout}"
    );
}
