//! Configure once: every API command reaches the emulator with region and host from a
//! wanft.toml in a parent folder, and from `WANFT_REGION`/`WANFT_BASE_URL`; the next commands
//! they name run as printed; `wanft init` fills in what the folder holds.

mod cli_api_support;

use std::path::Path;

use assert_cmd::Command;
use cli_api_support::common::{ROOT, copy_dir};
use cli_api_support::{Cli, fast_clock};

/// Runs the whole lifecycle (and `doctor`, `run` up to the upload, the gallery) with
/// `wanft(args)` commands that carry no --region or --base-url; every one must exit 0. Returns
/// what they printed on stderr. (`jobs cancel` goes through the same setup as every `jobs`
/// command.)
fn every_api_command(cli: &Cli, wanft: impl Fn(&[&str]) -> Command) -> String {
    let mut log = String::new();
    let mut run = |args: &[&str]| -> String {
        let (stdout, stderr) = cli.run(wanft(args), 0);
        log.push_str(&stderr);
        stdout.trim().to_owned()
    };
    let checkup = run(&["doctor"]);
    assert!(checkup.contains("the API key works in"), "{checkup}");
    let examples = Path::new(ROOT).join("examples");
    let ran = run(&[
        "run",
        examples.join("i2v-train").to_str().unwrap(),
        "--until",
        "upload",
    ]);
    // The command that goes on names the dataset again: it runs as printed.
    let again = format!(
        "after upload (--until); `wanft run {}` goes on from there",
        examples.join("i2v-train").display()
    );
    assert!(ran.contains(&again), "{ran}");
    let train = cli.example_zip("i2v-train");
    let file = run(&["upload", train.to_str().unwrap()]);
    run(&["files", "list"]);
    run(&["files", "get", &file]);
    let created = run(&["jobs", "create", "--yes", "--training", &file]);
    // `job ft-…  PENDING  (region)`
    let job = created.split_whitespace().nth(1).unwrap().to_owned();
    assert!(job.starts_with("ft-"), "{created}");
    run(&["jobs", "list"]);
    run(&["jobs", "wait", &job, "--interval", "100ms"]);
    run(&["jobs", "get", &job]);
    run(&["jobs", "logs", &job]);
    let listed = run(&["checkpoints", "list", &job, "--quiet"]);
    let first = listed.lines().next().unwrap().to_owned();
    run(&["checkpoints", "details", &job, &first]);
    let gallery = cli.work.path().join("gallery");
    run(&[
        "checkpoints",
        "gallery",
        &job,
        "--out",
        gallery.to_str().unwrap(),
    ]);
    assert!(
        gallery.join("index.html").is_file(),
        "the gallery page is written"
    );
    let model = run(&[
        "checkpoints",
        "export",
        &job,
        &first,
        "--name",
        "configured",
        "--wait",
        "--interval",
        "100ms",
        "--quiet",
    ]);
    let deployed = run(&[
        "deploy",
        "create",
        &model,
        "--use-input-prompt",
        "--yes",
        "--wait",
        "--interval",
        "100ms",
        "--quiet",
    ]);
    run(&["deploy", "get", &deployed]);
    run(&["deploy", "list"]);
    run(&["deploy", "wait", &deployed, "--interval", "100ms"]);
    let image = Path::new(ROOT).join("examples/i2v-val/val01.jpg");
    let task = run(&[
        "generate",
        "--yes",
        "--quiet",
        "--model",
        &deployed,
        "--image",
        image.to_str().unwrap(),
    ]);
    run(&["tasks", "get", &task]);
    run(&["deploy", "delete", &deployed]);
    run(&["jobs", "delete", &job]);
    run(&["files", "delete", &file]);
    log
}

#[test]
fn a_project_file_in_a_parent_folder_configures_every_api_command() {
    let cli = Cli::start(fast_clock());
    let project = cli.work.path().join("project");
    let deeper = project.join("clips").join("raw");
    std::fs::create_dir_all(&deeper).unwrap();
    std::fs::write(
        project.join("wanft.toml"),
        format!(
            "region = \"cn-beijing\"\n[api]\nbase_url = \"{}\"\n",
            cli.base
        ),
    )
    .unwrap();
    let stderr = every_api_command(&cli, |args| {
        let mut cmd = cli.bare(args);
        cmd.current_dir(&deeper)
            .env_remove("WANFT_REGION")
            .env_remove("WANFT_BASE_URL");
        cmd
    });
    // The region and host came from the file: the commands it names need no flags.
    assert!(
        stderr.contains("follow it with `wanft jobs wait ft-"),
        "{stderr}"
    );
    assert!(!stderr.contains("--region"), "{stderr}");
}

#[test]
fn the_environment_configures_every_api_command() {
    let cli = Cli::start(fast_clock());
    let stderr = every_api_command(&cli, |args| {
        let mut cmd = cli.bare(args);
        cmd.env("WANFT_REGION", "ap-southeast-1")
            .env("WANFT_BASE_URL", &cli.base);
        cmd
    });
    assert!(!stderr.contains("--base-url"), "{stderr}");
}

#[test]
fn hints_repeat_the_flags_given() {
    let cli = Cli::start(fast_clock());
    let train = cli.example_zip("i2v-train");
    let (file, _) = cli.run(
        cli.wanft("cn-beijing", &["upload", train.to_str().unwrap()]),
        0,
    );
    let (_, stderr) = cli.run(
        cli.wanft(
            "cn-beijing",
            &["jobs", "create", "--yes", "--training", file.trim()],
        ),
        0,
    );
    let expected = format!("--region cn-beijing --base-url {}`", cli.base);
    assert!(
        stderr.contains("follow it with `wanft jobs wait ft-") && stderr.contains(&expected),
        "{stderr}"
    );
    // An error hint naming a command carries them too.
    let (_, stderr) = cli.run(
        cli.wanft("cn-beijing", &["files", "get", "no-such-file"]),
        2,
    );
    assert!(stderr.contains("NotFound"), "{stderr}");
}

#[test]
fn init_fills_in_the_datasets_mode_and_model_it_finds() {
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(ROOT).join("examples");
    copy_dir(&examples.join("kf2v-train"), &dir.path().join("frames"));
    cli_api_support::common::write_zip(&dir.path().join("unrelated.zip"), &[]);
    let mut init = Command::cargo_bin("wanft").unwrap();
    init.current_dir(dir.path()).arg("init");
    let output = init.output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("training set frames (kf2v, 10 samples)"),
        "{stderr}"
    );
    let written = std::fs::read_to_string(dir.path().join("wanft.toml")).unwrap();
    assert!(written.contains("training = \"frames\""), "{written}");
    assert!(written.contains("\nmode = \"kf2v\""), "{written}");
    assert!(
        written.contains("model = \"wan2.2-kf2v-flash\""),
        "{written}"
    );
    // What it wrote works as written: check reads the set from it, from a subfolder too.
    let mut check = Command::cargo_bin("wanft").unwrap();
    check
        .current_dir(dir.path().join("frames/video"))
        .arg("check");
    let output = check.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("10 samples (kf2v training"), "{stdout}");
}

#[test]
fn jobs_create_without_n_epochs_sends_the_plans_recommendation() {
    let cli = Cli::start(fast_clock());
    let train = cli.example_zip("i2v-train");
    let train = train.to_str().unwrap();
    let planned = cli.json(cli.bare(&["plan", train, "--region", "cn-beijing"]));
    let recommended = planned["steps"]["n_epochs"].as_u64().unwrap();
    assert_eq!(planned["steps"]["n_epochs_source"], "recommended");
    assert_ne!(recommended, 400);

    let (file, _) = cli.run(cli.wanft("cn-beijing", &["upload", train]), 0);
    let (stdout, stderr) = cli.run(
        cli.wanft(
            "cn-beijing",
            &["jobs", "create", "--yes", "--training", file.trim()],
        ),
        0,
    );
    assert!(
        stderr.contains(&format!("{recommended} epochs"))
            && stderr.contains("the plan's fewest epochs reaching 800 steps"),
        "the plan is stated before the create: {stderr}"
    );
    let job_id = stdout.split_whitespace().nth(1).unwrap();
    let job = cli.raw_get(&format!("/api/v1/fine-tunes/{job_id}"));
    let hyper = &job["output"]["hyper_parameters"];
    assert_eq!(hyper["n_epochs"].as_u64(), Some(recommended), "{hyper}");
    assert_eq!(
        hyper["eval_epochs"], planned["hyper_parameters"]["eval_epochs"],
        "{hyper}"
    );

    // Where the ledger cannot tell which dataset the file holds, it refuses and says why.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = cli.wanft(
        "cn-beijing",
        &["jobs", "create", "--yes", "--training", file.trim()],
    );
    cmd.env("WANFT_CACHE_DIR", elsewhere.path());
    let (_, stderr) = cli.run(cmd, 2);
    assert!(stderr.contains("pass --n-epochs"), "{stderr}");
    assert_eq!(cli.job_count(), 1);
    // Without a terminal, no --yes: refused after the statement, nothing created.
    let (_, stderr) = cli.run(
        cli.wanft("cn-beijing", &["jobs", "create", "--training", file.trim()]),
        1,
    );
    assert!(
        stderr.contains("no terminal") && stderr.contains("--yes"),
        "{stderr}"
    );
    assert_eq!(cli.job_count(), 1);
}
