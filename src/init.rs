//! `wanft init`: a `wanft.toml` filled in from what the folder holds. Every dataset found in
//! the folder (or the folder itself) is read the way `check` reads it, so its role (training or
//! validation) and task (i2v or kf2v) come from its lines; the template is then written with
//! those paths, the mode, and a model that trains that mode.

use std::path::{Path, PathBuf};

use crate::config::TEMPLATE;
use crate::dataset::{Dataset, Layout, Role};
use crate::models::{self, TaskType};
use crate::rules::Findings;

/// Folders never taken for datasets.
const SKIPPED: [&str; 4] = ["wanft-runs", "target", "node_modules", "__MACOSX"];

/// A dataset found in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSet {
    /// Relative to the folder, `/`-separated (`.` for the folder itself).
    pub path: String,
    pub role: Role,
    pub task: TaskType,
    pub samples: usize,
}

/// What [`inspect`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inspection {
    pub sets: Vec<FoundSet>,
}

impl Inspection {
    pub fn training(&self) -> Vec<&FoundSet> {
        self.sets
            .iter()
            .filter(|s| s.role == Role::Training)
            .collect()
    }

    pub fn validation(&self) -> Vec<&FoundSet> {
        self.sets
            .iter()
            .filter(|s| s.role == Role::Validation)
            .collect()
    }

    /// The task of the training sets, when they agree.
    pub fn task(&self) -> Option<TaskType> {
        let training = self.training();
        let first = training.first()?.task;
        training.iter().all(|s| s.task == first).then_some(first)
    }

    /// A model that trains the task found: the key-frame model for kf2v, the default otherwise.
    pub fn model(&self) -> &'static str {
        match self.task() {
            Some(TaskType::Kf2v) => "wan2.2-kf2v-flash",
            _ => models::DEFAULT_MODEL,
        }
    }
}

/// The datasets in `dir`: the folder itself when it holds one, else each subfolder and zip
/// (hidden ones and build output skipped; a zip beside a folder of the same name is taken for
/// that folder's packed copy).
pub fn inspect(dir: &Path) -> Inspection {
    if let Some(set) = read_set(dir, ".") {
        return Inspection { sets: vec![set] };
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|read| read.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    let folders: Vec<String> = entries
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    let mut sets = Vec::new();
    for path in &entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let candidate = if path.is_dir() {
            !name.starts_with('.') && !SKIPPED.contains(&name)
        } else {
            let stem = name.strip_suffix(".zip");
            stem.is_some_and(|stem| !folders.iter().any(|f| f == stem))
        };
        if candidate && let Some(set) = read_set(path, name) {
            sets.push(set);
        }
    }
    Inspection { sets }
}

/// The dataset at `path`, if it holds samples in a layout `check` reads.
fn read_set(path: &Path, label: &str) -> Option<FoundSet> {
    let mut findings = Findings::new();
    let dataset = Dataset::load(path, None, TaskType::I2v, &mut findings).ok()?;
    // Its own data.jsonl (or the folders layout): a folder holding a dataset in a subfolder is
    // not one itself.
    let readable = matches!(dataset.layout, Layout::Manifest { .. } | Layout::Folders)
        && dataset.layout.base().is_empty();
    (readable && !dataset.samples.is_empty()).then(|| FoundSet {
        path: label.to_owned(),
        role: dataset.mode.role,
        task: dataset.mode.task,
        samples: dataset.samples.len(),
    })
}

/// The template with what `inspection` found filled in.
pub fn render(inspection: &Inspection) -> String {
    let quoted = |sets: &[&FoundSet]| match sets {
        [one] => toml_string(&one.path),
        many => format!(
            "[{}]",
            many.iter()
                .map(|s| toml_string(&s.path))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let training = inspection.training();
    let validation = inspection.validation();
    let task = inspection.task();
    TEMPLATE
        .lines()
        .map(|line| match line {
            "model = \"wan2.5-i2v-preview\"" if task.is_some() => {
                format!("model = {}", toml_string(inspection.model()))
            }
            "training = \"dataset\"" if !training.is_empty() => {
                format!("training = {}", quoted(&training))
            }
            "# validation = \"validation\"" if !validation.is_empty() => {
                format!("validation = {}", quoted(&validation))
            }
            "# mode = \"i2v\"" => match task {
                Some(task) => format!("mode = {}", toml_string(task_name(task))),
                None => line.to_owned(),
            },
            _ => line.to_owned(),
        })
        .map(|line| line + "\n")
        .collect()
}

fn task_name(task: TaskType) -> &'static str {
    match task {
        TaskType::I2v => "i2v",
        TaskType::Kf2v => "kf2v",
    }
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn examples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
    }

    #[test]
    fn the_examples_folder_is_read_for_its_sets() {
        let found = inspect(&examples());
        let summary: Vec<(&str, Role, TaskType)> = found
            .sets
            .iter()
            .map(|s| (s.path.as_str(), s.role, s.task))
            .collect();
        assert_eq!(
            summary,
            [
                ("i2v-train", Role::Training, TaskType::I2v),
                ("i2v-val", Role::Validation, TaskType::I2v),
                ("kf2v-train", Role::Training, TaskType::Kf2v),
            ]
        );
        // Training sets of two tasks: no mode, no model chosen for them.
        assert_eq!(found.task(), None);
        let config = Config::parse(&render(&found), Path::new("x/wanft.toml")).unwrap();
        assert_eq!(config.dataset.training.len(), 2);
        assert_eq!(config.dataset.mode, None);
    }

    #[test]
    fn one_kf2v_set_picks_the_mode_and_a_model_that_trains_it() {
        let found = inspect(&examples().join("kf2v-train"));
        assert_eq!(found.sets.len(), 1);
        assert_eq!(found.sets[0].path, ".");
        let text = render(&found);
        let config = Config::parse(&text, Path::new("x/wanft.toml")).unwrap();
        assert_eq!(config.dataset.mode, Some(TaskType::Kf2v));
        assert_eq!(config.model.unwrap().name, "wan2.2-kf2v-flash");
        assert_eq!(config.dataset.training, [PathBuf::from("x/.")]);
    }

    #[test]
    fn an_empty_folder_gives_the_plain_template() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(inspect(dir.path()), Inspection::default());
        assert_eq!(render(&Inspection::default()), TEMPLATE);
    }
}
