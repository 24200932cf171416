//! Outcomes explain themselves: a FAILED job shows the platform's reason with the rule that
//! names it, and every command that starts something says how to follow it.

mod cli_api_support;

use std::path::Path;

use cli_api_support::common::{ROOT, copy_dir, zip_dir};
use cli_api_support::{Cli, KEY, fast_clock};

/// Uploads `zip` straight to the emulator, past wanft's own checks (which would refuse it).
fn raw_upload(cli: &Cli, zip: &Path) -> String {
    let bytes = std::fs::read(zip).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer: serde_json::Value = runtime.block_on(async {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("small.zip");
        let form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("purpose", "fine-tune");
        reqwest::Client::new()
            .post(format!("{}/compatible-mode/v1/files", cli.base))
            .bearer_auth(KEY)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    answer["id"].as_str().expect("a file id").to_owned()
}

#[test]
fn a_failed_job_says_why_and_which_rule() {
    let cli = Cli::start(fast_clock());
    // Four samples: the platform needs ten (rule S001), and fails the job in data processing.
    let dir = cli.work.path().join("small");
    copy_dir(&Path::new(ROOT).join("examples/i2v-train"), &dir);
    let manifest = std::fs::read_to_string(dir.join("data.jsonl")).unwrap();
    let four: String = manifest.lines().take(4).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("data.jsonl"), four).unwrap();
    let zip = cli.work.path().join("small.zip");
    zip_dir(&dir, &zip);
    let file = raw_upload(&cli, &zip);

    let (stdout, _) = cli.run(
        cli.wanft(
            "ap-southeast-1",
            &[
                "jobs",
                "create",
                "--yes",
                "--training",
                &file,
                "--n-epochs",
                "100",
            ],
        ),
        0,
    );
    let job = stdout.split_whitespace().nth(1).unwrap().to_owned();
    let (stdout, _) = cli.run(
        cli.wanft(
            "ap-southeast-1",
            &["jobs", "wait", &job, "--interval", "100ms"],
        ),
        1,
    );
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains("data process failed") && stdout.contains("S001 <dataset>: 4 training"),
        "{stdout}"
    );
    assert!(stdout.contains("`wanft explain S001`"), "{stdout}");
    assert!(stdout.contains("not billed"), "{stdout}");
    let shown = cli.json(cli.wanft("ap-southeast-1", &["jobs", "get", &job]));
    assert_eq!(shown["failure"]["rules"][0], "S001");
}

#[test]
fn every_async_start_says_how_to_follow_it() {
    let cli = Cli::start(fast_clock());
    let train = cli.example_zip("i2v-train");
    let region = "cn-beijing";
    let (file, _) = cli.run(cli.wanft(region, &["upload", train.to_str().unwrap()]), 0);
    let (stdout, stderr) = cli.run(
        cli.wanft(
            region,
            &["jobs", "create", "--yes", "--training", file.trim()],
        ),
        0,
    );
    assert!(
        stderr.contains("follow it with `wanft jobs wait"),
        "{stderr}"
    );
    let job = stdout.split_whitespace().nth(1).unwrap().to_owned();
    cli.run(
        cli.wanft(region, &["jobs", "wait", &job, "--interval", "100ms"]),
        0,
    );
    let (names, _) = cli.run(
        cli.wanft(region, &["checkpoints", "list", &job, "--quiet"]),
        0,
    );
    let first = names.lines().next().unwrap();
    let (stdout, _) = cli.run(
        cli.wanft(
            region,
            &["checkpoints", "export", &job, first, "--name", "follow_me"],
        ),
        0,
    );
    assert!(
        stdout.contains("follow the export with `wanft checkpoints list"),
        "{stdout}"
    );
    let model = cli.json(cli.wanft(region, &["jobs", "get", &job]))["job"]["finetuned_output"]
        .as_str()
        .unwrap()
        .to_owned();
    // Without a terminal and without --yes, nothing is deployed; what it bills is stated.
    let (_, stderr) = cli.run(
        cli.wanft(region, &["deploy", "create", &model, "--use-input-prompt"]),
        1,
    );
    assert!(
        stderr.contains("deploying a Wan LoRA model is free")
            && stderr.contains("billed per second of video")
            && stderr.contains("no terminal")
            && stderr.contains("--yes"),
        "{stderr}"
    );
    assert_eq!(cli.deployment_count(), 0);
    let (_, stderr) = cli.run(
        cli.wanft(
            region,
            &["deploy", "create", &model, "--yes", "--use-input-prompt"],
        ),
        0,
    );
    assert!(
        stderr.contains("follow it with `wanft deploy wait"),
        "{stderr}"
    );
    cli.run(
        cli.wanft(region, &["deploy", "wait", &model, "--interval", "100ms"]),
        0,
    );
    let image = Path::new(ROOT).join("examples/i2v-val/val01.jpg");
    let image = image.to_str().unwrap();
    let (stdout, stderr) = cli.run(
        cli.wanft(region, &["generate", "--model", &model, "--image", image]),
        1,
    );
    assert!(
        stderr.contains("per second of generated video") && stderr.contains("no terminal"),
        "nothing generated without consent: {stderr}"
    );
    assert!(!stdout.contains("task"), "{stdout}");
    let (_, stderr) = cli.run(
        cli.wanft(
            region,
            &["generate", "--yes", "--model", &model, "--image", image],
        ),
        0,
    );
    assert!(
        stderr.contains("follow it with `wanft tasks get"),
        "{stderr}"
    );
    assert!(
        stderr.contains("to generate 1 video") && stderr.contains("per second of generated video"),
        "the statement before spending: {stderr}"
    );
}
