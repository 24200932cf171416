//! The local steps of a run: check every dataset, plan the job (with its gates), pack the
//! upload zips. Nothing here talks to the API.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use sha2::{Digest as _, Sha256};

use super::{Project, RunError, RunOptions, RunReport, Step, Stop, state};
use crate::api::zip_digest;
use crate::check::{self, CheckOptions, CheckReport, Clip};
use crate::dataset::{Mode, ModeChoice, Role};
use crate::hyper::HyperParams;
use crate::models::Region;
use crate::pack::PackOptions;
use crate::pack::cached::{Cached, pack_into_cache, zip_path};
use crate::plan::dataset::DatasetSummary;
use crate::plan::{self, Plan, PlanInput, Readiness};
use crate::report::human_bytes;
use crate::rules::selection::relative_label;
use crate::rules::{Findings, Severity};

/// One dataset of the run, checked, and packed once [`prepare`] wrote its zip.
pub(super) struct LocalSet {
    pub path: PathBuf,
    pub role: Role,
    pub report: CheckReport,
    /// The zip to upload (a packed copy in the cache, or the zip given).
    pub zip: PathBuf,
    /// Its SHA-256; `None` in a dry run (the zip is not written).
    pub sha256: Option<String>,
    pub size: u64,
}

/// Everything the remote steps start from.
pub(super) struct Local {
    pub training: Vec<LocalSet>,
    pub validation: Vec<LocalSet>,
    pub plan: Plan,
    /// What the job is created with: `n_epochs` always explicit.
    pub job_hyper: HyperParams,
    pub state_path: PathBuf,
}

impl Local {
    pub fn sets(&self) -> impl Iterator<Item = &LocalSet> {
        self.training.iter().chain(&self.validation)
    }
}

pub(super) enum Prepared {
    Stopped(Box<RunReport>),
    Ready(Box<Local>),
}

/// Checks, plans and (when `write`) packs. Stops at dataset errors, hyper-parameter errors or a
/// failed gate, and at `--until check|plan|pack`.
pub(super) fn prepare(
    project: &Project,
    options: &RunOptions,
    region: Region,
    reporter: &dyn super::Reporter,
    write: bool,
) -> Result<Prepared, RunError> {
    let state_path = state::path_in(&project.root);
    let stopped = |stop: Stop, plan: Option<Plan>| {
        Ok(Prepared::Stopped(Box::new(RunReport {
            stop: Some(stop),
            plan,
            state: None,
            state_path: state_path.clone(),
            out_dir: None,
            billed: None,
            requests: Vec::new(),
        })))
    };
    if project.training.is_empty() {
        return Err(RunError::Invalid(
            "no training set: give a DATASET or set `[dataset] training` in wanft.toml".into(),
        ));
    }
    let model = project.model;
    let resolved = options.hyper.resolve(model);
    let validation_given = !project.validation.is_empty();
    let check_options = |path: &Path, role: Role, effect: Option<String>| CheckOptions {
        mode: match (project.config.dataset.mode, role) {
            (Some(task), role) => Some(ModeChoice::Exact(Mode { task, role })),
            (None, Role::Validation) => Some(ModeChoice::Validation),
            (None, Role::Training) => None,
        },
        trigger: project.config.dataset.trigger.clone(),
        effect,
        validation_given,
        rules: options.rules.clone(),
        dataset_label: Some(relative_label(path, &project.root)),
        progress: reporter.progress(),
        ..CheckOptions::for_job(model, &resolved)
    };

    // Check.
    let mut checked: Vec<(PathBuf, Role, CheckReport)> = Vec::new();
    let mut effect: Option<String> = None;
    let roles = project
        .training
        .iter()
        .map(|p| (p, Role::Training))
        .chain(project.validation.iter().map(|p| (p, Role::Validation)));
    for (path, role) in roles {
        let given_effect = (role == Role::Validation).then(|| effect.clone()).flatten();
        let report =
            check::run(path, &check_options(path, role, given_effect)).map_err(|source| {
                RunError::Check {
                    path: path.clone(),
                    source,
                }
            })?;
        if role == Role::Training && effect.is_none() {
            effect = report.effect_sentence.clone();
        }
        let shown = without_infos(&report.findings);
        if !shown.is_empty() {
            reporter.findings(path, &shown);
        }
        let s = &report.summary;
        reporter.step(
            Step::Check,
            &format!(
                "{} ({}): {} samples, {} errors, {} warnings",
                path.display(),
                role_name(role),
                s.samples,
                s.errors,
                s.warnings
            ),
        );
        checked.push((path.clone(), role, report));
    }

    // Plan, with the gates; dataset errors and gates combine.
    let prefix_names = project.training.len() > 1;
    let mut clips: Vec<Clip> = Vec::new();
    let mut validation_count: Option<usize> = None;
    for (path, role, report) in &checked {
        match role {
            Role::Training => {
                let prefix = match path.file_name() {
                    Some(name) if prefix_names => format!("{}/", name.to_string_lossy()),
                    _ => String::new(),
                };
                clips.extend(report.clips().into_iter().map(|clip| Clip {
                    path: format!("{prefix}{}", clip.path),
                    ..clip
                }));
            }
            Role::Validation => *validation_count.get_or_insert(0) += report.summary.samples,
        }
    }
    let plan = plan::estimate(&PlanInput {
        model,
        region,
        hyper: options.hyper.clone(),
        training: clips,
        validation_count,
        price_override: options.price,
    });
    let summaries: Vec<DatasetSummary> = checked
        .iter()
        .map(|(path, role, report)| DatasetSummary {
            path: path.clone(),
            role: *role,
            samples: report.summary.samples,
            errors: report.findings.count(Severity::Error),
            warnings: report.findings.count(Severity::Warning),
            findings: Vec::new(),
        })
        .collect();
    let gates = options.gates.evaluate(&plan);
    let readiness = Readiness::of(&plan, &gates, &summaries);
    if plan.findings.has_errors() {
        reporter.findings(Path::new("hyper-parameters"), &plan.findings);
    }
    for gate in gates.iter().filter(|g| g.failed()) {
        reporter.note(&format!(
            "gate {} ≤ {} failed: {}",
            gate.gate,
            gate.limit,
            gate.reason
                .clone()
                .unwrap_or_else(|| format!("planned {}", gate.actual))
        ));
    }
    reporter.step(Step::Plan, &plan_line(&plan));
    if !readiness.ok() {
        return stopped(Stop::NotReady(readiness), Some(plan));
    }
    if options.until == Step::Check || options.until == Step::Plan {
        return stopped(Stop::Until(options.until), Some(plan));
    }

    // Pack.
    let cache = crate::cache::dir();
    let cancel = AtomicBool::new(false);
    let mut training = Vec::new();
    let mut validation = Vec::new();
    for (path, role, report) in checked {
        let set = if path.is_dir() {
            let pack_options = PackOptions {
                check: CheckOptions {
                    mode: Some(ModeChoice::Exact(report.dataset.mode)),
                    effect: (role == Role::Validation).then(|| effect.clone()).flatten(),
                    ..check_options(&path, role, None)
                },
                fix: None,
                cancel: &cancel,
            };
            if write {
                match pack_into_cache(&path, cache.as_deref(), &pack_options)? {
                    Cached::Packed(packed) => {
                        reporter.step(
                            Step::Pack,
                            &format!(
                                "{} into {} ({})",
                                path.display(),
                                packed.path.display(),
                                human_bytes(packed.manifest.archive.size)
                            ),
                        );
                        LocalSet {
                            path,
                            role,
                            report,
                            zip: packed.path,
                            sha256: Some(packed.manifest.archive.sha256.to_ascii_lowercase()),
                            size: packed.manifest.archive.size,
                        }
                    }
                    Cached::Refused(prepared) => {
                        reporter.findings(&path, &prepared.triage.shown);
                        return Err(RunError::Invalid(format!(
                            "`wanft pack {}` refuses it (see above)",
                            path.display()
                        )));
                    }
                }
            } else {
                let prepared = crate::pack::prepare(&path, &pack_options).map_err(|e| {
                    RunError::Invalid(format!("cannot pack `{}`: {e}", path.display()))
                })?;
                let zip = match cache.as_deref() {
                    Some(cache) => zip_path(cache, &path)?,
                    None => path.with_extension("zip"),
                };
                LocalSet {
                    path,
                    role,
                    report,
                    zip,
                    sha256: None,
                    size: prepared.size,
                }
            }
        } else {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let sha256 = if write {
                Some(match zip_digest::from_pack_manifest(&path) {
                    Ok(Some(sha)) => sha,
                    // No manifest, or one that cannot be read: hash the zip itself.
                    _ => sha256_of(&path).map_err(|e| {
                        RunError::Invalid(format!("cannot read {}: {e}", path.display()))
                    })?,
                })
            } else {
                None
            };
            LocalSet {
                zip: path.clone(),
                path,
                role,
                report,
                sha256,
                size,
            }
        };
        match role {
            Role::Training => training.push(set),
            Role::Validation => validation.push(set),
        }
    }
    let job_hyper = plan.job_hyper_parameters();
    if options.until == Step::Pack {
        return stopped(Stop::Until(Step::Pack), Some(plan));
    }
    Ok(Prepared::Ready(Box::new(Local {
        training,
        validation,
        plan,
        job_hyper,
        state_path,
    })))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Training => "training",
        Role::Validation => "validation",
    }
}

/// The errors and warnings of `findings`.
fn without_infos(findings: &Findings) -> Findings {
    let mut shown = Findings::new();
    shown.extend(
        findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .cloned(),
    );
    shown.finish();
    shown
}

/// One line: steps, tokens, fee.
pub(super) fn plan_line(plan: &Plan) -> String {
    let steps = &plan.steps;
    let fee = match (plan.all_clips.fee, plan.unknown_durations) {
        (Some(fee), 0) => fee.to_string(),
        (Some(fee), _) => format!("at least {fee}"),
        (None, _) => "fee unknown".into(),
    };
    format!(
        "{} steps/epoch × {} epochs = {} steps; {} tokens; {fee}",
        steps.per_epoch,
        steps.n_epochs,
        steps.total,
        crate::plan::billing::group_thousands(&plan.all_clips.tokens.to_string())
    )
}

/// SHA-256 of a file, lowercase hex.
fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
