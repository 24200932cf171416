//! `wanft pack` on good datasets: byte-identical output whatever the input's form and dates,
//! archives every reader accepts, the manifest, the JSON summary, and the output guards.

mod common;
mod pack_helpers;

use std::fs;
use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, SystemTime};

use common::{Brief, Fixture, briefs, write_zip};
use pack_helpers::{Scratch, members, names_in, sha256_file, temp_files, tree_digest};
use predicates::prelude::*;
use serde_json::Value;
use wanft::check::{self, CheckOptions};
use wanft::models;

fn pack(scratch: &Scratch, dataset: &Path, out: &str) -> std::path::PathBuf {
    let zip = scratch.zip(out);
    scratch
        .wanft()
        .arg("pack")
        .arg(dataset)
        .arg("-o")
        .arg(&zip)
        .assert()
        .code(0);
    zip
}

/// Sets every file's modification time under `dir` to `when`.
fn touch_all(dir: &Path, when: SystemTime) {
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let file = fs::File::options().write(true).open(entry.path()).unwrap();
            file.set_modified(when).unwrap();
        }
    }
}

#[test]
fn the_same_dataset_packs_to_the_same_bytes_whatever_the_dates() {
    let fixture = Fixture::i2v();
    let scratch = Scratch::new();
    let first = pack(&scratch, &fixture.root, "first.zip");
    touch_all(
        &fixture.root,
        SystemTime::now() + Duration::from_secs(86_400),
    );
    let second = pack(&scratch, &fixture.root, "second.zip");
    touch_all(
        &fixture.root,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
    );
    let third = pack(&scratch, &fixture.root, "third.zip");
    let digest = sha256_file(&first);
    assert_eq!(sha256_file(&second), digest);
    assert_eq!(sha256_file(&third), digest);
}

#[test]
fn a_folder_and_its_hand_made_zip_pack_to_the_same_bytes() {
    let fixture = Fixture::i2v();
    // What careless zipping brings along: OS debris, a stray file, a `./` in a path.
    fixture
        .write(".DS_Store", b"\0\0\0\x01Bud1")
        .write("__MACOSX/._clip01.mp4", b"resource fork")
        .write("notes.txt", b"to do: more clips")
        .set_field(3, "video_path", "./clip04.mp4");
    let scratch = Scratch::new();
    let from_folder = pack(&scratch, &fixture.root, "folder.zip");

    // The same files zipped by hand, in reverse order, data.jsonl deflated.
    let mut files: Vec<(String, Vec<u8>)> = pack_helpers::tree_digest(&fixture.root)
        .into_iter()
        .map(|(name, _)| {
            let bytes = fs::read(fixture.root.join(&name)).unwrap();
            (name, bytes)
        })
        .collect();
    files.reverse();
    let hand_made = scratch.out.join("hand-made.zip");
    write_zip(&hand_made, &files);
    let from_zip = pack(&scratch, &hand_made, "from-zip.zip");
    assert_eq!(sha256_file(&from_folder), sha256_file(&from_zip));

    // Only data.jsonl and the referenced media, data.jsonl first, no folder entries.
    let names: Vec<String> = members(&from_folder).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 41);
    assert_eq!(names[0], "data.jsonl");
    let mut media = names[1..].to_vec();
    media.sort();
    assert_eq!(media, names[1..], "media are sorted");
    assert!(
        !names
            .iter()
            .any(|n| n.contains("DS_Store") || n.contains("MACOSX"))
    );
    assert!(!names.contains(&"notes.txt".to_string()));
}

#[test]
fn packed_zips_pass_unzip_python_and_check_as_the_folder_does() {
    let fixture = Fixture::example("kf2v-train");
    fixture
        .write("unreferenced.png", b"not used")
        .write("Thumbs.db", b"x");
    let scratch = Scratch::new();
    let zip = scratch.zip("kf2v.zip");
    scratch
        .wanft()
        .args(["pack", "--model", "wan2.2-kf2v-flash"])
        .arg(&fixture.root)
        .arg("-o")
        .arg(&zip)
        .assert()
        .code(0);

    let unzip = Process::new("unzip")
        .arg("-t")
        .arg(&zip)
        .output()
        .expect("Info-ZIP unzip must be installed (apt-get install unzip)");
    assert!(
        unzip.status.success(),
        "{}",
        String::from_utf8_lossy(&unzip.stdout)
    );
    assert!(String::from_utf8_lossy(&unzip.stdout).contains("No errors detected"));
    let python = Process::new("python3")
        .args([
            "-c",
            "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None",
        ])
        .arg(&zip)
        .output()
        .expect("python3 must be installed");
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );

    // The zip is checked exactly like the folder, except for what pack drops on purpose:
    // unreferenced files (P012) and OS debris (P013).
    let options = CheckOptions::new(models::find("wan2.2-kf2v-flash").unwrap());
    let dropped_on_purpose = |f: &Brief| f.0 == "P012" || f.0 == "P013";
    let folder: Vec<Brief> = briefs(&check::run(&fixture.root, &options).unwrap())
        .into_iter()
        .filter(|f| !dropped_on_purpose(f))
        .collect();
    let folder_all = briefs(&check::run(&fixture.root, &options).unwrap());
    assert!(
        folder_all.iter().any(dropped_on_purpose),
        "the fixture has debris"
    );
    let packed = briefs(&check::run(&zip, &options).unwrap());
    assert_eq!(packed, folder);
}

#[test]
fn the_manifest_records_every_member_and_the_zip() {
    let fixture = Fixture::i2v();
    let scratch = Scratch::new();
    let zip = pack(&scratch, &fixture.root, "train.zip");
    let manifest_path = scratch.zip("train.zip.manifest.json");
    let manifest: Value = serde_json::from_slice(&fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["schema"], "wanft.pack-manifest");
    assert_eq!(manifest["schema_version"], 1);
    assert_eq!(manifest["created_by"]["model"], models::DEFAULT_MODEL);
    assert_eq!(manifest["created_by"]["fix"], false);
    assert_eq!(manifest["archive"]["file"], "train.zip");
    assert_eq!(manifest["archive"]["sha256"], sha256_file(&zip));
    assert_eq!(
        manifest["archive"]["size"],
        fs::metadata(&zip).unwrap().len()
    );
    let listed = manifest["members"].as_array().unwrap();
    let actual = members(&zip);
    assert_eq!(listed.len(), actual.len());
    for (record, (name, bytes)) in listed.iter().zip(&actual) {
        assert_eq!(record["name"], name.as_str());
        assert_eq!(record["size"], bytes.len());
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        assert_eq!(record["sha256"], digest.as_str(), "{name}");
        assert_eq!(record["crc32"], format!("{:08x}", crc32fast::hash(bytes)));
    }
    assert_eq!(listed[0]["method"], "deflated");
    assert_eq!(listed[1]["method"], "stored");
    // Nothing else was left beside the zip, and nothing extra went into it.
    assert_eq!(
        names_in(&scratch.out),
        ["train.zip", "train.zip.manifest.json"]
    );
}

#[test]
fn the_json_summary_follows_its_schema() {
    let fixture = Fixture::i2v();
    let scratch = Scratch::new();
    let zip = scratch.zip("train.zip");
    let output = scratch
        .wanft()
        .arg("pack")
        .arg(&fixture.root)
        .arg("-o")
        .arg(&zip)
        .args(["--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let doc: Value = serde_json::from_slice(&output).expect("stdout is one JSON document");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["tool"]["name"], "wanft");
    assert_eq!(doc["status"], "packed");
    let dataset = &doc["datasets"][0];
    assert_eq!(dataset["role"], "training");
    assert_eq!(dataset["status"], "packed");
    assert_eq!(dataset["refusal"], Value::Null);
    assert_eq!(dataset["archive"]["sha256"], sha256_file(&zip));
    assert_eq!(dataset["archive"]["members"].as_array().unwrap().len(), 41);
    assert!(
        dataset["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"].is_string())
    );
}

#[test]
fn an_existing_zip_is_replaced_only_with_force() {
    let fixture = Fixture::i2v();
    let scratch = Scratch::new();
    let zip = scratch.zip("train.zip");
    fs::write(&zip, "keep me").unwrap();
    scratch
        .wanft()
        .arg("pack")
        .arg(&fixture.root)
        .arg("-o")
        .arg(&zip)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(fs::read(&zip).unwrap(), b"keep me");
    scratch
        .wanft()
        .arg("pack")
        .arg(&fixture.root)
        .arg("-o")
        .arg(&zip)
        .arg("--force")
        .assert()
        .code(0);
    assert_eq!(members(&zip)[0].0, "data.jsonl");
    assert!(temp_files(&scratch.out).is_empty());
}

#[test]
fn outputs_inside_the_dataset_or_on_an_input_are_refused() {
    let fixture = Fixture::i2v();
    let scratch = Scratch::new();
    let before = tree_digest(&fixture.root);
    scratch
        .wanft()
        .arg("pack")
        .arg(&fixture.root)
        .arg("-o")
        .arg(fixture.path("train.zip"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("inside the dataset folder"));
    let zip = fixture.zip();
    scratch
        .wanft()
        .arg("pack")
        .arg(&zip)
        .arg("-o")
        .arg(&zip)
        .arg("--force")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is an input"));
    assert_eq!(tree_digest(&fixture.root), before);
}

#[test]
fn the_default_output_is_named_after_the_folder() {
    let fixture = Fixture::i2v();
    let scratch = Scratch::new();
    scratch
        .wanft()
        .arg("pack")
        .arg(&fixture.root)
        .assert()
        .code(0);
    let zip = fixture.root.with_extension("zip");
    assert!(zip.is_file(), "{} was not written", zip.display());
}

#[test]
fn errors_refuse_the_pack_as_check_reports_them() {
    let fixture = Fixture::i2v();
    fixture.remove("clip05.mp4");
    let scratch = Scratch::new();
    let zip = scratch.zip("train.zip");
    scratch
        .wanft()
        .arg("pack")
        .arg(&fixture.root)
        .arg("-o")
        .arg(&zip)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[P001]"))
        .stdout(predicate::str::contains("clip05.mp4"))
        .stdout(predicate::str::contains("Refused"));
    assert!(names_in(&scratch.out).is_empty(), "nothing may be written");
}

#[test]
fn a_zip_with_a_wrapping_folder_is_packed_flat() {
    let fixture = Fixture::i2v();
    let scratch = Scratch::new();
    let files: Vec<(String, Vec<u8>)> = tree_digest(&fixture.root)
        .into_iter()
        .map(|(name, _)| {
            let bytes = fs::read(fixture.root.join(&name)).unwrap();
            (format!("mydata/{name}"), bytes)
        })
        .collect();
    let wrapped = scratch.out.join("wrapped.zip");
    write_zip(&wrapped, &files);
    let flat = pack(&scratch, &wrapped, "flat.zip");
    let from_folder = pack(&scratch, &fixture.root, "folder.zip");
    assert_eq!(sha256_file(&flat), sha256_file(&from_folder));
}

#[test]
fn a_validation_set_is_packed_beside_the_training_set() {
    let train = Fixture::i2v();
    let val = Fixture::example("i2v-val");
    let scratch = Scratch::new();
    let val_zip = scratch.zip("val.zip");
    scratch
        .wanft()
        .arg("pack")
        .arg(&train.root)
        .arg("-o")
        .arg(scratch.zip("train.zip"))
        .arg("--validation")
        .arg(&val.root)
        .arg("-O")
        .arg(&val_zip)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("validation set"));
    let names: Vec<String> = members(&val_zip).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["data.jsonl", "val01.jpg", "val02.png", "val03.jpg"]);
    assert_eq!(
        names_in(&scratch.out),
        [
            "train.zip",
            "train.zip.manifest.json",
            "val.zip",
            "val.zip.manifest.json"
        ]
    );
}

#[test]
fn datasets_and_model_come_from_wanft_toml_and_flags_win() {
    let project = tempfile::tempdir().unwrap();
    let root = Path::new(common::ROOT).join("examples");
    common::copy_dir(&root.join("i2v-train"), &project.path().join("train"));
    common::copy_dir(&root.join("i2v-val"), &project.path().join("val"));
    fs::write(
        project.path().join("wanft.toml"),
        "model = \"wan2.2-i2v-flash\"\n\n[dataset]\ntraining = \"train\"\nvalidation = \"val\"\n",
    )
    .unwrap();
    let scratch = Scratch::new();
    scratch
        .wanft()
        .current_dir(project.path())
        .arg("pack")
        .assert()
        .code(0);
    let manifest = |name: &str| -> Value {
        let path = project.path().join(format!("{name}.zip.manifest.json"));
        serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
    };
    assert_eq!(manifest("train")["created_by"]["model"], "wan2.2-i2v-flash");
    assert_eq!(manifest("train")["created_by"]["role"], "training");
    assert_eq!(manifest("val")["created_by"]["role"], "validation");

    scratch
        .wanft()
        .current_dir(project.path())
        .args(["pack", "--force", "--model", "wan2.5-i2v-preview"])
        .assert()
        .code(0);
    assert_eq!(
        manifest("train")["created_by"]["model"],
        "wan2.5-i2v-preview"
    );
}
