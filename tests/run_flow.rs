//! The run flow as a library (`wanft::run::run`), driven directly with a reporter standing in
//! for the terminal: what is spent is stated and asked once; declined, nothing is uploaded or
//! created; accepted, the job carries the plan's `n_epochs` (no wanft.toml, no flag), and the
//! training is reported with the plan's step count.

mod api_support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use api_support::common::{ROOT, copy_dir};
use wanft::config::Config;
use wanft::hyper::HyperParams;
use wanft::models::{self, Region};
use wanft::plan::{EpochsSource, Gates};
use wanft::progress::{Progress, Silent};
use wanft::rules::Findings;
use wanft::run::{Project, Reporter, RunOptions, Step, Stop, Training};
use wanft::spend::{Consent, Cost, Spending};

/// A person at a terminal who answers `answer` to every question.
struct Person {
    answer: bool,
    stated: Mutex<Vec<Vec<Spending>>>,
    asked: Mutex<Vec<Vec<Spending>>>,
    log: Mutex<Vec<String>>,
    training: Mutex<Vec<Training>>,
}

impl Person {
    fn answering(answer: bool) -> Person {
        Person {
            answer,
            stated: Mutex::default(),
            asked: Mutex::default(),
            log: Mutex::default(),
            training: Mutex::default(),
        }
    }
}

impl Reporter for Person {
    fn progress(&self) -> &dyn Progress {
        &Silent
    }
    fn step(&self, _: Step, _: &str) {}
    fn note(&self, _: &str) {}
    fn findings(&self, _: &Path, _: &Findings) {}
    fn spending(&self, spendings: &[Spending]) {
        self.stated.lock().unwrap().push(spendings.to_vec());
    }
    fn confirm(&self, spendings: &[Spending]) -> bool {
        self.asked.lock().unwrap().push(spendings.to_vec());
        self.answer
    }
    fn log_lines(&self, lines: &[String]) {
        self.log.lock().unwrap().extend_from_slice(lines);
    }
    fn training(&self, progress: &Training) {
        self.training.lock().unwrap().push(progress.clone());
    }
}

/// The bundled example sets in a project folder with no wanft.toml.
fn project(root: &Path) -> Project {
    let examples = Path::new(ROOT).join("examples");
    let sets: Vec<PathBuf> = ["i2v-train", "i2v-val"]
        .iter()
        .map(|set| {
            copy_dir(&examples.join(set), &root.join(set));
            root.join(set)
        })
        .collect();
    Project {
        root: root.to_owned(),
        config: Config::default(),
        model: models::lookup(models::DEFAULT_MODEL).unwrap(),
        training: vec![sets[0].clone()],
        validation: vec![sets[1].clone()],
    }
}

/// At a terminal, without --yes or --max-cost.
fn options(until: Step) -> RunOptions {
    RunOptions {
        hyper: HyperParams::default(),
        epochs_origin: None,
        price: None,
        gates: Gates::default(),
        consent: Consent {
            yes: false,
            max_cost: None,
            terminal: true,
        },
        checkpoint: None,
        until,
        out_dir: None,
        use_input_prompt: true,
        resolution: "720P".into(),
        duration: None,
        poll: Duration::from_millis(200),
        stall_timeout: Duration::from_secs(30),
        new_run: false,
        rules: None,
    }
}

#[test]
fn the_person_at_the_terminal_is_asked_once_and_the_plan_is_what_trains() {
    let cache = tempfile::tempdir().unwrap();
    // SAFETY: the only test of this binary; set before any thread of the test is started.
    unsafe { std::env::set_var("WANFT_CACHE_DIR", cache.path()) };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let emu = api_support::start(wanft::emulator::EmulatorConfig {
            time_scale: 1200.0,
            ..api_support::config()
        })
        .await;
        let client = emu.client(Region::CnBeijing);
        let dir = tempfile::tempdir().unwrap();
        let project = project(dir.path());

        // Declined: the job, the (free) deployment and the videos were stated and asked about
        // in one question; nothing was uploaded or created.
        let person = Person::answering(false);
        let report = wanft::run::run(&client, &project, &options(Step::Generate), &person)
            .await
            .unwrap();
        assert!(
            matches!(&report.stop, Some(Stop::Refused { step: Step::Create, reason }) if reason.contains("declined")),
            "{:?}",
            report.stop
        );
        let asked = person.asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1, "one question");
        assert_eq!(asked[0].len(), 3, "{:?}", asked[0]);
        assert!(matches!(asked[0][0].cost, Cost::Billed { upper: Some(_), .. }));
        assert!(matches!(asked[0][1].cost, Cost::Free { .. }));
        assert_eq!(person.stated.lock().unwrap().as_slice(), asked.as_slice());
        assert_eq!(emu.file_count().await, 0);
        assert_eq!(emu.job_count().await, 0);

        // Accepted, up to the training: asked about the job alone; it trains with the plan's
        // epochs, not the platform's default of 400.
        let person = Person::answering(true);
        let report = wanft::run::run(&client, &project, &options(Step::Train), &person)
            .await
            .unwrap();
        assert_eq!(report.stop, Some(Stop::Until(Step::Train)));
        assert_eq!(person.asked.lock().unwrap()[0].len(), 1);
        let plan = report.plan.as_ref().unwrap();
        assert_eq!(plan.steps.n_epochs_source, EpochsSource::Recommended);
        assert_ne!(plan.steps.n_epochs, 400);
        let job_id = report.state.as_ref().unwrap().job_id().unwrap().to_owned();
        let job = emu.raw_get(&format!("/api/v1/fine-tunes/{job_id}")).await;
        assert_eq!(job["output"]["status"], "SUCCEEDED");
        assert_eq!(
            job["output"]["hyper_parameters"]["n_epochs"].as_u64(),
            Some(u64::from(plan.steps.n_epochs)),
            "{job}"
        );
        let training = person.training.lock().unwrap().clone();
        let last = training.last().expect("training was reported");
        assert_eq!(last.total_steps, plan.steps.total);
        assert_eq!(last.steps_per_epoch, plan.steps.per_epoch);
        assert!(!person.log.lock().unwrap().is_empty(), "the log was tailed");
        assert_eq!(emu.file_count().await, 2);
        assert_eq!(emu.job_count().await, 1);
        assert_eq!(emu.deployment_count().await, 0);
    });
}
