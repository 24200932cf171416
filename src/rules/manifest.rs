//! `J` rules: `data.jsonl` (presence, encoding, JSON syntax, fields) and the dataset layout.

use super::{Rule, Severity::*};

pub const MISSING: Rule = Rule {
    code: "J001",
    name: "manifest-missing",
    severity: Error,
    summary: "The dataset has no data.jsonl at its root (and is not in the folders layout).",
    why: "The platform reads the sample list only from data.jsonl at the zip root; without it \
          the upload is rejected during data processing.",
    fix: "Add data.jsonl at the root, or lay the dataset out as videos/, first_frames/ \
          (last_frames/) and prompts/ so that wanft can generate it.",
};

pub const NESTED: Rule = Rule {
    code: "J002",
    name: "manifest-nested",
    severity: Warning,
    summary: "data.jsonl sits inside one wrapping folder (mydata/data.jsonl).",
    why: "The platform appears to accept one wrapping folder and to resolve paths from the \
          folder that holds data.jsonl (many official sample archives are made that way), but \
          older documentation calls it an error; a flat zip is accepted by every revision.",
    fix: "Re-create the zip from inside the folder (cd mydata && zip -r ../data.zip .), or let \
          `wanft pack` build it flat.",
};

pub const NESTED_DEEP: Rule = Rule {
    code: "J022",
    name: "manifest-nested-deep",
    severity: Error,
    summary: "data.jsonl sits two or more folders down, or several wrapping folders each hold \
              one.",
    why: "The platform accepts at most one wrapping folder around a single data.jsonl; deeper \
          nesting or several candidates leave it without the sample list.",
    fix: "Zip the dataset folder's contents (cd mydata && zip -r ../data.zip .), one dataset \
          per zip, or let `wanft pack` build it.",
};

pub const TOO_LARGE: Rule = Rule {
    code: "J003",
    name: "manifest-too-large",
    severity: Error,
    summary: "data.jsonl is larger than 20 MB (20,971,520 bytes).",
    why: "The platform refuses a data.jsonl above 20 MB.",
    fix: "Shorten prompts or split the samples over several training zips.",
};

pub const NEAR_LIMIT: Rule = Rule {
    code: "J004",
    name: "manifest-near-limit",
    severity: Warning,
    summary: "data.jsonl is larger than 20,000,000 bytes, close to the 20 MB limit.",
    why: "Whether the limit is 20 MB or 20 MiB is not stated; between the two the outcome is \
          uncertain.",
    fix: "Keep data.jsonl under 20,000,000 bytes, e.g. by splitting it over two zips.",
};

pub const NOT_UTF8: Rule = Rule {
    code: "J005",
    name: "manifest-not-utf8",
    severity: Error,
    summary: "data.jsonl contains bytes that are not valid UTF-8.",
    why: "The platform decodes data.jsonl as UTF-8; other encodings (GBK, Latin-1, UTF-16) \
          garble prompts or fail the job.",
    fix: "Save the file as UTF-8 without BOM (e.g. iconv -f GBK -t UTF-8).",
};

pub const BOM: Rule = Rule {
    code: "J006",
    name: "manifest-bom",
    severity: Error,
    summary: "data.jsonl starts with a UTF-8 byte-order mark.",
    why: "A BOM makes the first line invalid JSON for strict parsers, so the first sample is lost \
          or the file is rejected.",
    fix: "Save as UTF-8 without BOM (sed -i '1s/^\\xEF\\xBB\\xBF//' data.jsonl).",
};

pub const CRLF: Rule = Rule {
    code: "J007",
    name: "manifest-crlf",
    severity: Warning,
    summary: "data.jsonl uses Windows (CRLF) line endings.",
    why: "Undocumented: a trailing carriage return may end up in the last field or confuse \
          line splitting.",
    fix: "Convert to LF line endings (dos2unix data.jsonl).",
};

pub const JSON_ARRAY: Rule = Rule {
    code: "J008",
    name: "manifest-json-array",
    severity: Error,
    summary: "data.jsonl holds a JSON array instead of one object per line.",
    why: "The format is JSON Lines: the platform reads one object per line, not a JSON document.",
    fix: "Write one JSON object per line (jq -c '.[]' data.json > data.jsonl).",
};

pub const INVALID_JSON: Rule = Rule {
    code: "J009",
    name: "invalid-json",
    severity: Error,
    summary: "A line of data.jsonl is not valid JSON.",
    why: "An unparseable line fails data processing, and with it the whole job.",
    fix: "Fix the JSON syntax at the given column (quotes, commas, escaped newlines).",
};

pub const NOT_OBJECT: Rule = Rule {
    code: "J010",
    name: "line-not-object",
    severity: Error,
    summary: "A line of data.jsonl is valid JSON but not an object.",
    why: "Each line must be an object with prompt and path fields.",
    fix: "Make the line a JSON object such as {\"prompt\": …, \"first_frame_path\": …}.",
};

pub const DUPLICATE_KEY: Rule = Rule {
    code: "J011",
    name: "duplicate-key",
    severity: Error,
    summary: "A line of data.jsonl repeats a key.",
    why: "Which value wins is undocumented (parsers disagree), so the sample may not be what you \
          checked.",
    fix: "Keep each key once per line.",
};

pub const MISSING_FIELD: Rule = Rule {
    code: "J012",
    name: "missing-field",
    severity: Error,
    summary: "A line lacks a field its mode requires (prompt, first_frame_path, last_frame_path, \
              video_path).",
    why: "A sample without its required fields cannot be trained on; the job fails.",
    fix: "Add the field. i2v training lines need prompt, first_frame_path and video_path; kf2v \
          lines add last_frame_path; validation lines have no video_path.",
};

pub const WRONG_TYPE: Rule = Rule {
    code: "J013",
    name: "wrong-field-type",
    severity: Error,
    summary: "A field of data.jsonl has the wrong JSON type (every documented field is a string).",
    why: "The platform expects strings; numbers, nulls, arrays or objects fail data processing.",
    fix: "Write the value as a JSON string.",
};

pub const UNKNOWN_FIELD: Rule = Rule {
    code: "J014",
    name: "unknown-field",
    severity: Warning,
    summary: "A line carries a field that is not part of the format.",
    why: "Extra keys are ignored by the platform; a misspelt key (first_frame instead of \
          first_frame_path) silently loses data.",
    fix: "Remove the field, or correct its spelling.",
};

pub const VIDEO_IN_VALIDATION: Rule = Rule {
    code: "J015",
    name: "video-in-validation",
    severity: Warning,
    summary: "A validation line carries video_path.",
    why: "Validation lines describe videos the platform renders at each evaluation point; a \
          video_path is ignored.",
    fix: "Drop video_path from validation lines, or check the set as training data.",
};

pub const BLANK_LINE: Rule = Rule {
    code: "J016",
    name: "blank-line",
    severity: Warning,
    summary: "data.jsonl contains an empty or whitespace-only line.",
    why: "Blank lines are skipped, but strict JSON Lines readers treat them as errors.",
    fix: "Delete the blank line.",
};

pub const MIXED_MODES: Rule = Rule {
    code: "J017",
    name: "mixed-modes",
    severity: Error,
    summary: "Lines of one data.jsonl disagree on the mode (some have last_frame_path or \
              video_path, others do not).",
    why: "A zip trains one task: first-frame (i2v) or first+last-frame (kf2v), training or \
          validation. Mixed lines are rejected or trained wrongly.",
    fix: "Split the lines into one zip per mode, or pass --mode to say which is intended.",
};

pub const MODE_NOT_TRAINED: Rule = Rule {
    code: "J018",
    name: "mode-not-trained-by-model",
    severity: Error,
    summary: "The dataset's mode (i2v or kf2v) is not one the chosen model trains.",
    why: "wan2.2-kf2v-flash trains first+last-frame data only, the i2v models first-frame data \
          only (wan2.7-i2v both, with task_type).",
    fix: "Choose a model for this mode with --model, or convert the dataset.",
};

pub const EMPTY_MANIFEST: Rule = Rule {
    code: "J019",
    name: "manifest-empty",
    severity: Error,
    summary: "data.jsonl contains no sample lines.",
    why: "A dataset without samples cannot train.",
    fix: "Add one line per sample.",
};

pub const UNMATCHED_STEM: Rule = Rule {
    code: "J020",
    name: "unmatched-stem",
    severity: Error,
    summary: "Folders layout: a clip has no first frame, last frame or caption with its stem.",
    why: "Without data.jsonl wanft pairs files by name; a clip that cannot be paired cannot be \
          written as a sample.",
    fix: "Name the clip, its frames and its caption with the same stem (clip01.mp4, \
          first_frames/clip01.jpg, prompts/clip01.txt).",
};

pub const TOO_MANY_LINES: Rule = Rule {
    code: "J021",
    name: "manifest-too-many-lines",
    severity: Warning,
    summary: "data.jsonl has more lines than wanft checks in depth (200,000).",
    why: "No dataset near that size fits the 1 GB upload; the file is most likely generated by \
          mistake. Lines beyond the limit are still checked for syntax but not as samples.",
    fix: "Check how data.jsonl was generated; split real datasets over several zips.",
};

pub const RULES: &[&Rule] = &[
    &MISSING,
    &NESTED,
    &TOO_LARGE,
    &NEAR_LIMIT,
    &NOT_UTF8,
    &BOM,
    &CRLF,
    &JSON_ARRAY,
    &INVALID_JSON,
    &NOT_OBJECT,
    &DUPLICATE_KEY,
    &MISSING_FIELD,
    &WRONG_TYPE,
    &UNKNOWN_FIELD,
    &VIDEO_IN_VALIDATION,
    &BLANK_LINE,
    &MIXED_MODES,
    &MODE_NOT_TRAINED,
    &EMPTY_MANIFEST,
    &UNMATCHED_STEM,
    &TOO_MANY_LINES,
    &NESTED_DEEP,
];

use crate::check::Context;
use crate::dataset::{Field, Origin, Role};
use crate::rules::{Finding, Findings, Location};

/// Field rules that need the dataset's mode: J012, J014, J015, J018.
pub fn check(cx: &Context, findings: &mut Findings) {
    let dataset = cx.dataset;
    let mode = dataset.mode;
    let model = cx.options.model;
    if !model.trains(mode.task) && !dataset.samples.is_empty() {
        findings.push(
            Finding::new(
                &MODE_NOT_TRAINED,
                Location::dataset(),
                format!(
                    "the dataset is {} data, which {} does not train",
                    mode.task, model.name
                ),
            )
            .hint(suggest_models(mode.task)),
        );
    }
    for sample in &dataset.samples {
        // The folders layout reports missing pieces itself (J020).
        if !matches!(sample.origin, Origin::Line(_)) {
            continue;
        }
        let at = dataset.location_of(sample);
        let mut missing = Vec::new();
        if sample.prompt == Field::Absent {
            missing.push("prompt");
        }
        if sample.first_frame == Field::Absent {
            missing.push("first_frame_path");
        }
        if mode.needs_last_frame() && sample.last_frame == Field::Absent {
            missing.push("last_frame_path");
        }
        if mode.needs_video() && sample.video == Field::Absent {
            missing.push("video_path");
        }
        if !missing.is_empty() {
            findings.push(Finding::new(
                &MISSING_FIELD,
                at.clone(),
                format!("{mode} lines need {}", missing.join(", ")),
            ));
        }
        if mode.role == Role::Validation && sample.video != Field::Absent {
            findings.push(Finding::new(
                &VIDEO_IN_VALIDATION,
                at.clone(),
                "video_path is ignored in a validation set",
            ));
        }
        if !mode.needs_last_frame() && sample.last_frame != Field::Absent {
            findings.push(
                Finding::new(
                    &UNKNOWN_FIELD,
                    at.clone(),
                    "last_frame_path is ignored in an i2v dataset",
                )
                .hint("drop it, or check the dataset as kf2v (--mode kf2v)"),
            );
        }
        for key in &sample.extra_keys {
            let mut f = Finding::new(&UNKNOWN_FIELD, at.clone(), format!("unknown field `{key}`"));
            if let Some(known) = closest_field(key) {
                f = f.hint(format!("did you mean `{known}`?"));
            }
            findings.push(f);
        }
    }
}

fn suggest_models(task: crate::models::TaskType) -> String {
    let names: Vec<&str> = crate::models::MODELS
        .iter()
        .filter(|m| m.trains(task))
        .map(|m| m.name)
        .collect();
    format!(
        "models that train {task} data: {} (choose with --model)",
        names.join(", ")
    )
}

/// A known field that a misspelt key probably meant.
fn closest_field(key: &str) -> Option<&'static str> {
    let k = key.to_ascii_lowercase().replace(['-', ' '], "_");
    crate::dataset::manifest::KNOWN_FIELDS
        .iter()
        .copied()
        .find(|f| {
            let stem = f.trim_end_matches("_path");
            k == *f || k == stem || k.starts_with(stem) || f.starts_with(&k)
        })
}
