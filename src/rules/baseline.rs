//! Baselines: adopt wanft on a dataset that already has findings, and fail only on new ones.
//!
//! `wanft check --write-baseline FILE` records every current finding as a fingerprint (dataset,
//! rule, file, message) with a count; a later check with that baseline hides as many findings
//! of each fingerprint as were recorded. Lines are left out of the fingerprint on purpose: a
//! sample added above an old defect moves it, and must not make it new.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Finding;

/// Largest baseline file read (a baseline of a million findings is ~200 MB; this is plenty for
/// any real dataset and keeps a planted huge file from exhausting memory).
const MAX_BASELINE_BYTES: u64 = 64 << 20;

pub const SCHEMA_VERSION: u32 = 1;

/// What identifies a finding across runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The dataset's path relative to the project, `/`-separated (empty when unknown).
    pub dataset: String,
    pub rule: String,
    /// The file inside the dataset (absent for dataset-wide findings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub message: String,
}

impl Fingerprint {
    pub fn of(finding: &Finding, dataset: Option<&str>) -> Fingerprint {
        Fingerprint {
            dataset: dataset.unwrap_or_default().to_owned(),
            rule: finding.rule.code.to_owned(),
            file: finding.location.file.clone(),
            message: finding.message.clone(),
        }
    }
}

/// Accepted findings, counted per fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeMap<Fingerprint, usize>,
}

#[derive(Serialize, Deserialize)]
struct Document {
    schema_version: u32,
    #[serde(default)]
    tool: String,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    fingerprint: Fingerprint,
    count: usize,
}

/// Why a baseline could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read the baseline {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("the baseline {path} is not a wanft baseline: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot write the baseline {path}: {source}")]
    Write { path: String, source: io::Error },
}

impl Baseline {
    /// Records one finding.
    pub fn add(&mut self, finding: &Finding, dataset: Option<&str>) {
        *self
            .entries
            .entry(Fingerprint::of(finding, dataset))
            .or_default() += 1;
    }

    /// Takes one accepted occurrence of `finding`, if the baseline has one left.
    pub fn take(&mut self, finding: &Finding, dataset: Option<&str>) -> bool {
        match self.entries.get_mut(&Fingerprint::of(finding, dataset)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    /// Number of accepted findings.
    pub fn len(&self) -> usize {
        self.entries.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads a baseline written by [`Baseline::write`].
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let bytes = crate::small_file::read(path, MAX_BASELINE_BYTES)
            .map_err(io::Error::from)
            .map_err(|source| BaselineError::Read {
                path: shown.clone(),
                source,
            })?;
        let doc: Document = serde_json::from_slice(&bytes).map_err(|e| BaselineError::Invalid {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        if doc.schema_version != SCHEMA_VERSION {
            return Err(BaselineError::Invalid {
                path: shown,
                message: format!(
                    "schema_version {} (this wanft reads {SCHEMA_VERSION})",
                    doc.schema_version
                ),
            });
        }
        let mut entries = BTreeMap::new();
        for e in doc.findings {
            *entries.entry(e.fingerprint).or_default() += e.count;
        }
        Ok(Baseline { entries })
    }

    /// Writes the baseline as JSON, sorted, atomically (a temporary file renamed into place).
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        let doc = Document {
            schema_version: SCHEMA_VERSION,
            tool: format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
            findings: self
                .entries
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(fingerprint, count)| Entry {
                    fingerprint: fingerprint.clone(),
                    count: *count,
                })
                .collect(),
        };
        let mut text = serde_json::to_vec_pretty(&doc).expect("a baseline serialises");
        text.push(b'\n');
        crate::pack::staging::Staged::write_atomically(path, &text).map_err(|source| {
            BaselineError::Write {
                path: path.display().to_string(),
                source,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Location, find};

    #[test]
    fn take_consumes_counts_and_ignores_lines() {
        let rule = find("M007").unwrap();
        let a = Finding::new(rule, Location::line("data.jsonl", 3), "too long");
        let moved = Finding::new(rule, Location::line("data.jsonl", 9), "too long");
        let mut b = Baseline::default();
        b.add(&a, Some("train"));
        assert!(!b.clone().take(&a, Some("other")));
        assert!(b.take(&moved, Some("train")));
        assert!(
            !b.take(&a, Some("train")),
            "one occurrence accepted, not two"
        );
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        let rule = find("P012").unwrap();
        let mut b = Baseline::default();
        b.add(
            &Finding::new(rule, Location::file("x.mp4"), "unreferenced"),
            None,
        );
        b.add(
            &Finding::new(rule, Location::file("x.mp4"), "unreferenced"),
            None,
        );
        b.write(&path).unwrap();
        let back = Baseline::load(&path).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.len(), 2);
        std::fs::write(&path, "[1,2]").unwrap();
        assert!(matches!(
            Baseline::load(&path),
            Err(BaselineError::Invalid { .. })
        ));
    }
}
