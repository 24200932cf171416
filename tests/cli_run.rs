//! `wanft run` against the emulator: the bundled example end to end, resumed after SIGKILL at
//! every stage, and under faults, always with exactly one file per dataset, one job and one
//! deployment; `--dry-run` sends nothing; `--until` stops early.

mod cli_api_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cli_api_support::common::{ROOT, copy_dir};
use cli_api_support::{Cli, KEY, assert_no_key, fast_clock, frozen_clock};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_wanft");

/// The bundled example project (wanft.toml, a training and a validation set) in the work
/// folder; returns its root.
fn project(cli: &Cli) -> PathBuf {
    let root = cli.work.path().join("project");
    std::fs::create_dir_all(&root).unwrap();
    let examples = Path::new(ROOT).join("examples");
    std::fs::copy(examples.join("wanft.toml"), root.join("wanft.toml")).unwrap();
    for set in ["i2v-train", "i2v-val"] {
        copy_dir(&examples.join(set), &root.join(set));
    }
    root
}

/// `wanft run ARGS` in `root`, aimed at the emulator by the environment alone.
fn run_command(cli: &Cli, root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BINARY);
    cmd.arg("run")
        .args(args)
        .args(["--retry-delay", "10ms", "--interval", "200ms"])
        .current_dir(root)
        .env("DASHSCOPE_API_KEY", KEY)
        .env("WANFT_BASE_URL", &cli.base)
        .env("WANFT_CACHE_DIR", cli.cache.path())
        .env("WANFT_CREDENTIALS", cli.work.path().join("none.toml"))
        .env_remove("WANFT_REGION")
        .env("NO_COLOR", "1");
    cmd
}

/// Runs to the end; returns exit code, stdout, stderr (checked for the key).
fn finish(mut cmd: Command) -> (i32, String, String) {
    let output = cmd.output().expect("wanft runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_no_key(&stdout, &stderr);
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

/// Starts `cmd` and reads its stderr until a line satisfies `stop_at`; returns the running
/// child and the stderr read so far.
fn start_until(mut cmd: Command, mut stop_at: impl FnMut(&str) -> bool) -> (Child, String) {
    let mut child: Child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wanft starts");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match receive.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if stop_at(&line) {
                    break;
                }
            }
            Err(_) => {
                let _ = child.kill();
                panic!("the run never printed the awaited line:\n{seen}");
            }
        }
    }
    assert!(!seen.contains(KEY), "the key is on stderr:\n{seen}");
    (child, seen)
}

/// Starts `cmd`, reads its stderr until a line satisfies `stop_at`, then kills it with SIGKILL
/// (no chance to clean up). Returns the stderr read.
fn kill_when(cmd: Command, stop_at: impl FnMut(&str) -> bool) -> String {
    let (mut child, seen) = start_until(cmd, stop_at);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    seen
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wanft starts")
}

/// Moves the frozen emulator clock on until `child` ends; returns exit code, stdout, stderr.
fn finish_while_time_moves(cli: &Cli, mut child: Child) -> (i32, String, String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the run did not finish");
        // A minute at a time: temporary upload policies of the samples live five.
        cli.advance(60.0);
        std::thread::sleep(Duration::from_millis(100));
    }
    finish_child(child)
}

fn finish_child(child: Child) -> (i32, String, String) {
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_no_key(&stdout, &stderr);
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

fn counts(cli: &Cli) -> (usize, u64, u64) {
    (cli.file_count(), cli.job_count(), cli.deployment_count())
}

fn state(root: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(root.join(".wanft/run.json")).unwrap()).unwrap()
}

fn samples(root: &Path, state: &Value) -> Vec<PathBuf> {
    let job = state["job"]["job_id"].as_str().unwrap();
    let dir = root.join("wanft-runs").join(job).join("samples");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    found.sort();
    found
}

#[test]
fn the_bundled_example_runs_end_to_end_and_a_second_run_adds_nothing() {
    let cli = Cli::start(fast_clock());
    let root = project(&cli);
    let (code, stdout, stderr) = finish(run_command(&cli, &root, &["--yes"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        counts(&cli),
        (2, 1, 1),
        "one file per set, one job, one deployment"
    );

    // The job carries the project's n_epochs, stated with its fee before it was created.
    let state = state(&root);
    let job_id = state["job"]["job_id"].as_str().unwrap();
    let job = cli.raw_get(&format!("/api/v1/fine-tunes/{job_id}"));
    assert_eq!(job["output"]["hyper_parameters"]["n_epochs"], 100);
    assert_eq!(job["output"]["status"], "SUCCEEDED");
    assert!(stderr.contains("Fee     ¥93.312"), "{stderr}");
    assert!(
        stderr.contains("deploying a Wan LoRA model is free"),
        "{stderr}"
    );
    assert!(
        stderr.contains("data process succeeded"),
        "the log tail: {stderr}"
    );

    // One sample video per validation image, and the previews of every checkpoint.
    let videos = samples(&root, &state);
    let names: Vec<String> = videos
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["val01.mp4", "val02.mp4", "val03.mp4"]);
    assert!(
        videos
            .iter()
            .all(|v| std::fs::metadata(v).unwrap().len() > 0)
    );
    let previews = state["previews"]["files"].as_array().unwrap();
    assert!(previews.len() >= 3, "{previews:?}");
    // …and the checkpoint gallery beside them: each validation prompt × each checkpoint, with
    // the command that exports it (opened in Chromium by tests/visual_pages.rs).
    let page = root.join(state["previews"]["page"].as_str().unwrap());
    let html = std::fs::read_to_string(&page).unwrap();
    let (rows, columns) = (
        html.matches("<tr class=\"prompt-row\"").count(),
        html.matches("class=\"checkpoint\"").count(),
    );
    assert_eq!(rows, 3, "one row per validation line");
    assert_eq!(html.matches("<video ").count(), rows * columns);
    assert_eq!(previews.len(), rows * columns);
    assert!(
        html.contains(&format!("wanft checkpoints export {job_id} checkpoint-")),
        "{html}"
    );
    assert!(stdout.contains("side by side in"), "{stdout}");

    // The summary: job, billed tokens and fee from usage, the places, the clean-up commands.
    assert!(stdout.contains(job_id), "{stdout}");
    assert!(stdout.contains("tokens (the job's usage) = ¥"), "{stdout}");
    assert!(stdout.contains("wanft-runs"), "{stdout}");
    let deployed = state["deployment"]["deployed_model"].as_str().unwrap();
    assert!(
        stdout.contains(&format!("wanft deploy delete {deployed}"))
            && stdout.contains(&format!("wanft jobs delete {job_id}")),
        "{stdout}"
    );

    let (code, stdout, stderr) = finish(run_command(&cli, &root, &["--yes"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(counts(&cli), (2, 1, 1), "nothing created again");
    assert!(stdout.contains("Done"), "{stdout}");
}

#[test]
fn killed_at_every_stage_a_run_resumes_and_makes_one_of_each() {
    // A frozen clock: the job stays PENDING until the test moves time on.
    let cli = Cli::start(frozen_clock());
    let root = project(&cli);
    let run = |args: &[&str]| run_command(&cli, &root, args);

    // Killed right after both uploads.
    let mut uploads = 0;
    let seen = kill_when(run(&["--yes"]), |line| {
        uploads += usize::from(line.trim_start().starts_with("Upload"));
        uploads == 2
    });
    assert!(seen.contains("uploaded as"), "{seen}");
    assert_eq!(cli.file_count(), 2);

    // Killed right after the create.
    let seen = kill_when(run(&["--yes"]), |line| {
        line.trim_start().starts_with("Create")
    });
    assert!(seen.contains("is uploaded as"), "uploads reused: {seen}");
    assert_eq!(counts(&cli), (2, 1, 0));

    // Killed while waiting for the job.
    let seen = kill_when(run(&["--yes"]), |line| line.contains("PENDING"));
    assert!(seen.contains("created by an earlier run"), "{seen}");
    assert_eq!(counts(&cli), (2, 1, 0));

    // Killed between sending the create and writing its id down: the next run finds the job
    // among those created after the recorded survey.
    let path = root.join(".wanft/run.json");
    let mut recorded = state(&root);
    let job_id = recorded["job"]["job_id"].as_str().unwrap().to_owned();
    recorded["job"].as_object_mut().unwrap().remove("job_id");
    std::fs::write(&path, serde_json::to_vec(&recorded).unwrap()).unwrap();
    let seen = kill_when(run(&["--yes"]), |line| line.contains("PENDING"));
    assert!(
        seen.contains(&format!(
            "job {job_id} had been created by the interrupted run; not created again"
        )),
        "{seen}"
    );
    assert_eq!(state(&root)["job"]["job_id"], job_id.as_str());

    // Time moves on while the last run goes to the end.
    let (code, stdout, stderr) = finish_while_time_moves(&cli, spawn(run(&["--yes"])));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(counts(&cli), (2, 1, 1));
    assert_eq!(samples(&root, &state(&root)).len(), 3);
}

#[test]
fn under_faults_a_run_still_makes_one_of_each() {
    let cli = Cli::start(fast_clock());
    let root = project(&cli);
    cli.faults(json!({
        "unavailable_next": 3,
        // The job's answer, then the deployment's.
        "lose_next_create": 2,
        "cut_next_uploads": 1,
    }));
    let (code, stdout, stderr) = finish(run_command(&cli, &root, &["--yes"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(counts(&cli), (2, 1, 1));
    assert!(stderr.contains("503"), "the burst was met: {stderr}");
    for create in ["fine-tunes", "deployments"] {
        assert!(
            stderr.contains(&format!("POST /api/v1/{create} had been carried out"))
                && stderr.contains("not sent again"),
            "the lost create of {create}: {stderr}"
        );
    }
    assert!(
        stderr.contains("retry"),
        "the cut upload was retried: {stderr}"
    );
    assert_eq!(samples(&root, &state(&root)).len(), 3);
}

#[test]
fn a_dry_run_lists_the_requests_and_the_fee_and_sends_nothing() {
    let cli = Cli::start(fast_clock());
    let root = project(&cli);
    let mut cmd = run_command(&cli, &root, &["--dry-run", "--format", "json"]);
    cmd.env_remove("DASHSCOPE_API_KEY");
    let (code, stdout, stderr) = finish(cmd);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(counts(&cli), (0, 0, 0));
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let requests = doc["requests"].as_array().unwrap();
    let create = requests
        .iter()
        .find(|r| r["method"] == "POST" && r["url"].as_str().unwrap().ends_with("/fine-tunes"))
        .expect("the create is listed");
    assert_eq!(create["body"]["hyper_parameters"]["n_epochs"], 100);
    assert!(create["url"].as_str().unwrap().starts_with(&cli.base));
    let uploads = requests.iter().filter(|r| r["step"] == "upload").count();
    assert_eq!(uploads, 2);
    assert!(requests.iter().any(|r| r["step"] == "generate"));
    assert_eq!(doc["plan"]["fee"]["display"], "¥93.312");
    assert!(!root.join(".wanft/run.json").exists(), "no state written");

    // Stopped early, a dry run has nothing to go on from: it names the real run instead.
    let mut cmd = run_command(&cli, &root, &["--dry-run", "--until", "plan"]);
    cmd.env_remove("DASHSCOPE_API_KEY");
    let (code, stdout, stderr) = finish(cmd);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("after plan (--until); nothing was sent: `wanft run")
            && stdout.contains("runs it for real")
            && !stdout.contains("goes on from there"),
        "{stdout}"
    );
    assert_eq!(counts(&cli), (0, 0, 0));
}

#[test]
fn until_stops_after_the_step_and_consent_is_needed_without_a_terminal() {
    let cli = Cli::start(fast_clock());
    let root = project(&cli);
    // No terminal, no --yes, no --max-cost: nothing is spent, nothing sent.
    let (code, stdout, stderr) = finish(run_command(&cli, &root, &[]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("before create: no terminal") && stdout.contains("--yes"),
        "{stdout}"
    );
    assert!(
        stderr.contains("Fee     ¥93.312"),
        "the fee is stated: {stderr}"
    );
    assert_eq!(counts(&cli), (0, 0, 0));
    // A --max-cost the fee exceeds stops it too, even with --yes.
    let (code, stdout, _) = finish(run_command(&cli, &root, &["--yes", "--max-cost", "50"]));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(counts(&cli), (0, 0, 0));
    // --until upload needs no consent: uploads are free.
    let (code, stdout, stderr) = finish(run_command(&cli, &root, &["--until", "upload"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(counts(&cli), (2, 0, 0));
    assert!(stdout.contains("after upload (--until)"), "{stdout}");
    // A --max-cost that holds is consent to train, not to generate (its price is unknown):
    // the run trains, deploys (free), and stops before generating, saying why.
    let (code, stdout, stderr) = finish(run_command(&cli, &root, &["--max-cost", "100"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert_eq!(counts(&cli), (2, 1, 1));
    assert!(stdout.contains("before generate"), "{stdout}");
}

#[test]
fn two_runs_started_together_in_one_project_spend_once() {
    // A frozen clock: whichever run takes the project first waits at PENDING until time moves,
    // so the other meets it at work.
    let cli = Cli::start(frozen_clock());
    let root = project(&cli);
    let mut runs = [
        spawn(run_command(&cli, &root, &["--yes"])),
        spawn(run_command(&cli, &root, &["--yes"])),
    ];
    let deadline = Instant::now() + Duration::from_secs(120);
    let loser = loop {
        if let Some(i) = (0..2).find(|&i| runs[i].try_wait().unwrap().is_some()) {
            break i;
        }
        assert!(Instant::now() < deadline, "neither run was refused");
        std::thread::sleep(Duration::from_millis(20));
    };
    let [first, second] = runs;
    let (refused, winner) = if loser == 0 {
        (first, second)
    } else {
        (second, first)
    };
    let (code, stdout, stderr) = finish_child(refused);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("another `wanft run` is working on this project"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Upload"),
        "refused before any work: {stderr}"
    );

    let (code, stdout, stderr) = finish_while_time_moves(&cli, winner);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        counts(&cli),
        (2, 1, 1),
        "one file per set, one job, one deployment"
    );
}

#[test]
fn a_chosen_checkpoint_is_exported_then_deployed() {
    let cli = Cli::start(fast_clock());
    let root = project(&cli);
    // 100 epochs of 10 steps, evaluated every 20 epochs: checkpoint-200 … checkpoint-1000.
    let (code, stdout, stderr) = finish(run_command(
        &cli,
        &root,
        &[
            "--yes",
            "--checkpoint",
            "checkpoint-200",
            "--until",
            "deploy",
        ],
    ));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("checkpoint-200 exported as"), "{stderr}");
    let state = state(&root);
    let model = state["export"]["model_name"].as_str().unwrap();
    assert_ne!(model, state["job"]["finetuned_output"].as_str().unwrap());
    assert_eq!(state["deployment"]["model_name"], model);
    assert_eq!(counts(&cli), (2, 1, 1));
    // A checkpoint the job does not have is named, with the ones it has.
    let (code, _, stderr) = finish(run_command(
        &cli,
        &root,
        &["--yes", "--checkpoint", "checkpoint-7", "--until", "deploy"],
    ));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("has no checkpoint checkpoint-7") && stderr.contains("checkpoint-200"),
        "{stderr}"
    );
}
