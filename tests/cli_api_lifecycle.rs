//! The main flow from the command line, against an emulator on a fast clock: upload, jobs
//! create and wait, checkpoints list and export, deploy create and wait, generate with
//! download, deploy delete; plus files, logs, the ledger and a project file.

mod cli_api_support;

use cli_api_support::{Cli, fast_clock};

const REGION: &str = "cn-beijing";

#[test]
fn the_whole_lifecycle() {
    let cli = Cli::start(fast_clock());
    let zip = cli.example_zip("i2v-train");
    let zip = zip.to_str().unwrap();

    // Upload: the id alone on stdout; the ledger skips a repeat; --force sends again.
    let (stdout, stderr) = cli.run(cli.wanft(REGION, &["upload", zip]), 0);
    let file_id = stdout.trim().to_owned();
    assert_eq!(file_id.len(), 36, "a Beijing UUID: {stdout}");
    assert!(stderr.contains("uploaded i2v-train.zip"), "{stderr}");
    let again = cli.json(cli.wanft(REGION, &["upload", zip]));
    assert_eq!(again["id"], file_id.as_str());
    assert_eq!(again["reused"], true);
    assert_eq!(again["region"], REGION);
    assert_eq!(cli.file_count(), 1);
    let forced = cli.json(cli.wanft(REGION, &["upload", zip, "--force"]));
    assert_eq!(forced["reused"], false);
    assert_ne!(forced["id"], file_id.as_str());
    assert_eq!(forced["sha256"], again["sha256"]);
    assert_eq!(cli.file_count(), 2);
    let forced_id = forced["id"].as_str().unwrap();
    let (stdout, _) = cli.run(cli.wanft(REGION, &["files", "delete", forced_id]), 0);
    assert!(stdout.contains(&format!("deleted {forced_id}")));
    let ledger = std::fs::read_to_string(cli.cache.path().join("uploads.json")).unwrap();
    assert!(
        !ledger.contains(forced_id),
        "a deleted file is forgotten: {ledger}"
    );

    // A job, waited for.
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
    assert_eq!(created["job"]["hyper_parameters"]["n_epochs"], 100);
    assert_eq!(created["region"], REGION);
    let (stdout, _) = cli.run(
        cli.wanft(REGION, &["jobs", "wait", &job_id, "--interval", "100ms"]),
        0,
    );
    assert!(stdout.contains("SUCCEEDED"), "{stdout}");
    assert!(stdout.contains("tokens"), "usage is shown: {stdout}");
    let (stdout, _) = cli.run(cli.wanft(REGION, &["jobs", "logs", &job_id]), 0);
    assert!(stdout.trim_end().ends_with("##FT_COMPLETE##"), "{stdout}");
    let listed = cli.json(cli.wanft(REGION, &["jobs", "list", "--model", "wan2.5-i2v-preview"]));
    assert_eq!(listed["jobs"][0]["job_id"], job_id.as_str());

    // Checkpoints, by step; export one and wait.
    let checkpoints = cli.json(cli.wanft(REGION, &["checkpoints", "list", &job_id]));
    let steps: Vec<u64> = checkpoints["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["step"].as_u64().unwrap())
        .collect();
    assert!(
        steps.len() > 1 && steps.windows(2).all(|w| w[0] < w[1]),
        "{steps:?}"
    );
    assert!(
        checkpoints["checkpoints"][0]["previewed"]
            .as_bool()
            .unwrap()
    );
    let first = format!("checkpoint-{}", steps[0]);
    let previews_dir = cli.work.path().join("previews");
    let (stdout, _) = cli.run(
        cli.wanft(
            REGION,
            &[
                "checkpoints",
                "details",
                &job_id,
                &first,
                "--download",
                previews_dir.to_str().unwrap(),
            ],
        ),
        0,
    );
    assert!(stdout.contains("The video begins"), "{stdout}");
    let saved: Vec<_> = std::fs::read_dir(&previews_dir).unwrap().collect();
    assert!(!saved.is_empty());
    let exported = cli.json(cli.wanft(
        REGION,
        &[
            "checkpoints",
            "export",
            &job_id,
            &first,
            "--name",
            "cli_export",
            "--wait",
            "--interval",
            "100ms",
        ],
    ));
    assert_eq!(exported["checkpoint"]["status"], "SUCCEEDED");
    let model_name = exported["checkpoint"]["model_name"]
        .as_str()
        .unwrap()
        .to_owned();

    // Deploy, wait, generate, download, delete.
    let (stdout, _) = cli.run(
        cli.wanft(
            REGION,
            &[
                "deploy",
                "create",
                "--yes",
                &model_name,
                "--use-input-prompt",
                "--wait",
                "--interval",
                "100ms",
            ],
        ),
        0,
    );
    assert!(stdout.contains("RUNNING"), "{stdout}");
    let video = cli.work.path().join("out/video.mp4");
    let image = std::path::Path::new(cli_api_support::common::ROOT)
        .join("examples/i2v-train/clip01_first.jpg");
    let generated = cli.json(cli.wanft(
        REGION,
        &[
            "generate",
            "--yes",
            "--model",
            &model_name,
            "--image",
            image.to_str().unwrap(),
            "--prompt",
            "a cat on a windowsill, then the v7nq2r ripple shatter effect",
            "--resolution",
            "480P",
            "--wait",
            "--interval",
            "100ms",
            "-o",
            video.to_str().unwrap(),
        ],
    ));
    assert_eq!(generated["task"]["task_status"], "SUCCEEDED");
    assert_eq!(generated["task"]["usage"]["SR"], 480);
    assert_eq!(&std::fs::read(&video).unwrap()[4..8], b"ftyp");
    let task_id = generated["task"]["task_id"].as_str().unwrap();
    let (stdout, _) = cli.run(cli.wanft(REGION, &["tasks", "get", task_id]), 0);
    assert!(
        stdout.contains("SUCCEEDED") && stdout.contains("billed"),
        "{stdout}"
    );

    let deleted = cli.json(cli.wanft(REGION, &["deploy", "delete", &model_name]));
    assert_eq!(deleted["deployment"]["status"], "DELETING");
    let (_, stderr) = cli.run(cli.wanft(REGION, &["deploy", "get", &model_name]), 2);
    assert!(stderr.contains("HTTP 404 NotFound"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn a_project_file_supplies_region_host_hyper_parameters_and_prompts() {
    let cli = Cli::start(fast_clock());
    let zip = cli.example_zip("i2v-train");
    std::fs::write(
        cli.work.path().join("wanft.toml"),
        format!(
            r#"model = "wan2.5-i2v-preview"
region = "ap-southeast-1"

[hyper_parameters]
n_epochs = 60
eval_epochs = 30

[deploy]
use_input_prompt = false
prompt = "Describe the subject. Then the v7nq2r ripple shatter effect begins."
lora_prompt_default = "Then the v7nq2r ripple shatter effect begins."

[api]
base_url = "{}"
"#,
            cli.base
        ),
    )
    .unwrap();
    let (stdout, _) = cli.run(cli.bare(&["upload", zip.to_str().unwrap()]), 0);
    let file_id = stdout.trim();
    assert!(file_id.starts_with("file-ft-"), "Singapore style: {stdout}");
    let created = cli.json(cli.bare(&[
        "jobs",
        "create",
        "--yes",
        "--training",
        file_id,
        "--n-epochs",
        "80",
    ]));
    let hyper = &created["job"]["hyper_parameters"];
    assert_eq!(
        (hyper["n_epochs"].as_u64(), hyper["eval_epochs"].as_u64()),
        (Some(80), Some(30))
    );
    let job_id = created["job"]["job_id"].as_str().unwrap();
    cli.run(
        cli.bare(&["jobs", "wait", job_id, "--interval", "100ms"]),
        0,
    );
    let job = cli.json(cli.bare(&["jobs", "get", job_id]));
    let model = job["job"]["finetuned_output"].as_str().unwrap();
    let deployment = cli.json(cli.bare(&["deploy", "create", "--yes", model]));
    assert_eq!(deployment["region"], "ap-southeast-1");
    cli.run(
        cli.bare(&["deploy", "wait", model, "--interval", "100ms"]),
        0,
    );
    let listed = cli.json(cli.bare(&["deploy", "list"]));
    assert_eq!(listed["deployments"][0]["deployed_model"], model);
}

#[test]
fn files_and_logs_in_both_styles() {
    let cli = Cli::start(fast_clock());
    let zip = cli.example_zip("i2v-val");
    for region in ["ap-southeast-1", "cn-beijing"] {
        let uploaded = cli.json(cli.wanft(region, &["upload", zip.to_str().unwrap(), "--force"]));
        let id = uploaded["id"].as_str().unwrap();
        let file = cli.json(cli.wanft(region, &["files", "get", id]));
        assert_eq!(file["file"]["bytes"], uploaded["bytes"]);
        assert_eq!(file["region"], region);
        let (stdout, _) = cli.run(cli.wanft(region, &["files", "list"]), 0);
        assert!(stdout.contains(id), "{stdout}");
    }
    let (_, stderr) = cli.run(
        cli.wanft("cn-beijing", &["files", "get", "no-such-file"]),
        2,
    );
    assert!(stderr.contains("NotFound"), "{stderr}");

    let train = cli.example_zip("i2v-train");
    let file_id = cli.json(cli.wanft("cn-beijing", &["upload", train.to_str().unwrap()]))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = cli.json(cli.wanft(
        "cn-beijing",
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
    let job_id = created["job"]["job_id"].as_str().unwrap();
    let (stdout, _) = cli.run(
        cli.wanft(
            "cn-beijing",
            &["jobs", "logs", job_id, "--follow", "--interval", "100ms"],
        ),
        0,
    );
    assert!(stdout.trim_end().ends_with("##FT_COMPLETE##"), "{stdout}");
    // Following printed every line once, in order: the same as reading the finished log.
    let (full, _) = cli.run(cli.wanft("cn-beijing", &["jobs", "logs", job_id]), 0);
    assert_eq!(stdout, full);
    assert!(full.contains("data process succeeded"), "{full}");
}
