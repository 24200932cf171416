//! `wanft pack --fix` on real ffmpeg-made media: clips too large, too long, in another
//! container or codec, a GIF and an oversized JPEG as first frames. The fixed zip must pass
//! `check`, the originals must stay untouched, and fixes must be cached and reproducible.

mod common;
mod pack_helpers;
mod support;

use std::fs;
use std::path::Path;

use common::{Fixture, briefs, write_zip};
use pack_helpers::{Scratch, members, sha256_file, tree_digest, wanft};
use predicates::prelude::*;
use serde_json::Value;
use support::fixtures::{self, Codec, ImageKind, ImageSpec, VideoContainer, VideoSpec};
use wanft::check::{self, CheckOptions};
use wanft::media::MediaInfo;
use wanft::models;

/// max_pixels 262144 (512²) and 5 s clips: the bundled example is within both.
const MODEL: &str = "wan2.2-i2v-flash";

/// The i2v example with six files replaced by ones `--fix` must mend.
fn broken_dataset() -> Fixture {
    let fixture = Fixture::i2v();
    let copy = |from: &Path, to: &str| {
        fs::copy(from, fixture.path(to)).unwrap();
    };
    // 640×480 = 307200 pixels, above max_pixels.
    copy(
        &fixtures::video(VideoSpec {
            width: 640,
            height: 480,
            seconds: 2.5,
            ..VideoSpec::default()
        }),
        "clip01.mp4",
    );
    // 7 s, longer than the model's 5 s.
    copy(
        &fixtures::video(VideoSpec {
            width: 240,
            height: 320,
            seconds: 7.0,
            ..VideoSpec::default()
        }),
        "clip02.mp4",
    );
    // Matroska and HEVC/MOV: containers and codecs the platform does not take.
    fixture.remove("clip03.mp4");
    copy(
        &fixtures::video(VideoSpec {
            width: 320,
            height: 320,
            seconds: 3.0,
            container: VideoContainer::Mkv,
            ..VideoSpec::default()
        }),
        "clip03.mkv",
    );
    fixture.set_field(2, "video_path", "clip03.mkv");
    fixture.remove("clip04.mp4");
    copy(
        &fixtures::video(VideoSpec {
            width: 320,
            height: 240,
            seconds: 3.0,
            codec: Codec::Hevc,
            container: VideoContainer::Mov,
            ..VideoSpec::default()
        }),
        "clip04.mov",
    );
    fixture.set_field(3, "video_path", "clip04.mov");
    // A GIF first frame, and a JPEG above 4096 px.
    fixture.remove("clip05_first.jpg");
    copy(
        &fixtures::image(ImageSpec {
            width: 240,
            height: 320,
            format: ImageKind::Gif,
        }),
        "clip05_first.gif",
    );
    fixture.set_field(4, "first_frame_path", "clip05_first.gif");
    copy(
        &fixtures::image(ImageSpec {
            width: 3150,
            height: 4200,
            format: ImageKind::Jpeg,
        }),
        "clip07_first.jpg",
    );
    fixture
}

fn pack_fixed(cache: &Path, dataset: &Path, zip: &Path) -> Value {
    let output = wanft(cache)
        .args([
            "pack", "--fix", "--force", "--model", MODEL, "--format", "json",
        ])
        .arg(dataset)
        .arg("-o")
        .arg(zip)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&output).expect("one JSON document")
}

fn options() -> CheckOptions<'static> {
    CheckOptions::new(models::find(MODEL).unwrap())
}

#[test]
fn fixed_datasets_pass_check_and_the_originals_stay_untouched() {
    let fixture = broken_dataset();
    let before = tree_digest(&fixture.root);
    let scratch = Scratch::new();
    let zip = scratch.zip("train.zip");

    // Without --fix the dataset is refused, and the refusal says --fix would help.
    scratch
        .wanft()
        .args(["pack", "--model", MODEL])
        .arg(&fixture.root)
        .arg("-o")
        .arg(&zip)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("(--fix mends them all)"));

    let doc = pack_fixed(&scratch.cache, &fixture.root, &zip);
    assert_eq!(
        tree_digest(&fixture.root),
        before,
        "an original was modified"
    );
    let fixes = doc["datasets"][0]["fixes"].as_array().unwrap();
    let fixed: Vec<(&str, &str)> = fixes
        .iter()
        .map(|f| {
            (
                f["member"].as_str().unwrap(),
                f["renamed"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fixed,
        [
            ("clip01.mp4", "clip01.mp4"),
            ("clip02.mp4", "clip02.mp4"),
            ("clip03.mkv", "clip03.mp4"),
            ("clip04.mov", "clip04.mp4"),
            ("clip05_first.gif", "clip05_first.png"),
            ("clip07_first.jpg", "clip07_first.jpg"),
        ]
    );
    assert!(fixes.iter().all(|f| f["cached"] == false));
    assert!(
        fixes
            .iter()
            .all(|f| !f["reasons"].as_array().unwrap().is_empty())
    );

    // The zip passes check: no errors, and none of the problems that were fixed.
    let report = check::run(&zip, &options()).unwrap();
    let found = briefs(&report);
    assert!(!report.has_errors(), "{found:#?}");
    for code in ["M001", "M003", "M004", "M007", "M009"] {
        assert!(!found.iter().any(|f| f.0 == code), "{code} in {found:#?}");
    }
    let video = |name: &str| match &report.media[name].result {
        Ok(MediaInfo::Video(v)) => v.clone(),
        other => panic!("{name}: {other:?}"),
    };
    let large = video("clip01.mp4");
    assert!(u64::from(large.width) * u64::from(large.height) <= 262_144);
    assert!(large.width % 2 == 0 && large.height % 2 == 0);
    let aspect = f64::from(large.width) / f64::from(large.height);
    assert!((aspect - 4.0 / 3.0).abs() < 0.02, "aspect {aspect}");
    assert!(video("clip02.mp4").duration_s.unwrap() <= 5.0);
    assert!(video("clip04.mp4").is_h264());
    let (width, height) = report.media["clip07_first.jpg"]
        .result
        .as_ref()
        .unwrap()
        .dimensions();
    assert!(
        width <= 4096 && (4090..=4096).contains(&height),
        "{width}×{height}"
    );

    // data.jsonl names the fixed copies; the originals' names are gone.
    let names: Vec<String> = members(&zip).into_iter().map(|(n, _)| n).collect();
    for gone in ["clip03.mkv", "clip04.mov", "clip05_first.gif"] {
        assert!(!names.iter().any(|n| n == gone), "{gone} still packed");
    }
    let manifest = String::from_utf8(members(&zip).remove(0).1).unwrap();
    assert!(manifest.contains("\"clip03.mp4\"") && manifest.contains("\"clip05_first.png\""));
}

#[test]
fn fixes_are_cached_reproducible_and_the_same_from_a_zip() {
    let fixture = broken_dataset();
    let scratch = Scratch::new();
    let first = scratch.zip("first.zip");
    pack_fixed(&scratch.cache, &fixture.root, &first);

    // Again: every fix comes from the cache, and the bytes are the same.
    let again = scratch.zip("again.zip");
    let doc = pack_fixed(&scratch.cache, &fixture.root, &again);
    let fixes = doc["datasets"][0]["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 6);
    assert!(fixes.iter().all(|f| f["cached"] == true), "{fixes:#?}");
    assert_eq!(sha256_file(&again), sha256_file(&first));

    // With an empty cache the encodes run again and give the same bytes.
    let fresh_cache = tempfile::tempdir().unwrap();
    let fresh = scratch.zip("fresh.zip");
    let doc = pack_fixed(fresh_cache.path(), &fixture.root, &fresh);
    assert!(
        doc["datasets"][0]["fixes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["cached"] == false)
    );
    assert_eq!(sha256_file(&fresh), sha256_file(&first));

    // The dataset zipped by hand: the same fixed copies, the same archive.
    let files: Vec<(String, Vec<u8>)> = tree_digest(&fixture.root)
        .into_iter()
        .map(|(name, _)| {
            let bytes = fs::read(fixture.root.join(&name)).unwrap();
            (name, bytes)
        })
        .collect();
    let hand_made = scratch.out.join("hand-made.zip");
    write_zip(&hand_made, &files);
    let from_zip = scratch.zip("from-zip.zip");
    pack_fixed(&scratch.cache, &hand_made, &from_zip);
    assert_eq!(sha256_file(&from_zip), sha256_file(&first));

    // The cache holds the six fixed copies and nothing else (no partial encodes, no copies of
    // zip members made for ffmpeg).
    let cached = pack_helpers::names_in(&scratch.cache.join("fixed"));
    assert_eq!(cached.len(), 6, "{cached:?}");
    for name in &cached {
        let (key, ext) = name.split_once('.').unwrap();
        assert!(
            key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit()),
            "{name}"
        );
        assert!(["mp4", "png", "jpg"].contains(&ext), "{name}");
    }
}

#[test]
fn fix_without_ffmpeg_is_a_clear_error() {
    let fixture = broken_dataset();
    let scratch = Scratch::new();
    scratch
        .wanft()
        .env("WANFT_FFMPEG", "/nonexistent/ffmpeg")
        .args(["pack", "--fix", "--model", MODEL])
        .arg(&fixture.root)
        .arg("-o")
        .arg(scratch.zip("train.zip"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs ffmpeg"))
        .stderr(predicate::str::contains("WANFT_FFMPEG"));
    assert!(pack_helpers::names_in(&scratch.out).is_empty());
}

/// `ffmpeg -i IN ARGS OUT` inside the fixture.
fn derive(fixture: &Fixture, input: &str, args: &[&str], out: &str) {
    let (input, out) = (fixture.path(input), fixture.path(out));
    let mut all = vec!["-i", input.to_str().unwrap()];
    all.extend_from_slice(args);
    all.push(out.to_str().unwrap());
    common::ffmpeg(&all);
}

/// The i2v example with a letterboxed clip (and its matching first frame), a clip that cuts
/// after one second to a three-second shot, and a first frame taken at frame 30.
fn visual_dataset() -> Fixture {
    let fixture = Fixture::i2v();
    let bars = "scale=320:180,setsar=1,pad=320:240:0:30:black";
    derive(
        &fixture,
        "clip01.mp4",
        &["-vf", bars, "-c:v", "libx264", "-preset", "ultrafast"],
        "boxed.mp4",
    );
    fixture.remove("clip01.mp4").remove("clip01_first.jpg");
    derive(
        &fixture,
        "boxed.mp4",
        &["-frames:v", "1"],
        "boxed_first.png",
    );
    fixture.set_field(0, "video_path", "boxed.mp4");
    fixture.set_field(0, "first_frame_path", "boxed_first.png");
    common::hard_cut(
        &fixture.path("clip02.mp4"),
        &fixture.path("clip05.mp4"),
        1.0,
        3.0,
        &fixture.path("cut.mp4"),
    );
    fixture.remove("clip02.mp4");
    fixture.set_field(1, "video_path", "cut.mp4");
    derive(
        &fixture,
        "clip03.mp4",
        &["-vf", "select=eq(n\\,30)", "-frames:v", "1"],
        "clip03_first.jpg",
    );
    fixture
}

fn reasons_of(doc: &Value) -> Vec<(String, String)> {
    doc["datasets"][0]["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let reasons: Vec<&str> = f["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            (
                f["member"].as_str().unwrap().to_string(),
                reasons.join("; "),
            )
        })
        .collect()
}

#[test]
fn fix_cuts_shots_crops_bars_and_derives_frames_from_the_clips() {
    let fixture = visual_dataset();
    let before = tree_digest(&fixture.root);
    let scratch = Scratch::new();
    let zip = scratch.zip("train.zip");
    let pack = |extra: &[&str]| -> Value {
        let output = wanft(&scratch.cache)
            .args([
                "pack", "--fix", "--force", "--model", MODEL, "--format", "json",
            ])
            .args(extra)
            .arg(&fixture.root)
            .arg("-o")
            .arg(&zip)
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&output).expect("one JSON document")
    };

    // Without --derive-frames: the bars go (the matching first frame is cropped alike); the
    // cut stays, since its longest shot would no longer start at the supplied first frame.
    let fixes = reasons_of(&pack(&[]));
    let members: Vec<&str> = fixes.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(members, ["boxed.mp4", "boxed_first.png"], "{fixes:#?}");
    assert!(
        fixes[0]
            .1
            .contains("dark bars cropped away (top 12%, bottom 12%"),
        "{fixes:#?}"
    );
    assert!(fixes[1].1.contains("cropped like boxed.mp4"), "{fixes:#?}");

    // With it: the longest shot is kept and both wrong first frames are taken from the clips.
    let fixes = reasons_of(&pack(&["--derive-frames"]));
    let members: Vec<&str> = fixes.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        members,
        [
            "boxed.mp4",
            "boxed_first.png",
            "clip02_first.png",
            "clip03_first.jpg",
            "cut.mp4"
        ],
        "{fixes:#?}"
    );
    let reason = |m: &str| fixes.iter().find(|(n, _)| n == m).unwrap().1.clone();
    assert!(
        reason("cut.mp4").contains("cut at 1.00 s: kept the longest shot, 1.00–4.00 s"),
        "{fixes:#?}"
    );
    assert!(
        reason("clip02_first.png").contains("taken from frame 0 of cut.mp4"),
        "{fixes:#?}"
    );
    assert!(
        reason("clip03_first.jpg").contains("(the supplied image was not it: other frame)"),
        "{fixes:#?}"
    );
    assert!(
        reason("boxed_first.png").contains("taken from frame 0 of boxed.mp4"),
        "{fixes:#?}"
    );
    assert_eq!(
        tree_digest(&fixture.root),
        before,
        "an original was modified"
    );

    // The zip, decoded: no cut, no bars, every first frame its clip's frame 0.
    let mut opts = options();
    opts.deep = true;
    let report = check::run(&zip, &opts).unwrap();
    let found = briefs(&report);
    for code in ["D001", "D003", "D006", "M016"] {
        assert!(!found.iter().any(|f| f.0 == code), "{code} in {found:#?}");
    }
    let cut = match &report.media["cut.mp4"].result {
        Ok(MediaInfo::Video(v)) => v.clone(),
        other => panic!("{other:?}"),
    };
    assert!((cut.duration_s.unwrap() - 3.0).abs() < 0.1, "{cut:?}");
    let boxed = match &report.media["boxed.mp4"].result {
        Ok(MediaInfo::Video(v)) => v.clone(),
        other => panic!("{other:?}"),
    };
    let aspect = f64::from(boxed.display_width) / f64::from(boxed.display_height);
    assert!(
        (aspect - 16.0 / 9.0).abs() < 0.05,
        "cropped to 16:9: {boxed:?}"
    );
}
