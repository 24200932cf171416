//! `wanft.toml`: the project file that records a fine-tuning project's choices once, so that
//! `check`, `plan`, `pack` and the API commands agree (the commented template is
//! `templates/wanft.toml`, written by `wanft init`).
//!
//! Lookup: `--config PATH`, else `wanft.toml` in the current folder or the nearest parent that
//! has one (as cargo and ruff look), else none. Command-line flags override the environment
//! (`WANFT_REGION`, `WANFT_BASE_URL`), which overrides the file. Relative paths in `[dataset]` are relative to the file's folder.
//! Unknown keys and ill-typed values are errors that name the line, because a silently ignored
//! key (`n_epoch = 800`) would plan and train something else than intended. The API key is
//! refused: the file is meant to be committed; the key comes from `DASHSCOPE_API_KEY`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::hyper::HyperParams;
use crate::models::{self, ModelProfile, Region, TaskType};
use crate::rules::Severity;
use crate::rules::selection::{Origin, PathPattern, RuleSelection, Selector};
use crate::small_file;

/// The file name looked up in the current folder and its parents.
pub const FILE_NAME: &str = "wanft.toml";

/// Environment variable giving the region when no `--region` is passed.
pub const REGION_ENV: &str = "WANFT_REGION";
/// Environment variable giving the API host when no `--base-url` is passed.
pub const BASE_URL_ENV: &str = "WANFT_BASE_URL";

/// The commented template `wanft init` writes.
pub const TEMPLATE: &str = include_str!("../templates/wanft.toml");

/// Largest wanft.toml read: a project file is a few kilobytes.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Keys that would hold the API key, refused wherever they appear.
const SECRET_KEYS: &[&str] = &["api_key", "dashscope_api_key"];

/// A parsed `wanft.toml`. Every setting is optional; commands fall back to flags and defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base model to fine-tune.
    #[serde(default, deserialize_with = "model_profile")]
    pub model: Option<&'static ModelProfile>,
    #[serde(default, deserialize_with = "region")]
    pub region: Option<Region>,
    #[serde(default)]
    pub dataset: DatasetSection,
    #[serde(default)]
    pub hyper_parameters: HyperParams,
    #[serde(default)]
    pub plan: PlanSection,
    #[serde(default)]
    pub deploy: DeploySection,
    #[serde(default)]
    pub api: ApiSection,
    #[serde(default)]
    pub rules: RulesSection,
    /// `[deep]`: thresholds of the decode-level rules (`check --deep`).
    #[serde(default)]
    pub deep: crate::deep::Settings,
    /// The file this was read from (empty for text parsed without a file).
    #[serde(skip)]
    pub path: PathBuf,
}

/// `[dataset]`: where the samples are and how to read them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSection {
    /// Training set(s): folders or zips; one path or a list.
    #[serde(default, deserialize_with = "one_or_many_paths")]
    pub training: Vec<PathBuf>,
    /// Validation set(s); giving one disables the automatic split.
    #[serde(default, deserialize_with = "one_or_many_paths")]
    pub validation: Vec<PathBuf>,
    /// `i2v` (first frame) or `kf2v` (first and last frame).
    #[serde(default)]
    pub mode: Option<TaskType>,
    /// The rare token that anchors the effect in every prompt.
    #[serde(default)]
    pub trigger: Option<String>,
}

/// `[plan]`: price override and budget gates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSection {
    /// Price per 1,000 tokens in the region's currency, replacing the built-in list.
    #[serde(default, deserialize_with = "amount")]
    pub price: Option<Decimal>,
    /// Highest acceptable fee (`wanft plan` exits 1 above it).
    #[serde(default, deserialize_with = "amount")]
    pub max_cost: Option<Decimal>,
    /// Highest acceptable number of training steps.
    #[serde(default)]
    pub max_steps: Option<u64>,
}

/// `[deploy]`: the `aigc_config` of a deployment (spec §6.15).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySection {
    /// `true`: the caller's prompt is used verbatim; `false`: prompts are written from
    /// `prompt`.
    #[serde(default)]
    pub use_input_prompt: Option<bool>,
    /// Captioning instruction, template and example, used when `use_input_prompt` is false.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Fallback prompt when captioning fails.
    #[serde(default)]
    pub lora_prompt_default: Option<String>,
}

/// `[api]`: where the API is (a local emulator, for instance). Never the key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// Replaces the region's host, e.g. `http://127.0.0.1:8080`.
    #[serde(default, deserialize_with = "http_url")]
    pub base_url: Option<String>,
}

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// A command-line flag: a printed next command must repeat it.
    Flag,
    /// An environment variable (still set when the printed command runs).
    Env,
    /// `wanft.toml` (found again when the printed command runs).
    File,
}

/// Which region and host the API commands talk to, and where each came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub region: Option<(Region, Provenance)>,
    /// Without a trailing slash.
    pub base_url: Option<(String, Provenance)>,
}

impl Endpoint {
    pub fn region(&self) -> Option<Region> {
        self.region.map(|(r, _)| r)
    }

    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_ref().map(|(u, _)| u.as_str())
    }
}

/// `wanft.toml` in `dir` or the nearest parent folder that has one. Anything by that name
/// counts (a FIFO or device is then refused by the reader), never silently skipped.
pub fn find_project_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|path| path.symlink_metadata().is_ok())
}

/// `[rules]`: which rules run, where, at which severity, and the baseline (Ruff style; see
/// [`crate::rules::selection`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSection {
    /// Only these rules run (codes, prefixes, names or `ALL`) [default: all].
    #[serde(default)]
    pub select: Option<Vec<Selector>>,
    /// Added to `select`.
    #[serde(default)]
    pub extend_select: Vec<Selector>,
    /// Rules that do not run.
    #[serde(default)]
    pub ignore: Vec<Selector>,
    /// Path pattern (a glob over the dataset's path and the file inside it) → rules that do not
    /// apply there.
    #[serde(default)]
    pub per_path_ignores: BTreeMap<PathPattern, Vec<Selector>>,
    /// Rule selector → the severity its findings carry instead of their own.
    #[serde(default)]
    pub severity: BTreeMap<Selector, Severity>,
    /// Findings accepted for now (`wanft check --write-baseline`); relative to this file.
    #[serde(default)]
    pub baseline: Option<PathBuf>,
}

impl RulesSection {
    /// The rule configuration this section describes; `config` is the file it was read from.
    pub fn to_selection(&self, config: &Path) -> RuleSelection {
        let origin = Origin::Config(config.to_owned());
        let mut selection = RuleSelection::default();
        if let Some(select) = &self.select {
            selection.set_select(select.clone(), origin.clone());
        }
        selection.extend_select(self.extend_select.clone(), origin.clone());
        selection.add_ignore(self.ignore.clone(), origin.clone());
        for (pattern, selectors) in &self.per_path_ignores {
            selection.add_path_ignore(pattern, selectors.clone(), origin.clone());
        }
        for (selector, severity) in &self.severity {
            selection.set_severity(selector.clone(), *severity, origin.clone());
        }
        selection
    }
}

/// Why a `wanft.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An environment variable of wanft holds a value it cannot use.
    #[error("{name}: {message}")]
    Environment { name: String, message: String },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    /// A syntax error, an unknown key or a bad value, at `line`:`column` when known.
    #[error("{}{}: {message}", path.display(), position(*line, *column))]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

impl Config {
    /// Parses `text`, read from `path` (used for messages and to resolve relative paths).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|err| {
            let (line, column) = err
                .span()
                .and_then(|span| line_and_column(text, span.start))
                .unzip();
            ConfigError::Invalid {
                path: path.to_owned(),
                line,
                column,
                message: explain(err.message()),
            }
        })?;
        config.path = path.to_owned();
        let dir = config.dir().to_owned();
        for p in config
            .dataset
            .training
            .iter_mut()
            .chain(config.dataset.validation.iter_mut())
            .chain(config.rules.baseline.iter_mut())
        {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        Ok(config)
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            small_file::read_to_string(path, MAX_CONFIG_BYTES).map_err(|e| ConfigError::Read {
                path: path.to_owned(),
                source: e.into(),
            })?;
        Config::parse(&text, path)
    }

    /// The project file: `explicit` (`--config`, which must exist), else `wanft.toml` in `cwd`
    /// or the nearest of its parents that has one.
    pub fn discover(explicit: Option<&Path>, cwd: &Path) -> Result<Option<Config>, ConfigError> {
        if let Some(path) = explicit {
            return Config::load(path).map(Some);
        }
        match find_project_file(cwd) {
            Some(path) => Config::load(&path).map(Some),
            None => Ok(None),
        }
    }

    /// Region and API host: each from its flag, else its environment variable, else this file,
    /// with where it came from (so that printed commands can repeat what the file or the
    /// environment does not supply).
    pub fn endpoint(
        &self,
        region_flag: Option<Region>,
        base_url_flag: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Endpoint, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let invalid = |name: &str, message: String| ConfigError::Environment {
            name: name.to_owned(),
            message,
        };
        let region = match (region_flag, env(REGION_ENV)) {
            (Some(region), _) => Some((region, Provenance::Flag)),
            (None, Some(text)) => {
                let region = Region::from_str(text.trim()).map_err(|e| invalid(REGION_ENV, e))?;
                Some((region, Provenance::Env))
            }
            (None, None) => self.region.map(|r| (r, Provenance::File)),
        };
        let base_url = match (base_url_flag, env(BASE_URL_ENV)) {
            (Some(url), _) => Some((url.trim_end_matches('/').to_owned(), Provenance::Flag)),
            (None, Some(text)) => {
                let url = check_http_url(text.trim()).map_err(|e| invalid(BASE_URL_ENV, e))?;
                Some((url, Provenance::Env))
            }
            (None, None) => self.api.base_url.clone().map(|u| (u, Provenance::File)),
        };
        Ok(Endpoint { region, base_url })
    }

    /// The folder relative dataset paths are resolved against.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// Writes [`TEMPLATE`] to `path`; an existing file is an `AlreadyExists` error unless
/// `overwrite`.
pub fn write_template(path: &Path, overwrite: bool) -> io::Result<()> {
    write_project_file(path, TEMPLATE, overwrite)
}

/// Writes `text` to `path`; an existing file is an `AlreadyExists` error unless `overwrite`.
pub fn write_project_file(path: &Path, text: &str, overwrite: bool) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> Option<(usize, usize)> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Some((
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    ))
}

/// Turns serde's message for a secret key into advice. The message names the key only, never
/// its value, and no source line is quoted, so the key cannot leak through an error.
fn explain(message: &str) -> String {
    let secret = SECRET_KEYS
        .iter()
        .find(|key| message.starts_with(&format!("unknown field `{key}`")));
    match secret {
        Some(key) => format!(
            "`{key}` is not allowed in {FILE_NAME}: the file is meant to be committed; set the \
             DASHSCOPE_API_KEY environment variable instead"
        ),
        None => message.trim_end().to_owned(),
    }
}

fn model_profile<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<&'static ModelProfile>, D::Error> {
    let name = String::deserialize(d)?;
    models::lookup(&name).map(Some).map_err(D::Error::custom)
}

fn region<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Region>, D::Error> {
    let id = String::deserialize(d)?;
    Region::from_str(&id).map(Some).map_err(D::Error::custom)
}

/// A non-negative amount of money, written as a number (`0.32`) or a string (`"0.32"`).
fn amount<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let value = <Decimal as Deserialize>::deserialize(d)?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(D::Error::custom(format!(
            "amount {value} is negative; expected 0 or more"
        )));
    }
    Ok(Some(value))
}

fn http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let url = String::deserialize(d)?;
    check_http_url(&url).map(Some).map_err(D::Error::custom)
}

/// `url` without its trailing slash, if it is an http(s) URL.
fn check_http_url(url: &str) -> Result<String, String> {
    let has_scheme = url.starts_with("http://") || url.starts_with("https://");
    if !has_scheme || url.chars().any(char::is_whitespace) {
        return Err(format!(
            "`{}` is not an http(s) URL (expected e.g. http://127.0.0.1:8080)",
            crate::api::secret::without_userinfo(url)
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `"train"` or `["train-a", "train-b"]`.
fn one_or_many_paths<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<PathBuf>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a path or a list of paths")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![PathBuf::from(v)])
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut paths = Vec::new();
            while let Some(p) = seq.next_element::<PathBuf>()? {
                paths.push(p);
            }
            Ok(paths)
        }
    }
    d.deserialize_any(Visitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("project/wanft.toml"))
    }

    fn error_at(text: &str) -> (Option<usize>, String) {
        match parse(text) {
            Err(ConfigError::Invalid { line, message, .. }) => (line, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn full_file() {
        let c = parse(
            r#"
model = "wan2.7-i2v"
region = "ap-southeast-1"

[dataset]
training = ["train", "/abs/more"]
validation = "val.zip"
mode = "kf2v"
trigger = "q7zx3k"

[hyper_parameters]
n_epochs = 800
learning_rate = 2.0E-5
split = 0.85
task_type = "kf2v"

[plan]
price = 0.3
max_cost = "150.5"
max_steps = 5000

[deploy]
use_input_prompt = false
prompt = "describe"
lora_prompt_default = "Then the q7zx3k effect begins."

[api]
base_url = "http://127.0.0.1:8080/"
"#,
        )
        .unwrap();
        assert_eq!(c.model.unwrap().name, "wan2.7-i2v");
        assert_eq!(c.region, Some(Region::ApSoutheast1));
        assert_eq!(
            c.dataset.training,
            [PathBuf::from("project/train"), PathBuf::from("/abs/more")]
        );
        assert_eq!(c.dataset.validation, [PathBuf::from("project/val.zip")]);
        assert_eq!(c.dataset.mode, Some(TaskType::Kf2v));
        assert_eq!(c.hyper_parameters.n_epochs, Some(800));
        assert_eq!(c.hyper_parameters.split, Some(0.85));
        assert_eq!(c.hyper_parameters.task_type, Some(TaskType::Kf2v));
        assert_eq!(c.plan.price, Some(Decimal::from_str("0.3").unwrap()));
        assert_eq!(c.plan.max_cost, Some(Decimal::from_str("150.5").unwrap()));
        assert_eq!(c.plan.max_steps, Some(5000));
        assert_eq!(c.deploy.use_input_prompt, Some(false));
        assert_eq!(c.api.base_url.as_deref(), Some("http://127.0.0.1:8080"));
    }

    #[test]
    fn empty_file_is_all_defaults() {
        let c = parse("").unwrap();
        assert!(c.model.is_none() && c.region.is_none());
        assert_eq!(c.hyper_parameters, HyperParams::default());
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let (line, message) =
            error_at("model = \"wan2.7-i2v\"\n\n[hyper_parameters]\nn_epoch = 800\n");
        assert_eq!(line, Some(4));
        assert!(message.contains("n_epoch"), "{message}");
        let (line, _) = error_at("[plan]\nbudget = 3\n");
        assert_eq!(line, Some(2));
    }

    #[test]
    fn bad_values_name_their_line() {
        let (line, message) = error_at("\n\nmodel = \"wan9\"\n");
        assert_eq!(line, Some(3));
        assert!(message.contains("wan2.5-i2v-preview"), "{message}");
        let (line, message) = error_at("[hyper_parameters]\nn_epochs = -3\n");
        assert_eq!(line, Some(2));
        assert!(!message.is_empty());
        let (line, _) = error_at("[plan]\nprice = -1\n");
        assert_eq!(line, Some(2));
        let (line, _) = error_at("region = \"mars\"\n");
        assert_eq!(line, Some(1));
        let (line, _) = error_at("[api]\nbase_url = \"ftp://x\"\n");
        assert_eq!(line, Some(2));
        let (line, _) = error_at("[dataset]\nmode = \"t2v\"\n");
        assert_eq!(line, Some(2));
    }

    #[test]
    fn api_key_is_refused_without_echoing_it() {
        let secret = "sk-0123456789abcdef";
        for text in [
            format!("api_key = \"{secret}\"\n"),
            format!("[api]\nbase_url = \"http://x\"\napi_key = \"{secret}\"\n"),
        ] {
            let err = parse(&text).unwrap_err();
            let shown = err.to_string();
            assert!(shown.contains("DASHSCOPE_API_KEY"), "{shown}");
            assert!(!shown.contains(secret), "{shown}");
            assert!(!format!("{err:?}").contains(secret));
        }
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_and_column("ab\ncdé\nx", 8), Some((3, 1)));
        assert_eq!(line_and_column("é = 1", 3), Some((1, 3)));
        assert_eq!(line_and_column("é", 1), None);
    }

    #[test]
    fn template_parses_and_documents_every_key() {
        let c = parse(TEMPLATE).expect("the template parses");
        assert!(c.model.is_some() && c.region.is_some());
        // Every commented `# key = value` line must also parse once uncommented: the template
        // documents real keys with valid values.
        let uncommented: String = TEMPLATE
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if is_assignment(rest) => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let all = parse(&uncommented).expect("the uncommented template parses");
        for key in HyperParams::KEYS {
            assert!(
                uncommented.contains(&format!("\n{key} = ")),
                "the template does not show {key}"
            );
        }
        assert!(all.plan.price.is_some() && all.plan.max_cost.is_some());
        assert!(all.deploy.prompt.is_some() && all.api.base_url.is_some());
        let deep = toml::to_string(&crate::deep::Settings::default()).unwrap();
        for line in deep.lines() {
            assert!(
                uncommented.contains(line),
                "the template does not show `{line}` under [deep]"
            );
        }
    }

    fn is_assignment(line: &str) -> bool {
        line.split_once(" = ")
            .is_some_and(|(key, _)| key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    }

    #[test]
    fn discover_prefers_the_explicit_path() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Config::discover(None, dir.path()).unwrap().is_none());
        let missing = dir.path().join("other.toml");
        assert!(matches!(
            Config::discover(Some(&missing), dir.path()),
            Err(ConfigError::Read { .. })
        ));
        write_template(&dir.path().join(FILE_NAME), false).unwrap();
        assert!(Config::discover(None, dir.path()).unwrap().is_some());
        let again = write_template(&dir.path().join(FILE_NAME), false).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        write_template(&dir.path().join(FILE_NAME), true).unwrap();
    }

    #[test]
    fn discover_walks_up_to_the_nearest_project_file() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a").join("b");
        fs::create_dir_all(&deep).unwrap();
        assert!(Config::discover(None, &deep).unwrap().is_none());
        fs::write(dir.path().join(FILE_NAME), "region = \"cn-beijing\"\n").unwrap();
        fs::write(
            dir.path().join("a").join(FILE_NAME),
            "region = \"ap-southeast-1\"\n",
        )
        .unwrap();
        let found = Config::discover(None, &deep).unwrap().unwrap();
        assert_eq!(found.region, Some(Region::ApSoutheast1), "the nearest wins");
        assert_eq!(found.dir(), dir.path().join("a"));
    }

    #[test]
    fn endpoint_takes_flags_then_environment_then_file() {
        let file = parse("region = \"cn-beijing\"\n[api]\nbase_url = \"http://file:1\"\n").unwrap();
        let no_env = |_: &str| None;
        let from_file = file.endpoint(None, None, no_env).unwrap();
        assert_eq!(
            from_file.region,
            Some((Region::CnBeijing, Provenance::File))
        );
        assert_eq!(from_file.base_url(), Some("http://file:1"));

        let env = |name: &str| match name {
            REGION_ENV => Some("ap-southeast-1".to_owned()),
            BASE_URL_ENV => Some("http://env:2/".to_owned()),
            _ => None,
        };
        let from_env = file.endpoint(None, None, env).unwrap();
        assert_eq!(
            from_env.region,
            Some((Region::ApSoutheast1, Provenance::Env))
        );
        assert_eq!(
            from_env.base_url,
            Some(("http://env:2".into(), Provenance::Env))
        );

        let flagged = file
            .endpoint(Some(Region::CnBeijing), Some("http://flag:3"), env)
            .unwrap();
        assert_eq!(flagged.region, Some((Region::CnBeijing, Provenance::Flag)));
        assert_eq!(
            flagged.base_url,
            Some(("http://flag:3".into(), Provenance::Flag))
        );

        let empty = |_: &str| Some("  ".to_owned());
        assert_eq!(file.endpoint(None, None, empty).unwrap(), from_file);
        let bad = |name: &str| (name == REGION_ENV).then(|| "mars".to_owned());
        let err = file.endpoint(None, None, bad).unwrap_err().to_string();
        assert!(err.starts_with("WANFT_REGION: "), "{err}");
        let bad = |name: &str| (name == BASE_URL_ENV).then(|| "ftp://x".to_owned());
        assert!(file.endpoint(None, None, bad).is_err());
    }
}
