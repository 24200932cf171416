//! Every curl sample of the seed document, replayed against the emulator with `curl` itself:
//! `tests/conformance/seed_curl_samples.txt` holds them verbatim; the replay replaces only the
//! host (`https://dashscope-intl.aliyuncs.com` → the emulator) and takes the key from
//! `$DASHSCOPE_API_KEY` as the samples do. The document's `<…>` placeholders are filled with
//! the ids earlier samples created, and the upload sample reads `./wan-i2v-training-dataset.zip`
//! from the working folder, as written. Each answer must be a success body.

mod cli_api_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use cli_api_support::{Cli, KEY, common, frozen_clock};
use serde_json::Value;

const SEED_HOST: &str = "https://dashscope-intl.aliyuncs.com";

/// The samples by the seed line they start at.
fn samples() -> BTreeMap<usize, String> {
    let text = std::fs::read_to_string(
        Path::new(common::ROOT).join("tests/conformance/seed_curl_samples.txt"),
    )
    .unwrap();
    let mut samples = BTreeMap::new();
    let mut current: Option<(usize, String)> = None;
    for line in text.lines() {
        if let Some(number) = line.strip_prefix("## line ") {
            if let Some((n, body)) = current.take() {
                samples.insert(n, body);
            }
            current = Some((number.trim().parse().unwrap(), String::new()));
        } else if let Some((_, body)) = current.as_mut()
            && !line.starts_with('#')
        {
            body.push_str(line);
            body.push('\n');
        }
    }
    if let Some((n, body)) = current {
        samples.insert(n, body);
    }
    samples
}

struct Replay<'a> {
    cli: &'a Cli,
    samples: BTreeMap<usize, String>,
    work: &'a Path,
    replayed: Vec<usize>,
}

impl Replay<'_> {
    /// Runs sample `line` with `fills` for its placeholders; returns the answer.
    fn run(&mut self, line: usize, fills: &[(&str, &str)]) -> Value {
        let mut command = self.samples[&line].replace(SEED_HOST, &self.cli.base);
        for (placeholder, value) in fills {
            assert!(
                command.contains(placeholder),
                "sample {line} has no {placeholder}"
            );
            command = command.replace(placeholder, value);
        }
        assert!(
            !command.contains("<替換"),
            "sample {line} keeps a placeholder:\n{command}"
        );
        let output = Command::new("bash")
            .args(["-c", &command])
            .env("DASHSCOPE_API_KEY", KEY)
            .current_dir(self.work)
            .output()
            .expect("bash and curl run");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "sample {line}: {}\n{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
        let answer: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("sample {line}: not JSON ({e}): {stdout}"));
        assert!(
            answer.get("code").is_none() && answer.get("error").is_none(),
            "sample {line} was refused: {answer}\n{command}"
        );
        self.replayed.push(line);
        answer
    }
}

#[test]
fn every_curl_sample_of_the_seed_runs_against_the_emulator() {
    let cli = Cli::start(frozen_clock());
    let work = tempfile::tempdir().unwrap();
    let samples = samples();
    assert_eq!(samples.len(), 19, "the seed has 19 curl samples");
    let mut replay = Replay {
        cli: &cli,
        samples,
        work: work.path(),
        replayed: Vec::new(),
    };
    let examples = Path::new(common::ROOT).join("examples");
    let dataset = work.path().join("wan-i2v-training-dataset.zip");

    // Upload (§6.1): the one upload sample, once per dataset put at the name it reads.
    let upload = |folder: &str, replay: &mut Replay| {
        common::zip_dir(&examples.join(folder), &dataset);
        let answer = replay.run(132, &[]);
        assert_eq!(answer["status"], "processed");
        answer["id"].as_str().unwrap().to_owned()
    };
    let train = upload("i2v-train", &mut replay);
    let train2 = upload("i2v-train", &mut replay);
    let val = upload("i2v-val", &mut replay);
    let val2 = upload("i2v-val", &mut replay);
    replay.replayed.retain(|l| *l != 132);
    replay.replayed.push(132);

    // Create (§6.5): every model's sample, then the one with validation sets.
    let file = "<替換為訓練資料集的檔案id>";
    let mut jobs = Vec::new();
    for line in [593, 572, 614, 635] {
        jobs.push(replay.run(line, &[(file, &train)])["output"]["job_id"].clone());
    }
    let with_validation = replay.run(
        656,
        &[
            ("<替換為訓練集的檔案id_1>", &train),
            ("<替換為訓練集的檔案id_2>", &train2),
            ("<替換為驗證集的檔案id_1>", &val),
            ("<替換為驗證集的檔案id_2>", &val2),
        ],
    );
    assert_eq!(
        with_validation["output"]["validation_file_ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let job = jobs[0].as_str().unwrap().to_owned();
    let last = with_validation["output"]["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job_fill = "<替換為微調任務job_id>";

    // The first job trains (one at a time); the others queue.
    cli.advance(300.0);
    let got = replay.run(961, &[(job_fill, &job)]);
    assert_eq!(got["output"]["status"], "SUCCEEDED", "{got}");
    let logs = replay.run(2063, &[(job_fill, &job)]);
    assert!(logs["output"]["total"].as_u64().unwrap() > 0);
    let listed = replay.run(2106, &[]);
    assert_eq!(listed["output"]["total"], 5);
    let previewed = replay.run(1589, &[(job_fill, &job)]);
    let checkpoint = previewed["output"][0]["checkpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    replay.run(
        1765,
        &[(job_fill, &job), ("<替換為選擇的checkpoint>", &checkpoint)],
    );
    let exported = replay.run(
        1881,
        &[
            (job_fill, &job),
            ("<替換為待匯出的checkpoint>", &checkpoint),
            ("<替換為控制台展示的匯出模型名稱>", "seed-replay-export"),
        ],
    );
    assert_eq!(exported["output"], true);
    cli.advance(120.0);
    let listed = replay.run(2021, &[(job_fill, &job)]);
    let exported_model = listed["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["checkpoint"] == checkpoint.as_str())
        .and_then(|c| c["model_name"].as_str())
        .expect("exported model name")
        .to_owned();

    // Deploy (§6.15): the i2v sample the job's model, the kf2v-template sample the exported one.
    let model = "<替換為模型名稱model_name>";
    let finetuned = got["output"]["finetuned_output"].as_str().unwrap();
    let deployed = replay.run(1261, &[(model, finetuned)])["output"]["deployed_model"]
        .as_str()
        .unwrap()
        .to_owned();
    replay.run(1277, &[(model, &exported_model)]);
    cli.advance(300.0);
    let deployment = replay.run(1486, &[("<替換為deployed_model>", &deployed)]);
    assert_eq!(deployment["output"]["status"], "RUNNING");

    // Cancel a queued job, delete it once cancelled, delete the deployment.
    let canceled = replay.run(2156, &[(job_fill, &last)]);
    assert_eq!(canceled["output"]["status"], "success");
    cli.advance(60.0);
    replay.run(2173, &[(job_fill, &last)]);
    let deleted = replay.run(2200, &[("<替換為deployed_model>", &deployed)]);
    assert_eq!(deleted["output"]["status"], "DELETING");

    let mut replayed = replay.replayed.clone();
    replayed.sort_unstable();
    replayed.dedup();
    let all: Vec<usize> = replay.samples.keys().copied().collect();
    assert_eq!(replayed, all, "every sample replayed");
}
