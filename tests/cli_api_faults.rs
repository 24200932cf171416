//! The API commands when things go wrong: lost answers, quota refusals, datasets and
//! hyper-parameters the platform would reject, failed jobs, deployments not ready, bad images.

mod cli_api_support;

use cli_api_support::{Cli, frozen_clock};
use serde_json::json;
use wanft::emulator::{EmulatorConfig, UploadLimits};

const REGION: &str = "cn-beijing";

/// Uploads the example set and returns its id.
fn upload(cli: &Cli) -> String {
    let zip = cli.example_zip("i2v-train");
    cli.json(cli.wanft(REGION, &["upload", zip.to_str().unwrap()]))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Creates a job on `file_id`, finishes it (frozen clock) and returns its model name.
fn finished_model(cli: &Cli, file_id: &str) -> String {
    let job = cli.json(cli.wanft(REGION, &["jobs", "create", "--yes", "--training", file_id]));
    cli.advance(3600.0);
    let job_id = job["job"]["job_id"].as_str().unwrap();
    cli.json(cli.wanft(REGION, &["jobs", "get", job_id]))["job"]["finetuned_output"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_lost_job_create_makes_one_job() {
    let cli = Cli::start(frozen_clock());
    let file_id = upload(&cli);
    cli.faults(json!({ "lose_next_create": 1 }));
    let (stdout, stderr) = cli.run(
        cli.wanft(REGION, &["jobs", "create", "--yes", "--training", &file_id]),
        0,
    );
    assert!(stderr.contains("not sent again"), "{stderr}");
    assert!(stdout.starts_with("job ft-"), "{stdout}");
    assert_eq!(cli.job_count(), 1);
}

#[test]
fn a_lost_deployment_create_makes_one_deployment() {
    let cli = Cli::start(frozen_clock());
    let model = finished_model(&cli, &upload(&cli));
    cli.faults(json!({ "lose_next_create": 1 }));
    let created = cli.json(cli.wanft(
        REGION,
        &["deploy", "create", "--yes", &model, "--use-input-prompt"],
    ));
    assert_eq!(created["deployment"]["model_name"], model.as_str());
    assert_eq!(cli.deployment_count(), 1);
}

#[test]
fn a_lost_synthesis_is_reported_not_repeated() {
    let cli = Cli::start(frozen_clock());
    let model = finished_model(&cli, &upload(&cli));
    cli.json(cli.wanft(
        REGION,
        &["deploy", "create", "--yes", &model, "--use-input-prompt"],
    ));
    cli.advance(600.0);
    cli.faults(json!({ "lose_next_create": 1 }));
    let (_, stderr) = cli.run(
        cli.wanft(
            REGION,
            &[
                "generate",
                "--yes",
                "--model",
                &model,
                "--image",
                "https://example.invalid/a.jpg",
            ],
        ),
        2,
    );
    assert!(stderr.contains("may have been accepted"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn beijing_quota_failures_exit_non_zero_with_code_and_message() {
    let cli = Cli::start(EmulatorConfig {
        limits: UploadLimits {
            max_total_bytes: 1000,
            ..UploadLimits::default()
        },
        ..frozen_clock()
    });
    let zip = cli.example_zip("i2v-val");
    let (stdout, stderr) = cli.run(cli.wanft(REGION, &["upload", zip.to_str().unwrap()]), 2);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("BadRequest.TooLarge"), "{stderr}");
    assert!(
        stderr.contains("Out of space, <0> B of <1000> B"),
        "{stderr}"
    );
    assert!(stderr.contains("wanft files delete"), "{stderr}");
    assert_eq!(cli.file_count(), 0);
}

#[test]
fn datasets_the_platform_would_reject_are_not_uploaded() {
    let cli = Cli::start(frozen_clock());
    let dir = cli.work.path().join("broken");
    cli_api_support::common::copy_dir(
        &std::path::Path::new(cli_api_support::common::ROOT).join("examples/i2v-train"),
        &dir,
    );
    std::fs::remove_file(dir.join("clip03.mp4")).unwrap();
    let zip = cli.work.path().join("broken.zip");
    cli_api_support::common::zip_dir(&dir, &zip);
    let (_, stderr) = cli.run(cli.wanft(REGION, &["upload", zip.to_str().unwrap()]), 1);
    assert!(stderr.contains("P001"), "{stderr}");
    assert!(stderr.contains("refusing to upload"), "{stderr}");
    assert_eq!(cli.file_count(), 0);

    // The folder itself is packed first, and refused for the same reason.
    let (stdout, stderr) = cli.run(cli.wanft(REGION, &["upload", dir.to_str().unwrap()]), 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("P001"), "{stderr}");
    assert!(stderr.contains("refusing to upload"), "{stderr}");
    assert_eq!(cli.file_count(), 0);
}

#[test]
fn a_folder_is_packed_then_uploaded_once() {
    let cli = Cli::start(frozen_clock());
    let folder = std::path::Path::new(cli_api_support::common::ROOT).join("examples/i2v-train");
    let folder = folder.to_str().unwrap();
    let first = cli.json(cli.wanft(REGION, &["upload", folder]));
    assert_eq!(first["reused"], false);
    // The zip pack wrote, with its manifest, sits in the cache; its digest is the upload's.
    let packed: Vec<_> = std::fs::read_dir(cli.cache.path().join("packed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .collect();
    assert_eq!(packed.len(), 1, "{packed:?}");
    let bytes = std::fs::read(&packed[0]).unwrap();
    assert_eq!(first["bytes"], bytes.len() as u64);
    use sha2::Digest as _;
    assert_eq!(first["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    // Packing is deterministic: the second upload of the folder is the same zip, skipped.
    let second = cli.json(cli.wanft(REGION, &["upload", folder]));
    assert_eq!(
        (second["reused"].clone(), second["id"].clone()),
        (true.into(), first["id"].clone())
    );
    assert_eq!(cli.file_count(), 1);
}

#[test]
fn hyper_parameters_the_platform_would_reject_create_nothing() {
    let cli = Cli::start(frozen_clock());
    let file_id = upload(&cli);
    let (_, stderr) = cli.run(
        cli.wanft(
            REGION,
            &[
                "jobs",
                "create",
                "--yes",
                "--training",
                &file_id,
                "--n-epochs",
                "400",
                "--eval-epochs",
                "5",
            ],
        ),
        1,
    );
    assert!(stderr.contains("H005"), "{stderr}");
    assert_eq!(cli.job_count(), 0);
}

#[test]
fn waiting_on_a_failed_job_exits_one() {
    let cli = Cli::start(EmulatorConfig {
        faults: wanft::emulator::FaultSettings {
            job_fail_rate: 1.0,
            ..Default::default()
        },
        ..frozen_clock()
    });
    let file_id = upload(&cli);
    let job = cli.json(cli.wanft(REGION, &["jobs", "create", "--yes", "--training", &file_id]));
    let job_id = job["job"]["job_id"].as_str().unwrap();
    cli.advance(3600.0);
    let (stdout, _) = cli.run(
        cli.wanft(REGION, &["jobs", "wait", job_id, "--interval", "10ms"]),
        1,
    );
    assert!(stdout.contains("FAILED"), "{stdout}");
}

#[test]
fn generation_needs_a_running_deployment_and_an_acceptable_image() {
    let cli = Cli::start(frozen_clock());
    let model = finished_model(&cli, &upload(&cli));
    cli.json(cli.wanft(
        REGION,
        &["deploy", "create", "--yes", &model, "--use-input-prompt"],
    ));
    let image = std::path::Path::new(cli_api_support::common::ROOT)
        .join("examples/i2v-train/clip01_first.jpg");
    let generate = |image: &str| {
        cli.wanft(
            REGION,
            &["generate", "--yes", "--model", &model, "--image", image],
        )
    };
    let (_, stderr) = cli.run(generate(image.to_str().unwrap()), 2);
    assert!(
        stderr.contains("not RUNNING") && stderr.contains("deploy wait"),
        "{stderr}"
    );

    cli.advance(600.0);
    let small = cli.work.path().join("small.jpg");
    cli_api_support::common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=100x100",
        "-frames:v",
        "1",
        small.to_str().unwrap(),
    ]);
    let (_, stderr) = cli.run(generate(small.to_str().unwrap()), 2);
    assert!(stderr.contains("100×100"), "{stderr}");
    let (stdout, _) = cli.run(generate(image.to_str().unwrap()), 0);
    assert!(
        stdout.contains("PENDING"),
        "submitted without waiting: {stdout}"
    );
}
