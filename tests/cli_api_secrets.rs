//! The key never leaves: with a sentinel key, no output of any API command — stdout, stderr,
//! `-vv` logs, JSON, errors — contains it, whether the command succeeds, meets a wrong key, an
//! unreachable host, a failing server, or reads the key from a credentials file.

mod cli_api_support;

use assert_cmd::Command;
use cli_api_support::{Cli, KEY, assert_no_key, frozen_clock};
use serde_json::json;
use wanft::emulator::EmulatorConfig;

const REGION: &str = "cn-beijing";

/// Ids the commands work on; dummies when the server is never reached.
struct Ids {
    zip: String,
    file: String,
    job: String,
    checkpoint: String,
    model: String,
    task: String,
    image: String,
    /// Where `checkpoints details --download` saves.
    downloads: String,
}

impl Ids {
    fn dummies(cli: &Cli) -> Ids {
        Ids {
            zip: cli.example_zip("i2v-val").to_string_lossy().into_owned(),
            file: "file-x".into(),
            job: "ft-x".into(),
            checkpoint: "checkpoint-1".into(),
            model: "model-x".into(),
            task: "task-x".into(),
            image: "https://example.invalid/frame.jpg".into(),
            downloads: cli
                .work
                .path()
                .join("previews")
                .to_string_lossy()
                .into_owned(),
        }
    }
}

/// Every API command, each as its argument list.
fn every_command(ids: &Ids) -> Vec<Vec<String>> {
    let commands: Vec<Vec<&str>> = vec![
        vec!["upload", &ids.zip, "--force"],
        vec!["files", "list"],
        vec!["files", "get", &ids.file],
        vec!["jobs", "create", "--yes", "--training", &ids.file],
        vec!["jobs", "list"],
        vec!["jobs", "get", &ids.job],
        vec!["jobs", "logs", &ids.job],
        vec!["jobs", "wait", &ids.job, "--interval", "10ms"],
        vec!["checkpoints", "list", &ids.job],
        vec![
            "checkpoints",
            "details",
            &ids.job,
            &ids.checkpoint,
            "--download",
            &ids.downloads,
        ],
        vec![
            "checkpoints",
            "export",
            &ids.job,
            &ids.checkpoint,
            "--name",
            "secret_test",
        ],
        vec![
            "deploy",
            "create",
            "--yes",
            &ids.model,
            "--use-input-prompt",
        ],
        vec!["deploy", "get", &ids.model],
        vec!["deploy", "list"],
        vec!["deploy", "wait", &ids.model, "--interval", "10ms"],
        vec![
            "generate",
            "--yes",
            "--model",
            &ids.model,
            "--image",
            &ids.image,
            "--wait",
            "--interval",
            "10ms",
        ],
        vec!["tasks", "get", &ids.task],
        vec!["deploy", "delete", &ids.model],
        vec!["jobs", "cancel", &ids.job],
        vec!["jobs", "delete", &ids.job],
        vec!["files", "delete", &ids.file],
    ];
    commands
        .into_iter()
        .map(|c| c.into_iter().map(str::to_owned).collect())
        .collect()
}

/// Runs every command as `make` builds it, in text and JSON, with `-vv`; returns how many
/// exited 0.
fn run_all(ids: &Ids, make: impl Fn(&[&str]) -> Command) -> usize {
    let mut succeeded = 0;
    for command in every_command(ids) {
        for format in ["text", "json"] {
            let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
            args.extend(["-vv", "--format", format]);
            let output = make(&args).output().expect("wanft runs");
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_no_key(&stdout, &stderr);
            assert!(
                !stderr.contains("panicked"),
                "{command:?} panicked:\n{stderr}"
            );
            if output.status.success() {
                succeeded += 1;
            }
        }
    }
    succeeded
}

#[test]
fn successful_commands_never_print_the_key() {
    let cli = Cli::start(frozen_clock());
    let zip = cli.example_zip("i2v-train");
    let file = cli.json(cli.wanft(REGION, &["upload", zip.to_str().unwrap()]))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job = cli.json(cli.wanft(REGION, &["jobs", "create", "--yes", "--training", &file]))["job"]
        ["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    cli.advance(3600.0);
    let got = cli.json(cli.wanft(REGION, &["jobs", "get", &job]));
    let model = got["job"]["finetuned_output"].as_str().unwrap().to_owned();
    let checkpoints = cli.json(cli.wanft(REGION, &["checkpoints", "list", &job]));
    let checkpoint = checkpoints["checkpoints"][0]["checkpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    cli.json(cli.wanft(
        REGION,
        &["deploy", "create", "--yes", &model, "--use-input-prompt"],
    ));
    cli.advance(600.0);
    let image = std::path::Path::new(cli_api_support::common::ROOT)
        .join("examples/i2v-train/clip01_first.jpg");
    let task = cli.json(cli.wanft(
        REGION,
        &[
            "generate",
            "--yes",
            "--model",
            &model,
            "--image",
            image.to_str().unwrap(),
        ],
    ))["task"]["task_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ids = Ids {
        zip: zip.to_string_lossy().into_owned(),
        file,
        job,
        checkpoint,
        model,
        task,
        image: image.to_string_lossy().into_owned(),
        downloads: cli
            .work
            .path()
            .join("previews")
            .to_string_lossy()
            .into_owned(),
    };
    // The clock is frozen: waits would never end, so move it on a thread while they run.
    let base = cli.base.clone();
    let ticking = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let ticker = {
        let ticking = ticking.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let client = reqwest::Client::new();
            while ticking.load(std::sync::atomic::Ordering::SeqCst) {
                let _ = runtime.block_on(
                    client
                        .post(format!("{base}/__emulator/clock"))
                        .json(&json!({ "advance_seconds": 60 }))
                        .send(),
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    let succeeded = run_all(&ids, |args| cli.wanft(REGION, args));
    ticking.store(false, std::sync::atomic::Ordering::SeqCst);
    ticker.join().unwrap();
    // Most commands work here; the few that cannot (deleting a job that is not finished…)
    // fail on the server's word, which is tested for the key all the same.
    assert!(succeeded >= 30, "only {succeeded} runs succeeded");
}

#[test]
fn a_wrong_key_is_refused_without_being_shown() {
    let cli = Cli::start(EmulatorConfig::new("sk-the-emulator-accepts-another-key"));
    let ids = Ids::dummies(&cli);
    let succeeded = run_all(&ids, |args| cli.wanft(REGION, args));
    assert_eq!(succeeded, 0, "every call is refused with 401");
    let (_, stderr) = cli.run(cli.wanft(REGION, &["jobs", "list"]), 2);
    assert!(stderr.contains("InvalidApiKey"), "{stderr}");
}

#[test]
fn an_unreachable_host_never_shows_the_key_even_in_its_url() {
    let cli = Cli::start(frozen_clock());
    let ids = Ids::dummies(&cli);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A user who pasted the key into the URL: refused, without showing it.
    let host = format!("http://user:{KEY}@127.0.0.1:{port}");
    let succeeded = run_all(&ids, |args| {
        let mut cmd = cli.bare(args);
        cmd.args([
            "--region",
            REGION,
            "--base-url",
            &host,
            "--retries",
            "1",
            "--retry-delay",
            "1ms",
        ]);
        cmd
    });
    assert_eq!(succeeded, 0);
}

#[test]
fn server_errors_never_show_the_key() {
    let cli = Cli::start(frozen_clock());
    cli.faults(json!({ "server_error_rate": 1.0 }));
    let ids = Ids::dummies(&cli);
    let succeeded = run_all(&ids, |args| {
        let mut cmd = cli.wanft(REGION, args);
        cmd.args(["--retries", "1"]);
        cmd
    });
    assert_eq!(succeeded, 0);
}

#[test]
fn a_key_from_the_credentials_file_is_used_and_never_shown() {
    let cli = Cli::start(frozen_clock());
    let credentials = cli.work.path().join("credentials.toml");
    std::fs::write(&credentials, format!("[cn-beijing]\napi_key = \"{KEY}\"\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let from_file = |args: &[&str]| {
        let mut cmd = cli.wanft(REGION, args);
        cmd.env_remove("DASHSCOPE_API_KEY")
            .env("WANFT_CREDENTIALS", &credentials);
        cmd
    };
    let (stdout, stderr) = cli.run(from_file(&["jobs", "list", "-vv"]), 0);
    assert_no_key(&stdout, &stderr);
    #[cfg(unix)]
    assert!(stderr.contains("chmod 600"), "{stderr}");

    std::fs::write(
        &credentials,
        format!("api_key = \"{KEY}\"\napi_kee = \"{KEY}\"\n"),
    )
    .unwrap();
    let (_, stderr) = cli.run(from_file(&["jobs", "list"]), 2);
    assert!(stderr.contains("unknown key `api_kee`"), "{stderr}");
}
