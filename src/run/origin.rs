//! Which dataset an uploaded file holds, so that `jobs create --training FILE_ID` can plan the
//! job (and recommend `n_epochs`) without being told the folder again.
//!
//! The upload ledger records, for each upload from this machine, the zip it came from (path,
//! size and modification time) and its SHA-256. If that zip is still there unchanged (same
//! stamp, or `pack`'s manifest beside it names the same SHA-256), it is the dataset behind the
//! file id, and the plan reads it. Otherwise wanft cannot know, and says so.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use crate::api::ledger::{Ledger, LedgerEntry, SourceStamp};
use crate::api::zip_digest;
use crate::check::CheckError;
use crate::hyper::HyperParams;
use crate::models::{ModelProfile, Region};
use crate::plan::dataset::{self, DatasetOptions};
use crate::plan::{self, Plan, PlanInput};
use crate::progress::Progress;

/// Why the dataset behind a file id is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unknown {
    #[error(
        "{file_id} was not uploaded by wanft on this machine (the upload ledger does not list it)"
    )]
    NotInLedger { file_id: String },
    #[error("the zip {file_id} was uploaded from, {}, is gone or has changed since", path.display())]
    ZipChanged { file_id: String, path: PathBuf },
}

/// Why the job on some uploads could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Unknown(#[from] Unknown),
    #[error("cannot read {}: {source}", path.display())]
    Check {
        path: PathBuf,
        #[source]
        source: CheckError,
    },
}

/// The uploads a job is created from, and what to plan it with.
pub struct Uploads<'a> {
    pub ledger: &'a Ledger,
    pub training: &'a [String],
    pub validation: &'a [String],
    pub region: Region,
    pub base_url: &'a str,
    pub model: &'static ModelProfile,
    /// As given; `n_epochs` unset is planned.
    pub hyper: &'a HyperParams,
    pub price: Option<Decimal>,
    pub progress: &'a dyn Progress,
}

/// Plans the job on the zips the file ids were uploaded from (the plan recommends `n_epochs`
/// when it is not given).
pub fn plan_uploads(uploads: &Uploads) -> Result<Plan, PlanError> {
    let training = zips_of(
        uploads.ledger,
        uploads.training,
        uploads.region,
        uploads.base_url,
    )?;
    let validation = zips_of(
        uploads.ledger,
        uploads.validation,
        uploads.region,
        uploads.base_url,
    )?;
    let resolved = uploads.hyper.resolve(uploads.model);
    let options = DatasetOptions {
        model: uploads.model,
        task: uploads.hyper.task_type,
        trigger: None,
        hyper: &resolved,
        // The platform's view: what was uploaded is judged by every rule.
        rules: None,
        progress: uploads.progress,
    };
    let training_paths: Vec<&Path> = training.iter().map(PathBuf::as_path).collect();
    let validation_paths: Vec<&Path> = validation.iter().map(PathBuf::as_path).collect();
    let datasets =
        dataset::read(&training_paths, &validation_paths, &options).map_err(|source| {
            PlanError::Check {
                path: training.first().cloned().unwrap_or_default(),
                source,
            }
        })?;
    Ok(plan::estimate(&PlanInput {
        model: uploads.model,
        region: uploads.region,
        hyper: uploads.hyper.clone(),
        training: datasets.training,
        validation_count: datasets.validation_count,
        price_override: uploads.price,
    }))
}

/// The zip each of `file_ids` was uploaded from (to `region` and `base_url`), in order.
pub fn zips_of(
    ledger: &Ledger,
    file_ids: &[String],
    region: Region,
    base_url: &str,
) -> Result<Vec<PathBuf>, Unknown> {
    file_ids
        .iter()
        .map(|id| zip_of(ledger, id, region, base_url))
        .collect()
}

fn zip_of(
    ledger: &Ledger,
    file_id: &str,
    region: Region,
    base_url: &str,
) -> Result<PathBuf, Unknown> {
    let entry = ledger
        .entries()
        .iter()
        .rev()
        .find(|e| e.file_id == file_id && e.region == region && e.base_url == base_url)
        .ok_or_else(|| Unknown::NotInLedger {
            file_id: file_id.to_owned(),
        })?;
    let Some(source) = &entry.source else {
        return Err(Unknown::NotInLedger {
            file_id: file_id.to_owned(),
        });
    };
    if unchanged(entry, source) {
        Ok(source.path.clone())
    } else {
        Err(Unknown::ZipChanged {
            file_id: file_id.to_owned(),
            path: source.path.clone(),
        })
    }
}

/// Whether the zip at the entry's path still holds what was uploaded.
fn unchanged(entry: &LedgerEntry, source: &SourceStamp) -> bool {
    if SourceStamp::of(&source.path).is_ok_and(|now| now == *source) {
        return true;
    }
    // Repacked since (pack rewrites the zip), yet to the same bytes.
    zip_digest::from_pack_manifest(&source.path)
        .ok()
        .flatten()
        .is_some_and(|sha| sha == entry.sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unchanged_zips_of_the_same_place_are_known() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("train.zip");
        std::fs::write(&zip, b"zip bytes").unwrap();
        let (mut ledger, _) = Ledger::open(&dir.path().join("uploads.json"));
        ledger
            .record(LedgerEntry {
                sha256: "ab".repeat(32),
                bytes: 9,
                region: Region::CnBeijing,
                base_url: "http://h".into(),
                file_id: "f1".into(),
                file_name: "train.zip".into(),
                uploaded_at: "2026-01-01T00:00:00Z".into(),
                source: Some(SourceStamp::of(&zip).unwrap()),
            })
            .unwrap();
        let ids = ["f1".to_owned()];
        let found = zips_of(&ledger, &ids, Region::CnBeijing, "http://h").unwrap();
        assert_eq!(found, [std::path::absolute(&zip).unwrap()]);
        assert!(matches!(
            zips_of(&ledger, &ids, Region::ApSoutheast1, "http://h"),
            Err(Unknown::NotInLedger { .. })
        ));
        assert!(matches!(
            zips_of(&ledger, &["f2".to_owned()], Region::CnBeijing, "http://h"),
            Err(Unknown::NotInLedger { .. })
        ));
        std::fs::write(&zip, b"other bytes, longer").unwrap();
        let err = zips_of(&ledger, &ids, Region::CnBeijing, "http://h").unwrap_err();
        assert!(err.to_string().contains("has changed"), "{err}");
    }
}
