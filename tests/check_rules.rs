//! One test per rule: a fixture derived from a clean bundled example that triggers it, checked
//! both as a folder and as a zip (which must agree). `clean_examples_trigger_only_notes` is the
//! other half of every test: the clean examples trigger no rule but the informational ones.

mod common;

use std::collections::BTreeSet;

use common::{Fixture, codes, ffmpeg, hard_cut, write_zip};
use serde_json::Value;
use wanft::check::{self, CheckOptions};
use wanft::dataset::ModeChoice;
use wanft::models;

/// Info rules that describe a healthy dataset rather than a problem.
const NOTES: [&str; 3] = ["M005", "M015", "M017"];

#[test]
fn clean_examples_trigger_only_notes() {
    for (name, model) in [
        ("i2v-train", "wan2.5-i2v-preview"),
        ("kf2v-train", "wan2.2-kf2v-flash"),
        ("i2v-val", "wan2.5-i2v-preview"),
    ] {
        let mut fx = Fixture::example(name);
        fx.model = model;
        let mut opts = fx.options();
        // With a validation set there is no split, so no post-split warning either.
        opts.validation_given = name == "kf2v-train";
        let found = fx.check_both_with(&opts);
        // 10 kf2v samples: a few-samples warning is expected there.
        let expected =
            |code: &str| NOTES.contains(&code) || (name == "kf2v-train" && code == "S002");
        let unexpected: Vec<_> = found.iter().filter(|f| !expected(&f.0)).collect();
        assert!(unexpected.is_empty(), "{name}: {unexpected:#?}");
    }
}

#[test]
fn every_rule_has_a_test_here() {
    let source = include_str!("check_rules.rs");
    let missing: Vec<&str> = wanft::rules::all()
        .into_iter()
        .map(|r| r.code)
        .filter(|c| !c.starts_with('H'))
        .filter(|code| !source.contains(&format!("fn {}_", code.to_lowercase())))
        .collect();
    assert!(missing.is_empty(), "rules without a test: {missing:?}");
}

// ---------------------------------------------------------------- J: data.jsonl and layout

#[test]
fn j001_manifest_missing() {
    Fixture::i2v().remove("data.jsonl").expect("J001");
}

#[test]
fn j002_manifest_nested() {
    let fx = Fixture::i2v();
    let names: Vec<String> = std::fs::read_dir(&fx.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    for n in names {
        fx.rename(&n, &format!("mydata/{n}"));
    }
    let found = fx.expect("J002");
    // Paths still resolve inside the wrapping folder: no missing files.
    assert!(!codes(&found).contains(&"P001"), "{found:#?}");
    // One wrapping folder is a warning since 2026 (spec §8.8): the dataset passes.
    let report = fx.check_with(&fx.zip(), &fx.options());
    assert_eq!(report.summary.errors, 0, "{found:#?}");
    assert!(!codes(&found).contains(&"J022"));
}

#[test]
fn j022_manifest_nested_deep() {
    // Two folders down.
    let fx = Fixture::i2v();
    let names: Vec<String> = std::fs::read_dir(&fx.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    for n in &names {
        fx.rename(n, &format!("a/b/{n}"));
    }
    let found = fx.expect("J022");
    assert!(!codes(&found).contains(&"J002"), "{found:#?}");
    // Two wrapped datasets side by side.
    let fx = Fixture::i2v();
    for n in &names {
        fx.rename(n, &format!("one/{n}"));
    }
    fx.write("two/data.jsonl", fx.read("one/data.jsonl"));
    let found = fx.expect("J022");
    assert!(
        found.iter().any(|f| f.3.contains("2 data.jsonl files")),
        "{found:#?}"
    );
}

#[test]
fn j003_manifest_too_large() {
    let fx = Fixture::i2v();
    let mut text = String::from_utf8(fx.read("data.jsonl")).unwrap();
    text.push_str(&format!("{{\"prompt\":\"{}\"}}\n", "x".repeat(21_000_000)));
    fx.set_manifest(text).expect("J003");
}

#[test]
fn j004_manifest_near_limit() {
    let fx = Fixture::i2v();
    let mut text = String::from_utf8(fx.read("data.jsonl")).unwrap();
    text.push_str(&format!("{{\"prompt\":\"{}\"}}\n", "x".repeat(20_100_000)));
    let found = fx.set_manifest(text).expect("J004");
    assert!(!codes(&found).contains(&"J003"));
}

#[test]
fn j005_manifest_not_utf8() {
    let fx = Fixture::i2v();
    let mut bytes = fx.read("data.jsonl");
    let at = bytes.iter().position(|&b| b == b'T').unwrap();
    bytes[at] = 0xC3; // a lone lead byte (Latin-1 "Ã" habits)
    let found = fx.set_manifest(bytes).expect("J005");
    let f = found.iter().find(|f| f.0 == "J005").unwrap();
    assert_eq!(f.2, Some(1));
}

#[test]
fn j006_manifest_bom() {
    let fx = Fixture::i2v();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(fx.read("data.jsonl"));
    let found = fx.set_manifest(bytes).expect("J006");
    // The BOM is reported once, and the first line is still read.
    assert!(!codes(&found).contains(&"J009"));
}

#[test]
fn j007_manifest_crlf() {
    let fx = Fixture::i2v();
    let text = String::from_utf8(fx.read("data.jsonl"))
        .unwrap()
        .replace('\n', "\r\n");
    let found = fx.set_manifest(text).expect("J007");
    assert_eq!(codes(&found).iter().filter(|c| **c == "J007").count(), 1);
}

#[test]
fn j008_manifest_json_array() {
    let fx = Fixture::i2v();
    let lines: Vec<Value> = fx.lines().into_iter().map(Value::Object).collect();
    fx.set_manifest(serde_json::to_string_pretty(&lines).unwrap())
        .expect("J008");
}

#[test]
fn j009_invalid_json() {
    let fx = Fixture::i2v();
    let mut text = String::from_utf8(fx.read("data.jsonl")).unwrap();
    text = text.replacen("\",\"first_frame_path", "\" \"first_frame_path", 1);
    let found = fx.set_manifest(text).expect("J009");
    let f = found.iter().find(|f| f.0 == "J009").unwrap();
    assert_eq!(f.2, Some(1), "line number");
}

#[test]
fn j010_line_not_object() {
    let fx = Fixture::i2v();
    let mut text = String::from_utf8(fx.read("data.jsonl")).unwrap();
    text.push_str("[\"clip01.mp4\"]\n");
    let found = fx.set_manifest(text).expect("J010");
    assert_eq!(found.iter().find(|f| f.0 == "J010").unwrap().2, Some(21));
}

#[test]
fn j011_duplicate_key() {
    let fx = Fixture::i2v();
    let mut text = String::from_utf8(fx.read("data.jsonl")).unwrap();
    text = text.replacen(
        "{\"prompt\"",
        "{\"video_path\":\"clip02.mp4\",\"prompt\"",
        1,
    );
    fx.set_manifest(text).expect("J011");
}

#[test]
fn j012_missing_field() {
    let fx = Fixture::i2v();
    fx.edit_line(3, |o| {
        o.remove("first_frame_path");
    })
    .expect("J012");
}

#[test]
fn j013_wrong_field_type() {
    let fx = Fixture::i2v();
    fx.edit_line(0, |o| {
        o.insert("prompt".into(), Value::from(42));
    })
    .expect("J013");
}

#[test]
fn j014_unknown_field() {
    let fx = Fixture::i2v();
    let found = fx
        .edit_line(0, |o| {
            o.insert("first_frame".into(), Value::from("clip01_first.jpg"));
        })
        .expect("J014");
    assert!(
        found
            .iter()
            .any(|f| f.0 == "J014" && f.3.contains("first_frame"))
    );
}

#[test]
fn j015_video_in_validation() {
    let mut fx = Fixture::example("i2v-val");
    fx.model = models::DEFAULT_MODEL;
    let clip = std::fs::read(format!("{}/examples/i2v-train/clip01.mp4", common::ROOT)).unwrap();
    fx.write("clip01.mp4", clip);
    fx.set_field(0, "video_path", "clip01.mp4");
    let mut opts = fx.options();
    opts.mode = Some(ModeChoice::Validation);
    fx.expect_with("J015", &opts);
}

#[test]
fn j016_blank_line() {
    let fx = Fixture::i2v();
    let text = String::from_utf8(fx.read("data.jsonl"))
        .unwrap()
        .replacen('\n', "\n   \n", 1);
    let found = fx.set_manifest(text).expect("J016");
    assert_eq!(found.iter().find(|f| f.0 == "J016").unwrap().2, Some(2));
}

#[test]
fn j017_mixed_modes() {
    let fx = Fixture::i2v();
    fx.edit_line(5, |o| {
        o.remove("video_path");
    })
    .expect("J017");
}

#[test]
fn j018_mode_not_trained_by_model() {
    let mut fx = Fixture::example("kf2v-train");
    fx.model = "wan2.5-i2v-preview";
    fx.expect("J018");
}

#[test]
fn j019_manifest_empty() {
    Fixture::i2v().set_manifest("").expect("J019");
}

#[test]
fn j021_manifest_too_many_lines() {
    let fx = Fixture::i2v();
    let mut text = String::from_utf8(fx.read("data.jsonl")).unwrap();
    text.push_str(&"{\"prompt\":\"x\"}\n".repeat(200_000));
    let found = fx.set_manifest(text).expect("J021");
    let f = found.iter().find(|f| f.0 == "J021").unwrap();
    assert_eq!(f.2, Some(200_001), "the first line past the cap");
}

/// The i2v example rearranged into the folders layout.
fn folders_layout() -> Fixture {
    let fx = Fixture::i2v();
    for (i, line) in fx.lines().iter().enumerate() {
        let stem = format!("clip{:02}", i + 1);
        let first = line["first_frame_path"].as_str().unwrap().to_string();
        let ext = first.rsplit('.').next().unwrap().to_string();
        fx.rename(&format!("{stem}.mp4"), &format!("videos/{stem}.mp4"));
        fx.rename(&first, &format!("first_frames/{stem}.{ext}"));
        fx.write(
            &format!("prompts/{stem}.txt"),
            line["prompt"].as_str().unwrap(),
        );
    }
    fx.remove("data.jsonl");
    fx
}

/// Checks a folders-layout fixture as a folder and as a zip: the zip reports the same findings
/// plus J001, because the platform reads data.jsonl only.
fn check_folders_layout(fx: &Fixture) -> Vec<common::Brief> {
    let opts = fx.options();
    let folder = common::briefs(&fx.check_with(&fx.root, &opts));
    let zip = common::briefs(&fx.check_with(&fx.zip(), &opts));
    let (missing, rest): (Vec<_>, Vec<_>) = zip.into_iter().partition(|f| f.0 == "J001");
    assert_eq!(missing.len(), 1, "the zip lacks data.jsonl: {missing:#?}");
    assert_eq!(folder, rest, "folder and zip disagree beyond J001");
    assert!(!codes(&folder).contains(&"J001"));
    folder
}

#[test]
fn folders_layout_is_read_like_the_manifest() {
    let fx = folders_layout();
    let found = check_folders_layout(&fx);
    let bad: Vec<_> = found
        .iter()
        .filter(|f| !NOTES.contains(&f.0.as_str()) && f.0 != "P014")
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let report = check::run(&fx.root, &fx.options()).unwrap();
    assert_eq!(report.dataset.samples.len(), 20);
    // The generated data.jsonl references the folders' files.
    let text = String::from_utf8(report.dataset.normalized_manifest()).unwrap();
    assert!(
        text.contains("\"video_path\":\"videos/clip01.mp4\""),
        "{text}"
    );
    assert!(
        text.contains("\"first_frame_path\":\"first_frames/clip01.jpg\""),
        "{text}"
    );
}

#[test]
fn j020_unmatched_stem() {
    let fx = folders_layout();
    fx.remove("first_frames/clip04.png");
    let found = check_folders_layout(&fx);
    let f = found.iter().find(|f| f.0 == "J020").expect("J020");
    assert_eq!(f.1.as_deref(), Some("videos/clip04.mp4"));
}

// ---------------------------------------------------------------- P: paths and members

#[test]
fn p001_file_not_found() {
    let fx = Fixture::i2v();
    fx.set_field(2, "video_path", "nowhere.mp4").expect("P001");
}

#[test]
fn p001_hint_names_a_file_found_elsewhere() {
    let fx = Fixture::i2v();
    fx.rename("clip03.mp4", "video/clip03.mp4");
    let report = check::run(&fx.root, &fx.options()).unwrap();
    let f = report
        .findings
        .iter()
        .find(|f| f.rule.code == "P001")
        .unwrap();
    assert!(f.effective_hint().contains("video/clip03.mp4"), "{f:?}");
}

#[test]
fn p001_hint_suggests_a_near_name() {
    let fx = Fixture::i2v();
    fx.set_field(2, "video_path", "clip3.mp4");
    let report = check::run(&fx.root, &fx.options()).unwrap();
    let f = report
        .findings
        .iter()
        .find(|f| f.rule.code == "P001")
        .unwrap();
    assert_eq!(f.effective_hint(), "did you mean clip03.mp4?");
}

#[test]
fn p002_path_case_mismatch() {
    let fx = Fixture::i2v();
    let found = fx.set_field(0, "video_path", "CLIP01.mp4").expect("P002");
    assert!(!codes(&found).contains(&"P001"));
}

#[test]
fn p003_path_extension_mismatch() {
    let fx = Fixture::i2v();
    fx.set_field(0, "first_frame_path", "clip01_first.jpeg")
        .expect("P003");
}

#[test]
fn p004_absolute_path() {
    Fixture::i2v()
        .set_field(0, "video_path", "/home/me/clip01.mp4")
        .expect("P004");
}

#[test]
fn p005_parent_dir_path() {
    Fixture::i2v()
        .set_field(0, "video_path", "../clip01.mp4")
        .expect("P005");
}

#[test]
fn p006_backslash_path() {
    let fx = Fixture::i2v();
    fx.rename("clip01.mp4", "video/clip01.mp4");
    fx.set_field(0, "video_path", "video\\clip01.mp4")
        .expect("P006");
}

#[test]
fn p007_url_path() {
    Fixture::i2v()
        .set_field(0, "video_path", "https://example.com/clip01.mp4")
        .expect("P007");
}

#[test]
fn p008_dot_slash_path() {
    let found = Fixture::i2v()
        .set_field(0, "video_path", "./clip01.mp4")
        .expect("P008");
    assert!(!codes(&found).contains(&"P001"), "./ paths still resolve");
}

#[test]
fn p009_unsafe_file_name() {
    let fx = Fixture::i2v();
    fx.rename("clip01.mp4", "clip 01 (copy).mp4");
    fx.set_field(0, "video_path", "clip 01 (copy).mp4")
        .expect("P009");
}

#[test]
fn p010_symlink_outside() {
    let fx = Fixture::i2v();
    let outside = fx.root.parent().unwrap().join("outside.mp4");
    std::fs::rename(fx.path("clip01.mp4"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, fx.path("clip01.mp4")).unwrap();
    // Folder only: a zip cannot hold a link that leaves it.
    let report = check::run(&fx.root, &fx.options()).unwrap();
    assert!(report.findings.has("P010"));
    // The outside file is neither probed nor planned for the zip.
    assert!(!report.media.contains_key("clip01.mp4"));
    assert!(
        report
            .pack_plan
            .media
            .iter()
            .all(|(m, _)| m.name != "clip01.mp4")
    );
}

#[test]
fn p010_symlink_inside_is_followed() {
    let fx = Fixture::i2v();
    fx.rename("clip01.mp4", "store/clip01.mp4");
    std::os::unix::fs::symlink("store/clip01.mp4", fx.path("clip01.mp4")).unwrap();
    let report = check::run(&fx.root, &fx.options()).unwrap();
    assert!(!report.findings.has("P010") && !report.findings.has("P001"));
}

#[test]
fn p011_referenced_twice() {
    Fixture::i2v()
        .set_field(1, "first_frame_path", "clip01_first.jpg")
        .expect("P011");
}

#[test]
fn p012_unreferenced_file() {
    let found = Fixture::i2v().write("leftover.jpg", b"x").expect("P012");
    assert!(
        found
            .iter()
            .any(|f| f.0 == "P012" && f.1.as_deref() == Some("leftover.jpg"))
    );
}

#[test]
fn p013_os_debris() {
    let fx = Fixture::i2v();
    fx.write(".DS_Store", b"\0\0\0\x01Bud1");
    fx.write("__MACOSX/._clip01.mp4", b"\0\x05\x16\x07");
    fx.write("__MACOSX/._clip02.mp4", b"\0\x05\x16\x07");
    let found = fx.expect("P013");
    let debris: Vec<_> = found.iter().filter(|f| f.0 == "P013").collect();
    assert_eq!(debris.len(), 2, "one finding per debris root: {debris:#?}");
    assert!(!codes(&found).contains(&"P012"));
}

#[test]
fn p014_subfolder_in_i2v() {
    let fx = Fixture::i2v();
    fx.rename("clip01.mp4", "video/clip01.mp4");
    fx.set_field(0, "video_path", "video/clip01.mp4")
        .expect("P014");
}

#[test]
fn p015_hostile_member_name() {
    let fx = Fixture::i2v();
    let zip = fx.root.with_extension("zip");
    let mut members = vec![("data.jsonl".to_string(), fx.read("data.jsonl"))];
    members.push(("../evil.sh".to_string(), b"rm -rf ~".to_vec()));
    members.push(("/etc/cron.d/x".to_string(), b"x".to_vec()));
    write_zip(&zip, &members);
    let report = check::run(&zip, &fx.options()).unwrap();
    let hostile: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule.code == "P015")
        .collect();
    assert_eq!(hostile.len(), 2, "{:#?}", report.findings);
}

#[test]
fn p016_wrong_media_kind() {
    Fixture::i2v()
        .set_field(0, "first_frame_path", "clip01.mp4")
        .expect("P016");
}

#[test]
fn p017_empty_path() {
    Fixture::i2v().set_field(0, "video_path", "").expect("P017");
}

#[test]
fn p018_duplicate_member() {
    let fx = Fixture::i2v();
    let zip = fx.root.with_extension("zip");
    let members = vec![
        ("data.jsonl".to_string(), fx.read("data.jsonl")),
        ("aa.jpg".to_string(), b"one".to_vec()),
        ("ab.jpg".to_string(), b"two".to_vec()),
    ];
    write_zip(&zip, &members);
    // Rename the second member to the first one's name in both headers.
    let mut bytes = std::fs::read(&zip).unwrap();
    let mut i = 0;
    while let Some(p) = bytes[i..].windows(6).position(|w| w == b"ab.jpg") {
        bytes[i + p + 1] = b'a';
        i += p + 6;
    }
    std::fs::write(&zip, bytes).unwrap();
    let report = check::run(&zip, &fx.options()).unwrap();
    assert!(report.findings.has("P018"), "{:#?}", report.findings);
}

// ---------------------------------------------------------------- M: media

/// Makes a clip with ffmpeg's test source into the fixture and references it from line `i`.
fn with_clip(fx: &Fixture, i: usize, name: &str, extra: &[&str]) {
    let out = fx.path(name);
    let mut args: Vec<&str> = vec!["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=16"];
    args.extend_from_slice(extra);
    let out_str = out.to_str().unwrap();
    args.push(out_str);
    ffmpeg(&args);
    fx.set_field(i, "video_path", name);
}

#[test]
fn m001_image_format_unsupported() {
    let fx = Fixture::i2v();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240",
        "-frames:v",
        "1",
        fx.path("first.gif").to_str().unwrap(),
    ]);
    fx.set_field(0, "first_frame_path", "first.gif")
        .expect("M001");
}

#[test]
fn m002_extension_content_mismatch() {
    let fx = Fixture::i2v();
    fx.rename("clip02_first.png", "clip02_first.jpg");
    fx.set_field(1, "first_frame_path", "clip02_first.jpg")
        .expect("M002");
}

#[test]
fn m003_video_format_unsupported() {
    let fx = Fixture::i2v();
    with_clip(&fx, 0, "clip01.mkv", &["-t", "3", "-c:v", "libx264"]);
    fx.remove("clip01.mp4");
    fx.expect("M003");
}

#[test]
fn m004_resolution_too_large() {
    let fx = Fixture::i2v();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=blue:size=4112x256",
        "-frames:v",
        "1",
        fx.path("wide.png").to_str().unwrap(),
    ]);
    fx.set_field(0, "first_frame_path", "wide.png")
        .expect("M004");
}

#[test]
fn m005_over_max_pixels() {
    let fx = Fixture::i2v();
    fx.expect("M005"); // 320×240 clips are above wan2.5's 36864 pixels
    let mut opts = CheckOptions::new(models::find("wan2.2-i2v-flash").unwrap());
    opts.max_pixels = Some(262_144);
    let found = fx.check_both_with(&opts);
    assert!(!codes(&found).contains(&"M005"), "{found:#?}");
}

#[test]
fn m006_resolution_too_small() {
    let fx = Fixture::i2v();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=100x100",
        "-frames:v",
        "1",
        fx.path("tiny.jpg").to_str().unwrap(),
    ]);
    fx.set_field(0, "first_frame_path", "tiny.jpg")
        .expect("M006");
}

#[test]
fn m007_clip_too_long() {
    let fx = Fixture::i2v();
    with_clip(
        &fx,
        0,
        "long.mp4",
        &["-t", "11", "-c:v", "libx264", "-preset", "ultrafast"],
    );
    fx.remove("clip01.mp4");
    fx.expect("M007");
}

/// A lossless cut of `seconds` from `start` of a 14 s clip with a keyframe every 4 s: it keeps
/// the samples back to the keyframe before `start` and hides them with an edit list.
fn with_lossless_cut(fx: &Fixture, i: usize, name: &str, start: f64, seconds: f64) {
    let source = fx.path("source.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=16:duration=14",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "64",
        source.to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-ss",
        &start.to_string(),
        "-i",
        source.to_str().unwrap(),
        "-t",
        &seconds.to_string(),
        "-c",
        "copy",
        fx.path(name).to_str().unwrap(),
    ]);
    fx.remove("source.mp4");
    fx.set_field(i, "video_path", name);
}

/// The duration rules follow the presented duration, not the hidden samples (spec §8.12).
#[test]
fn m007_m008_follow_the_edit_list_of_a_lossless_cut() {
    let fx = Fixture::i2v();
    // 9 s shown from 3.9 s: 12.9 s of samples, 9 s played. Not over wan2.5's 10 s.
    with_lossless_cut(&fx, 0, "cut9.mp4", 3.9, 9.0);
    // 1.6 s shown from 7.3 s: 3.3 s of samples. Under the recommended 2 s.
    with_lossless_cut(&fx, 1, "cut1.mp4", 7.3, 1.6);
    fx.remove("clip01.mp4").remove("clip02.mp4");
    let report = fx.check_with(&fx.root, &fx.options());
    let duration = |name: &str| match report.media[name].result.as_ref().unwrap() {
        wanft::media::MediaInfo::Video(v) => (v.duration_s.unwrap(), v.media_duration_s.unwrap()),
        other => panic!("{other:?}"),
    };
    let (played, stored) = duration("cut9.mp4");
    assert!(
        (played - 9.0).abs() < 0.07 && stored > 12.0,
        "{played} {stored}"
    );
    let (played, stored) = duration("cut1.mp4");
    assert!(
        (played - 1.6).abs() < 0.07 && stored > 3.0,
        "{played} {stored}"
    );
    let found = fx.check_both();
    let on = |code: &str, file: &str| {
        found
            .iter()
            .any(|f| f.0 == code && f.1.as_deref() == Some(file))
    };
    assert!(!on("M007", "cut9.mp4"), "{found:#?}");
    assert!(on("M008", "cut1.mp4"), "{found:#?}");
    assert!(!on("M008", "cut9.mp4"), "{found:#?}");
}

#[test]
fn m008_clip_too_short() {
    let fx = Fixture::i2v();
    with_clip(&fx, 0, "short.mp4", &["-t", "1.5", "-c:v", "libx264"]);
    fx.remove("clip01.mp4");
    fx.expect("M008");
}

#[test]
fn m009_codec_not_h264() {
    let fx = Fixture::i2v();
    with_clip(
        &fx,
        0,
        "hevc.mp4",
        &[
            "-t",
            "3",
            "-c:v",
            "libx265",
            "-tag:v",
            "hvc1",
            "-x265-params",
            "log-level=error",
        ],
    );
    fx.remove("clip01.mp4");
    let found = fx.expect("M009");
    assert!(
        found.iter().any(|f| f.0 == "M009" && f.3.contains("HEVC")),
        "{found:#?}"
    );
}

#[test]
fn m010_media_unreadable() {
    let fx = Fixture::i2v();
    fx.write("clip01.mp4", b"");
    fx.write(
        "clip02.mp4",
        (0..5000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    );
    let found = fx.expect("M010");
    let files: BTreeSet<_> = found
        .iter()
        .filter(|f| f.0 == "M010")
        .filter_map(|f| f.1.clone())
        .collect();
    assert_eq!(
        files,
        BTreeSet::from(["clip01.mp4".to_string(), "clip02.mp4".to_string()])
    );
}

#[test]
fn m011_media_truncated() {
    let fx = Fixture::i2v();
    let clip = fx.read("clip01.mp4");
    fx.write("clip01.mp4", &clip[..clip.len() / 2]);
    let jpg = fx.read("clip03_first.jpg");
    fx.write("clip03_first.jpg", &jpg[..jpg.len() * 3 / 4]);
    let found = fx.expect("M011");
    assert_eq!(
        found.iter().filter(|f| f.0 == "M011").count(),
        2,
        "{found:#?}"
    );
}

#[test]
fn m012_frame_aspect_mismatch() {
    let fx = Fixture::i2v();
    // clip02 is portrait (240×320); give clip01 (landscape) its first frame.
    fx.set_field(0, "first_frame_path", "clip02_first.png");
    fx.expect("M012");
}

#[test]
fn m013_no_video_track() {
    let fx = Fixture::i2v();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3",
        "-c:a",
        "aac",
        fx.path("clip01.mp4").to_str().unwrap(),
    ]);
    fx.expect("M013");
}

#[test]
fn m014_timing_unknown() {
    let fx = Fixture::i2v();
    // Zero the video track's media timescale: duration and frame rate become unknowable.
    let mut clip = fx.read("clip01.mp4");
    let mdhd = clip.windows(4).position(|w| w == b"mdhd").unwrap();
    let version = clip[mdhd + 4];
    let timescale_at = mdhd + 8 + if version == 1 { 16 } else { 8 };
    clip[timescale_at..timescale_at + 4].copy_from_slice(&[0, 0, 0, 0]);
    let mvhd = clip.windows(4).position(|w| w == b"mvhd").unwrap();
    let version = clip[mvhd + 4];
    let timescale_at = mvhd + 8 + if version == 1 { 16 } else { 8 };
    clip[timescale_at..timescale_at + 4].copy_from_slice(&[0, 0, 0, 0]);
    fx.write("clip01.mp4", clip);
    fx.expect("M014");
}

#[test]
fn m015_frame_rates() {
    Fixture::i2v().expect("M015");
    let mut val = Fixture::example("i2v-val");
    val.model = models::DEFAULT_MODEL;
    assert!(!codes(&val.check_both()).contains(&"M015"));
}

#[test]
fn m016_decode_error() {
    let fx = Fixture::i2v();
    // Scramble the middle of the sample data; the headers stay intact.
    let mut clip = fx.read("clip05.mp4");
    let mdat = clip.windows(4).position(|w| w == b"mdat").unwrap();
    let start = mdat + 200;
    let end = (start + 1500).min(clip.len() - 16);
    for (i, b) in clip[start..end].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31) ^ 0x5A;
    }
    fx.write("clip05.mp4", clip);
    let shallow = fx.check_both();
    assert!(!codes(&shallow).contains(&"M016"));
    let mut opts = fx.options();
    opts.deep = true;
    fx.expect_with("M016", &opts);
}

#[test]
fn m017_clip_longer_than_output() {
    let fx = Fixture::i2v();
    with_clip(
        &fx,
        0,
        "seven.mp4",
        &["-t", "7", "-c:v", "libx264", "-preset", "ultrafast"],
    );
    fx.remove("clip01.mp4");
    let found = fx.expect("M017");
    assert!(!codes(&found).contains(&"M007"));
}

#[test]
fn m018_rotated_clip() {
    let fx = Fixture::i2v();
    ffmpeg(&[
        "-i",
        fx.path("clip01.mp4").to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        fx.path("rotated.mp4").to_str().unwrap(),
    ]);
    fx.set_field(0, "video_path", "rotated.mp4");
    fx.remove("clip01.mp4");
    let found = fx.expect("M018");
    // Displayed 240×320 against a 320×240 first frame.
    assert!(codes(&found).contains(&"M012"), "{found:#?}");
}

/// The offset of the first `kind` box at or after `from` in `bytes` (its type field minus 4).
fn box_at(bytes: &[u8], kind: &[u8; 4], from: usize) -> usize {
    from + bytes[from..]
        .windows(4)
        .position(|w| w == kind)
        .unwrap_or_else(|| panic!("no {kind:?} box"))
        - 4
}

/// Multiplies the video track's media header duration by 3: the sample table no longer adds up.
fn stretch_track_header(clip: &mut [u8]) {
    let mdhd = box_at(clip, b"mdhd", 0);
    assert_eq!(clip[mdhd + 8], 0, "version 0 mdhd");
    let at = mdhd + 8 + 16;
    let duration = u32::from_be_bytes(clip[at..at + 4].try_into().unwrap());
    clip[at..at + 4].copy_from_slice(&(duration * 3).to_be_bytes());
}

#[test]
fn m019_timing_damaged() {
    let fx = Fixture::i2v();
    let mut clip = fx.read("clip01.mp4");
    stretch_track_header(&mut clip);
    fx.write("clip01.mp4", clip);
    let found = fx.expect("M019");
    assert!(
        found
            .iter()
            .any(|f| f.0 == "M019" && f.3.contains("add up to")),
        "{found:#?}"
    );
}

#[test]
fn m020_encrypted_track() {
    let fx = Fixture::i2v();
    let mut clip = fx.read("clip01.mp4");
    let entry = box_at(&clip, b"avc1", box_at(&clip, b"stsd", 0));
    clip[entry + 4..entry + 8].copy_from_slice(b"encv");
    fx.write("clip01.mp4", clip);
    fx.expect("M020");
}

#[test]
fn m021_codec_config_invalid() {
    let fx = Fixture::i2v();
    let mut clip = fx.read("clip01.mp4");
    let avcc = box_at(&clip, b"avcC", 0);
    clip[avcc + 8] = 0; // configuration version 0 does not exist
    fx.write("clip01.mp4", clip);
    let found = fx.expect("M021");
    assert!(
        found.iter().any(|f| f.3.contains("version 0")),
        "{found:#?}"
    );
}

#[test]
fn m022_container_duration_differs() {
    let fx = Fixture::i2v();
    // 3 s of video, 5 s of audio.
    with_clip(
        &fx,
        0,
        "long_audio.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=duration=5",
            "-vf",
            "trim=duration=3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
        ],
    );
    fx.remove("clip01.mp4");
    let found = fx.expect("M022");
    let message = &found.iter().find(|f| f.0 == "M022").unwrap().3;
    assert!(message.contains("billed as 3.00 s"), "{message}");
}

#[test]
fn m023_exif_rotated_image() {
    let fx = Fixture::i2v();
    // clip01's first frame, turned 90° by an EXIF orientation of 6.
    let jpeg = fx.read("clip01_first.jpg");
    let mut tiff = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0".to_vec();
    tiff.extend_from_slice(&[0; 4]);
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend(tiff);
    fx.write(
        "clip01_first.jpg",
        [&jpeg[..2], &app1[..], &jpeg[2..]].concat(),
    );
    let found = fx.expect("M023");
    // As stored it still matches its clip: both readings are considered, no aspect warning.
    assert!(!codes(&found).contains(&"M012"), "{found:#?}");
    // A frame that matches its clip in neither reading is still reported.
    fx.set_field(0, "first_frame_path", "clip02_first.png");
    fx.expect("M012");
}

#[test]
fn m024_edit_list_gap() {
    let fx = Fixture::i2v();
    // Delayed by 1 s, copied: the muxer writes an empty edit before the video.
    ffmpeg(&[
        "-itsoffset",
        "1",
        "-i",
        fx.path("clip01.mp4").to_str().unwrap(),
        "-c",
        "copy",
        fx.path("late.mp4").to_str().unwrap(),
    ]);
    fx.set_field(0, "video_path", "late.mp4");
    fx.remove("clip01.mp4");
    let found = fx.expect("M024");
    assert!(
        found.iter().any(|f| f.3.contains("first 1.00 s")),
        "{found:#?}"
    );
}

#[test]
fn m025_variable_frame_rate() {
    let fx = Fixture::i2v();
    // 30 fps for a second, then 15 fps.
    with_clip(
        &fx,
        0,
        "vfr.mp4",
        &[
            "-t",
            "3",
            "-vf",
            "setpts='if(lt(N,16),N/16,1+(N-16)/8)/TB'",
            "-fps_mode",
            "vfr",
            "-video_track_timescale",
            "90000",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    fx.remove("clip01.mp4");
    fx.expect("M025");
}

#[test]
fn m026_deep_timing_disagrees() {
    let fx = Fixture::i2v();
    // The header and the edit list both claim three times the samples' length.
    let mut clip = fx.read("clip03.mp4");
    stretch_track_header(&mut clip);
    let elst = box_at(&clip, b"elst", 0);
    assert_eq!(&clip[elst + 8..elst + 16], &[0, 0, 0, 0, 0, 0, 0, 1]);
    let at = elst + 16;
    let duration = u32::from_be_bytes(clip[at..at + 4].try_into().unwrap());
    clip[at..at + 4].copy_from_slice(&(duration * 3).to_be_bytes());
    fx.write("clip03.mp4", clip);
    assert!(!codes(&fx.check_both()).contains(&"M026"));
    let mut opts = fx.options();
    opts.deep = true;
    let found = fx.expect_with("M026", &opts);
    let message = &found.iter().find(|f| f.0 == "M026").unwrap().3;
    assert!(message.contains("decoded frames span"), "{message}");
}

#[test]
fn m010_invalid_image_header_fields() {
    // Header fields no decoder accepts are errors without --deep (issue 11).
    let fx = Fixture::i2v();
    let mut png = fx.read("clip02_first.png");
    png[24] = 3; // IHDR bit depth 3
    fx.write("clip02_first.png", png);
    let mut jpeg = fx.read("clip01_first.jpg");
    let sof = (2..jpeg.len() - 1)
        .find(|&i| jpeg[i] == 0xFF && matches!(jpeg[i + 1], 0xC0 | 0xC2))
        .unwrap();
    jpeg[sof + 9] = 0; // no colour components
    fx.write("clip01_first.jpg", jpeg);
    let found = fx.expect("M010");
    let files: BTreeSet<_> = found
        .iter()
        .filter(|f| f.0 == "M010")
        .filter_map(|f| f.1.clone())
        .collect();
    assert_eq!(
        files,
        BTreeSet::from([
            "clip01_first.jpg".to_string(),
            "clip02_first.png".to_string()
        ]),
        "{found:#?}"
    );
}

// ---------------------------------------------------------------- T: prompts

#[test]
fn t001_empty_prompt() {
    Fixture::i2v().set_field(4, "prompt", "   ").expect("T001");
}

#[test]
fn t002_prompt_too_long() {
    let fx = Fixture::i2v();
    let long = format!(
        "The video begins showing {}",
        "a very long caption ".repeat(80)
    );
    fx.set_field(4, "prompt", &long).expect("T002");
}

#[test]
fn t003_missing_trigger() {
    let fx = Fixture::i2v();
    let p = fx.lines()[2]["prompt"]
        .as_str()
        .unwrap()
        .replace("v7nq2r ", "");
    fx.set_field(2, "prompt", &p);
    let mut opts = fx.options();
    opts.trigger = Some("v7nq2r".into());
    let found = fx.expect_with("T003", &opts);
    assert_eq!(found.iter().filter(|f| f.0 == "T003").count(), 1);
}

#[test]
fn t004_effect_sentence_differs() {
    let fx = Fixture::i2v();
    let p = fx.lines()[6]["prompt"]
        .as_str()
        .unwrap()
        .replace("drift outward", "float away");
    fx.set_field(6, "prompt", &p);
    let found = fx.expect("T004");
    let f = found.iter().find(|f| f.0 == "T004").unwrap();
    assert_eq!(f.2, Some(7));
    // With the trigger configured, the same line is caught the same way.
    let mut opts = fx.options();
    opts.trigger = Some("v7nq2r".into());
    fx.expect_with("T004", &opts);
}

#[test]
fn t004_validation_prompts_follow_the_training_effect() {
    let training = Fixture::i2v();
    let effect = check::run(&training.root, &training.options())
        .unwrap()
        .effect_sentence
        .expect("the training set's effect sentence");
    assert!(
        effect.starts_with("Then the v7nq2r ripple shatter effect begins"),
        "{effect}"
    );

    let mut val = Fixture::example("i2v-val");
    val.model = models::DEFAULT_MODEL;
    let mut opts = val.options();
    opts.mode = Some(ModeChoice::Validation);
    opts.effect = Some(effect);
    // Three lines are too few to infer an effect on their own; held to the training set's, the
    // clean validation set passes and a deviating line is caught.
    assert!(!codes(&val.check_both_with(&opts)).contains(&"T004"));
    let p = val.lines()[1]["prompt"]
        .as_str()
        .unwrap()
        .replace("slow motion", "real time");
    val.set_field(1, "prompt", &p);
    let found = val.expect_with("T004", &opts);
    let f = found.iter().find(|f| f.0 == "T004").unwrap();
    assert_eq!(f.2, Some(2));
    assert!(f.3.contains("the training set's prompts"), "{f:?}");
}

#[test]
fn t005_common_word_trigger() {
    let fx = Fixture::i2v();
    let mut opts = fx.options();
    opts.trigger = Some("ripple".into());
    assert!(!codes(&fx.check_both_with(&opts)).contains(&"T005"));
    opts.trigger = Some("Fire".into());
    fx.expect_with("T005", &opts);
}

#[test]
fn t006_no_shared_effect() {
    let fx = Fixture::i2v();
    for i in 0..20 {
        fx.set_field(
            i,
            "prompt",
            &format!("Sample number {i} shows something else {}", i * 7),
        );
    }
    fx.expect("T006");
}

// ---------------------------------------------------------------- S: counts and sizes

fn keep_lines(fx: &Fixture, n: usize) {
    let lines = fx.lines();
    fx.set_lines(&lines[..n]);
    // Remove the media of the dropped lines so they are not reported as unreferenced.
    for l in &lines[n..] {
        fx.remove(l["video_path"].as_str().unwrap());
        fx.remove(l["first_frame_path"].as_str().unwrap());
    }
}

#[test]
fn s001_too_few_samples() {
    let fx = Fixture::i2v();
    keep_lines(&fx, 5);
    fx.expect("S001");
}

#[test]
fn s002_few_samples() {
    let fx = Fixture::i2v();
    keep_lines(&fx, 12);
    let found = fx.expect("S002");
    assert!(!codes(&found).contains(&"S001"));
}

#[test]
fn s003_many_samples() {
    let fx = Fixture::i2v();
    let lines = fx.lines();
    let many: Vec<_> = lines.iter().cycle().take(101).cloned().collect();
    fx.set_lines(&many);
    fx.expect("S003");
}

#[test]
fn s004_few_after_split() {
    let fx = Fixture::i2v();
    keep_lines(&fx, 10);
    let found = fx.expect("S004");
    assert!(
        found
            .iter()
            .any(|f| f.0 == "S004" && f.3.contains("leaving 9"))
    );
    let mut opts = fx.options();
    opts.validation_given = true;
    assert!(!codes(&fx.check_both_with(&opts)).contains(&"S004"));
}

/// A sparse file of `len` bytes referenced as clip01's video (folders only: zipping a sparse
/// gigabyte in a test is needless work; the zip case uses the archive's own size).
fn with_sparse_clip(len: u64) -> Fixture {
    let fx = Fixture::i2v();
    let f = std::fs::File::create(fx.path("clip01.mp4")).unwrap();
    f.set_len(len).unwrap();
    fx
}

#[test]
fn s005_zip_too_large() {
    let fx = with_sparse_clip(1_100_000_000);
    let report = check::run(&fx.root, &fx.options()).unwrap();
    assert!(report.findings.has("S005"));
    let f = report
        .findings
        .iter()
        .find(|f| f.rule.code == "S005")
        .unwrap();
    assert!(
        f.message.contains("clip01.mp4"),
        "names the largest file: {f:?}"
    );
}

#[test]
fn s006_zip_near_limit() {
    let fx = with_sparse_clip(1_010_000_000);
    let report = check::run(&fx.root, &fx.options()).unwrap();
    assert!(report.findings.has("S006") && !report.findings.has("S005"));
}

// ---------------------------------------------------------------- Z: zip archive structure

/// The hostile variant of the i2v example that `code` must refuse: checked, it reports `code`
/// and nothing but `Z` findings (the archive is not read further).
fn refused_zip(code: &str) -> wanft::rules::Findings {
    let fx = Fixture::i2v();
    let hostile = common::raw_zip::hostile_corpus(&fx.root)
        .into_iter()
        .find(|h| h.code == code)
        .unwrap_or_else(|| panic!("no {code} in the corpus"));
    let zip = fx.root.with_extension("zip");
    std::fs::write(&zip, &hostile.bytes).unwrap();
    let report = check::run(&zip, &fx.options()).expect("check runs");
    assert!(
        report.findings.has(code),
        "{}: {:#?}",
        hostile.label,
        report.findings
    );
    assert!(report.has_errors());
    report.findings
}

/// Only `Z` findings: nothing of the refused archive was read.
fn only_archive_findings(findings: &wanft::rules::Findings) {
    let others: Vec<_> = findings
        .iter()
        .filter(|f| !f.rule.code.starts_with('Z'))
        .collect();
    assert!(others.is_empty(), "{others:#?}");
}

#[test]
fn z001_zip_overlapping_members() {
    let findings = refused_zip("Z001");
    only_archive_findings(&findings);
    let f = findings.iter().find(|f| f.rule.code == "Z001").unwrap();
    assert!(f.message.contains("shares bytes with `bomb.bin`"), "{f:?}");
}

#[test]
fn z002_zip_name_mismatch() {
    let findings = refused_zip("Z002");
    only_archive_findings(&findings);
    let f = findings.iter().find(|f| f.rule.code == "Z002").unwrap();
    assert_eq!(f.location.file.as_deref(), Some("clip01.mp4"));
    assert!(f.message.contains("`clip99.mp4`"), "{f:?}");
}

#[test]
fn z003_zip_data_damaged() {
    // data.jsonl is read whole, so its CRC-32 is checked without --deep.
    let findings = refused_zip("Z003");
    let f = findings.iter().find(|f| f.rule.code == "Z003").unwrap();
    assert_eq!(f.location.file.as_deref(), Some("data.jsonl"));
    assert!(f.message.contains("CRC-32"), "{f:?}");
    // A member whose data ends before its declared size is damaged too.
    let fx = Fixture::i2v();
    let mut members = common::raw_zip::members_of(&fx.root);
    let manifest = members
        .iter()
        .position(|m| m.name == b"data.jsonl")
        .unwrap();
    members[manifest].uncompressed_size += 10;
    let zip = fx.root.with_extension("zip");
    std::fs::write(&zip, common::raw_zip::build(&members)).unwrap();
    let report = check::run(&zip, &fx.options()).unwrap();
    let f = report.findings.iter().find(|f| f.rule.code == "Z003");
    assert!(
        f.is_some_and(|f| f.message.contains("ends after")),
        "{:#?}",
        report.findings
    );
    // A clip is only read whole by --deep, which checks its CRC-32: stored (decoded in place)
    // and deflated (staged) alike.
    for deflate in [false, true] {
        // Only the clip and what references it: the other lines' files are missing (P001),
        // which keeps the decode short.
        let mut members = common::raw_zip::members_of(&fx.root);
        members.retain(|m| m.name == b"data.jsonl" || m.name.starts_with(b"clip04"));
        let clip = members
            .iter()
            .position(|m| m.name == b"clip04.mp4")
            .unwrap();
        if deflate {
            let bytes = fx.read("clip04.mp4");
            members[clip] = common::raw_zip::RawMember::deflated("clip04.mp4", &bytes);
        }
        members[clip].crc32 ^= 1;
        std::fs::write(&zip, common::raw_zip::build(&members)).unwrap();
        let shallow = check::run(&zip, &fx.options()).unwrap();
        assert!(
            !shallow.findings.has("Z003"),
            "headers only: not read whole"
        );
        let mut opts = fx.options();
        opts.deep = true;
        let deep = check::run(&zip, &opts).unwrap();
        let found: Vec<_> = deep
            .findings
            .iter()
            .filter(|f| f.location.file.as_deref() == Some("clip04.mp4"))
            .map(|f| f.rule.code)
            .collect();
        assert_eq!(found, ["Z003"], "deflated: {deflate}");
    }
}

#[test]
fn z004_zip_control_characters() {
    let findings = refused_zip("Z004");
    only_archive_findings(&findings);
    let f = findings.iter().find(|f| f.rule.code == "Z004").unwrap();
    assert_eq!(f.location.file.as_deref(), Some("clip01.mp4\\0.txt"));
}

#[test]
fn z005_zip_too_many_members() {
    let fx = Fixture::i2v();
    let zip = fx.root.with_extension("zip");
    common::raw_zip::write_many_members(&zip, 100_001);
    let report = check::run(&zip, &fx.options()).unwrap();
    assert!(report.findings.has("Z005"), "{:#?}", report.findings);
    only_archive_findings(&report.findings);
    assert!(report.dataset.source.entries().is_empty());
}

#[test]
fn z006_zip_inflated_too_large() {
    let findings = refused_zip("Z006");
    only_archive_findings(&findings);
    assert!(
        !findings.has("Z007"),
        "each member is under the ratio floor"
    );
}

#[test]
fn z007_zip_compression_ratio() {
    let findings = refused_zip("Z007");
    only_archive_findings(&findings);
    let f = findings.iter().find(|f| f.rule.code == "Z007").unwrap();
    assert_eq!(f.location.file.as_deref(), Some("z.bin"));
}

#[test]
fn z008_zip_broken_member() {
    let findings = refused_zip("Z008");
    only_archive_findings(&findings);
    let f = findings.iter().find(|f| f.rule.code == "Z008").unwrap();
    assert!(f.message.contains("no local header"), "{f:?}");
}

#[test]
fn z009_zip_name_too_long() {
    let findings = refused_zip("Z009");
    only_archive_findings(&findings);
}

// ---------------------------------------------------------------- D: decoded pictures (--deep)

/// The first `n` samples of the i2v example, checked with `--deep`.
fn deep_fixture(n: usize) -> (Fixture, CheckOptions<'static>) {
    let fx = Fixture::i2v();
    keep_lines(&fx, n);
    let mut opts = fx.options();
    opts.deep = true;
    (fx, opts)
}

/// The message of the `code` finding about `file`.
fn message_of<'a>(found: &'a [common::Brief], code: &str, file: &str) -> &'a str {
    &found
        .iter()
        .find(|f| f.0 == code && f.1.as_deref() == Some(file))
        .unwrap_or_else(|| panic!("no {code} on {file}: {found:#?}"))
        .3
}

/// `ffmpeg -i IN ARGS OUT` inside the fixture.
fn derive(fx: &Fixture, input: &str, args: &[&str], out: &str) {
    let (input, out) = (fx.path(input), fx.path(out));
    let mut all = vec!["-i", input.to_str().unwrap()];
    all.extend_from_slice(args);
    all.push(out.to_str().unwrap());
    ffmpeg(&all);
}

#[test]
fn clean_examples_trigger_no_decode_rule() {
    let model = |name: &str| models::find(name).unwrap();
    let mut training_index = None;
    for (name, model_name) in [
        ("i2v-train", "wan2.5-i2v-preview"),
        ("kf2v-train", "wan2.2-kf2v-flash"),
        ("i2v-val", "wan2.5-i2v-preview"),
    ] {
        let mut opts = CheckOptions::new(model(model_name));
        opts.deep = true;
        if name == "i2v-val" {
            opts.analysis.training = training_index.clone();
        }
        let path = std::path::Path::new(common::ROOT)
            .join("examples")
            .join(name);
        let report = check::run(&path, &opts).unwrap();
        let deep: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule.code.starts_with('D') || f.rule.code == "M016")
            .collect();
        assert!(deep.is_empty(), "{name}: {deep:#?}");
        let analysis = report.deep.as_ref().unwrap();
        assert_eq!(
            analysis.frame_checks.len(),
            report.dataset.samples.len() * {
                if name == "kf2v-train" {
                    2
                } else if name == "i2v-val" {
                    0
                } else {
                    1
                }
            }
        );
        if name == "i2v-train" {
            training_index = Some(analysis.index.clone());
        }
    }
}

#[test]
fn d001_first_frame_mismatch() {
    let (fx, opts) = deep_fixture(5);
    // Line 1: frame 30 of its clip; line 2: a crop; line 3: colours shifted; line 4: the
    // first frame of line 5's clip.
    derive(
        &fx,
        "clip01.mp4",
        &["-vf", "select=eq(n\\,30)", "-frames:v", "1"],
        "clip01_first.jpg",
    );
    derive(
        &fx,
        "clip02_first.png",
        &["-vf", "crop=iw*0.6:ih*0.6:iw*0.3:ih*0.1"],
        "crop.png",
    );
    fx.set_field(1, "first_frame_path", "crop.png");
    fx.remove("clip02_first.png");
    derive(
        &fx,
        "clip03_first.jpg",
        &["-vf", "hue=h=90:s=1.4"],
        "graded.jpg",
    );
    fx.set_field(2, "first_frame_path", "graded.jpg");
    fx.remove("clip03_first.jpg");
    derive(&fx, "clip05.mp4", &["-frames:v", "1"], "other.png");
    fx.set_field(3, "first_frame_path", "other.png");
    fx.remove("clip04_first.png");
    let found = fx.expect_with("D001", &opts);
    let cause = |file: &str| message_of(&found, "D001", file).to_string();
    assert!(
        cause("clip01_first.jpg").contains("frame 30 at 1.88 s"),
        "{}",
        cause("clip01_first.jpg")
    );
    assert!(cause("clip01_first.jpg").contains("likely cause: another frame"));
    assert!(
        cause("crop.png").contains("likely cause: crop"),
        "{}",
        cause("crop.png")
    );
    assert!(
        cause("crop.png").contains("60% × 60% of the picture from 30%, 10%"),
        "{}",
        cause("crop.png")
    );
    assert!(
        cause("graded.jpg").contains("likely cause: colour"),
        "{}",
        cause("graded.jpg")
    );
    assert!(
        cause("other.png").contains("a frame of clip05.mp4"),
        "{}",
        cause("other.png")
    );
    // The fifth line, untouched, is fine.
    assert!(
        !found
            .iter()
            .any(|f| f.1.as_deref() == Some("clip05_first.jpg")),
        "{found:#?}"
    );
}

#[test]
fn d002_last_frame_mismatch() {
    let fx = Fixture::example("kf2v-train");
    keep_kf2v_lines(&fx, 3);
    // The last-frame image of line 1 is its first frame.
    let first = fx.read("image/clip01_first.jpg");
    fx.remove("image/clip01_last.png");
    fx.write("image/clip01_last.jpg", first);
    fx.set_field(0, "last_frame_path", "image/clip01_last.jpg");
    let mut opts = fx.options();
    opts.deep = true;
    let found = fx.expect_with("D002", &opts);
    let message = message_of(&found, "D002", "image/clip01_last.jpg");
    assert!(
        message.contains("is not the last frame of video/clip01.mp4"),
        "{message}"
    );
    assert!(message.contains("but frame 0 at 0.00 s"), "{message}");
    assert!(!codes(&found).contains(&"D001"), "{found:#?}");
}

fn keep_kf2v_lines(fx: &Fixture, n: usize) {
    let lines = fx.lines();
    fx.set_lines(&lines[..n]);
    for l in &lines[n..] {
        for key in ["video_path", "first_frame_path", "last_frame_path"] {
            fx.remove(l[key].as_str().unwrap());
        }
    }
}

#[test]
fn d003_scene_cut() {
    let (fx, opts) = deep_fixture(4);
    // Two seconds of clip01, then two of clip04 (the same size): a hard cut at 2 s.
    hard_cut(
        &fx.path("clip01.mp4"),
        &fx.path("clip04.mp4"),
        2.0,
        2.0,
        &fx.path("cut.mp4"),
    );
    fx.set_field(0, "video_path", "cut.mp4");
    fx.remove("clip01.mp4");
    let found = fx.expect_with("D003", &opts);
    let message = message_of(&found, "D003", "cut.mp4");
    assert!(message.contains("at 2.00 s (frame 32)"), "{message}");
    assert!(!codes(&found).contains(&"D001"), "{found:#?}");
}

#[test]
fn d004_static_clip() {
    let (fx, opts) = deep_fixture(3);
    // Three seconds of the first frame.
    let (still, out) = (fx.path("clip01_first.jpg"), fx.path("still.mp4"));
    ffmpeg(&[
        "-loop",
        "1",
        "-framerate",
        "16",
        "-i",
        still.to_str().unwrap(),
        "-t",
        "3",
        "-vf",
        "format=yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        out.to_str().unwrap(),
    ]);
    fx.set_field(0, "video_path", "still.mp4");
    fx.remove("clip01.mp4");
    let found = fx.expect_with("D004", &opts);
    assert!(message_of(&found, "D004", "still.mp4").contains("motion score 0."));
    // The moving clips are not static.
    assert_eq!(codes(&found).iter().filter(|c| **c == "D004").count(), 1);
}

#[test]
fn d005_black_frames() {
    let (fx, opts) = deep_fixture(3);
    // Half a second of black, then the clip.
    let (clip, out) = (fx.path("clip01.mp4"), fx.path("late.mp4"));
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=black:size=320x240:rate=16:duration=0.5",
        "-i",
        clip.to_str().unwrap(),
        "-filter_complex",
        "[0:v][1:v]concat=n=2:v=1[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        out.to_str().unwrap(),
    ]);
    fx.set_field(0, "video_path", "late.mp4");
    fx.remove("clip01.mp4");
    let found = fx.expect_with("D005", &opts);
    let message = message_of(&found, "D005", "late.mp4");
    assert!(
        message.contains("starts with 0.50 s of black frames (8 frames)"),
        "{message}"
    );
    // The jump from black into the picture is not a cut.
    assert!(!codes(&found).contains(&"D003"), "{found:#?}");
}

#[test]
fn d006_letterbox_bars() {
    let (fx, opts) = deep_fixture(3);
    let bars = "scale=320:180,setsar=1,pad=320:240:0:30:black";
    derive(
        &fx,
        "clip01.mp4",
        &["-vf", bars, "-c:v", "libx264", "-preset", "ultrafast"],
        "boxed.mp4",
    );
    derive(&fx, "boxed.mp4", &["-frames:v", "1"], "boxed_first.png");
    fx.set_field(0, "video_path", "boxed.mp4");
    fx.set_field(0, "first_frame_path", "boxed_first.png");
    fx.remove("clip01.mp4").remove("clip01_first.jpg");
    let found = fx.expect_with("D006", &opts);
    let message = message_of(&found, "D006", "boxed.mp4");
    assert!(message.contains("(letterbox)"), "{message}");
    assert!(
        message.contains("at the top (about") && message.contains("at the bottom"),
        "{message}"
    );
    assert!(!codes(&found).contains(&"D001"), "{found:#?}");
}

#[test]
fn d007_static_overlay() {
    let (fx, opts) = deep_fixture(3);
    // A 48×32 test-card logo burned into the top-right corner.
    let logo = fx.path("logo.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=48x32",
        "-frames:v",
        "1",
        logo.to_str().unwrap(),
    ]);
    let (clip, out) = (fx.path("clip01.mp4"), fx.path("logo.mp4"));
    ffmpeg(&[
        "-i",
        clip.to_str().unwrap(),
        "-loop",
        "1",
        "-i",
        logo.to_str().unwrap(),
        "-filter_complex",
        "[0:v][1:v]overlay=W-w-8:8:shortest=1[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        out.to_str().unwrap(),
    ]);
    fx.remove("logo.png");
    derive(&fx, "logo.mp4", &["-frames:v", "1"], "logo_first.png");
    fx.set_field(0, "video_path", "logo.mp4");
    fx.set_field(0, "first_frame_path", "logo_first.png");
    fx.remove("clip01.mp4").remove("clip01_first.jpg");
    let found = fx.expect_with("D007", &opts);
    let message = message_of(&found, "D007", "logo.mp4");
    assert!(message.contains("the top-right corner"), "{message}");
    assert_eq!(codes(&found).iter().filter(|c| **c == "D007").count(), 1);
}

#[test]
fn d008_duplicate_clip() {
    let (fx, opts) = deep_fixture(3);
    // Line 2's clip is line 1's, re-encoded under another name; its first frame too.
    derive(
        &fx,
        "clip01.mp4",
        &["-c:v", "libx264", "-crf", "30", "-preset", "ultrafast"],
        "copy.mp4",
    );
    derive(&fx, "copy.mp4", &["-frames:v", "1"], "copy_first.png");
    fx.set_field(1, "video_path", "copy.mp4");
    fx.set_field(1, "first_frame_path", "copy_first.png");
    fx.remove("clip02.mp4").remove("clip02_first.png");
    let found = fx.expect_with("D008", &opts);
    let message = message_of(&found, "D008", "copy.mp4");
    assert!(message.contains("same footage as clip01.mp4"), "{message}");
    assert!(
        message.contains("4.0 s trained and billed twice"),
        "{message}"
    );
    // Their first frames are the same picture because the clips are: said once.
    assert!(!codes(&found).contains(&"D009"), "{found:#?}");
}

#[test]
fn d009_duplicate_frame_image() {
    let (fx, opts) = deep_fixture(3);
    // Line 3: a new clip that starts from line 1's picture and zooms in, with that picture
    // (saved again as PNG) as its first frame. Both samples are right about frame 0, but two
    // different clips start from the same picture.
    let (still, out) = (fx.path("clip01_first.jpg"), fx.path("zoom.mp4"));
    ffmpeg(&[
        "-loop",
        "1",
        "-framerate",
        "16",
        "-i",
        still.to_str().unwrap(),
        "-t",
        "3",
        "-vf",
        "scale=w='320*(1+0.15*t)':h=-2:eval=frame,crop=320:240,format=yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        out.to_str().unwrap(),
    ]);
    derive(&fx, "clip01_first.jpg", &[], "zoom_first.png");
    fx.set_field(2, "video_path", "zoom.mp4");
    fx.set_field(2, "first_frame_path", "zoom_first.png");
    fx.remove("clip03.mp4").remove("clip03_first.jpg");
    let found = fx.expect_with("D009", &opts);
    let message = message_of(&found, "D009", "zoom_first.png");
    assert!(
        message.contains("same picture as clip01_first.jpg"),
        "{message}"
    );
    assert!(!codes(&found).contains(&"D001"), "{found:#?}");
    assert!(!codes(&found).contains(&"D008"), "{found:#?}");
}

#[test]
fn d010_validation_leak() {
    let (train, mut opts) = deep_fixture(3);
    let training = check::run(&train.root, &opts).unwrap();
    opts.analysis.training = Some(training.deep.unwrap().index);
    // A validation image that is frame 20 of a training clip.
    let mut val = Fixture::example("i2v-val");
    val.model = models::DEFAULT_MODEL;
    let clip = train.path("clip02.mp4");
    let out = val.path("val02.png");
    ffmpeg(&[
        "-i",
        clip.to_str().unwrap(),
        "-vf",
        "select=eq(n\\,20)",
        "-frames:v",
        "1",
        out.to_str().unwrap(),
    ]);
    opts.mode = Some(ModeChoice::Validation);
    let found = val.expect_with("D010", &opts);
    let message = message_of(&found, "D010", "val02.png");
    assert!(
        message.contains("frame 20 (1.25 s) of the training clip clip02.mp4"),
        "{message}"
    );
    assert_eq!(codes(&found).iter().filter(|c| **c == "D010").count(), 1);
}
