//! Hostile and broken input, generated at test time: every case ends in a precise finding (or a
//! clean exit-2 error for an unreadable zip), never in a panic.

mod common;

use common::{Fixture, codes, write_zip};
use proptest::prelude::*;
use wanft::check;

/// Checks the fixture (folder and zip) and returns the codes reported for `file`.
fn codes_for(fx: &Fixture, file: &str) -> Vec<String> {
    fx.check_both()
        .into_iter()
        .filter(|f| f.1.as_deref() == Some(file))
        .map(|f| f.0)
        .collect()
}

fn assert_flagged(fx: &Fixture, file: &str, allowed: &[&str]) {
    let got = codes_for(fx, file);
    assert!(
        got.iter().any(|c| allowed.contains(&c.as_str())),
        "{file}: expected one of {allowed:?}, got {got:?}"
    );
}

#[test]
fn zero_byte_media() {
    let fx = Fixture::i2v();
    fx.write("clip01.mp4", b"");
    fx.write("clip01_first.jpg", b"");
    assert_flagged(&fx, "clip01.mp4", &["M010"]);
    assert_flagged(&fx, "clip01_first.jpg", &["M010"]);
}

#[test]
fn random_bytes_named_as_media() {
    let fx = Fixture::i2v();
    let noise: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fx.write("clip01.mp4", &noise);
    fx.write("clip01_first.jpg", &noise[..4096]);
    assert_flagged(&fx, "clip01.mp4", &["M010", "M003"]);
    assert_flagged(&fx, "clip01_first.jpg", &["M010", "M001"]);
}

#[test]
fn media_truncated_at_many_offsets() {
    let fx = Fixture::i2v();
    let clip = fx.read("clip07.mp4");
    let png = fx.read("clip02_first.png");
    for frac in [1, 10, 25, 50, 75, 90, 99] {
        let cut = clip.len() * frac / 100;
        fx.write("clip07.mp4", &clip[..cut]);
        assert_flagged(&fx, "clip07.mp4", &["M011", "M010"]);
        let cut = png.len() * frac / 100;
        fx.write("clip02_first.png", &png[..cut]);
        assert_flagged(&fx, "clip02_first.png", &["M011", "M010"]);
    }
    // One byte short is still truncation.
    fx.write("clip07.mp4", &clip[..clip.len() - 1]);
    assert_flagged(&fx, "clip07.mp4", &["M011"]);
}

/// Byte offset and size of the first top-level box of this type.
fn find_box(bytes: &[u8], kind: &[u8; 4]) -> (usize, usize) {
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if &bytes[at + 4..at + 8] == kind {
            return (at, size);
        }
        at += size.max(8);
    }
    panic!("no {kind:?} box");
}

#[test]
fn moov_removed() {
    let fx = Fixture::i2v();
    let clip = fx.read("clip01.mp4");
    let (at, size) = find_box(&clip, b"moov");
    let mut cut = clip[..at].to_vec();
    cut.extend_from_slice(&clip[at + size..]);
    fx.write("clip01.mp4", cut);
    assert_flagged(&fx, "clip01.mp4", &["M010", "M011"]);
}

#[test]
fn huge_declared_box_sizes() {
    let fx = Fixture::i2v();
    let clip = fx.read("clip01.mp4");
    let (at, _) = find_box(&clip, b"moov");
    for large in [1u64 << 63, u64::MAX, (1 << 40) + 3] {
        // size field 1 = a 64-bit size follows the type.
        let mut bad = clip[..at].to_vec();
        bad.extend_from_slice(&1u32.to_be_bytes());
        bad.extend_from_slice(b"moov");
        bad.extend_from_slice(&large.to_be_bytes());
        bad.extend_from_slice(&clip[at + 8..]);
        fx.write("clip01.mp4", bad);
        assert_flagged(&fx, "clip01.mp4", &["M010", "M011"]);
    }
}

#[test]
fn non_utf8_and_binary_data_jsonl() {
    let fx = Fixture::i2v();
    fx.set_manifest(b"\xFF\xFE{\0\"\0p\0");
    let found = fx.check_both();
    assert!(codes(&found).contains(&"J005"), "{found:#?}");
    fx.set_manifest(
        (0..3000u32)
            .map(|i| (i * 37 % 256) as u8)
            .collect::<Vec<_>>(),
    );
    let found = fx.check_both();
    assert!(
        found.iter().any(|f| f.1.as_deref() == Some("data.jsonl")),
        "{found:#?}"
    );
}

#[test]
fn a_million_line_data_jsonl() {
    let fx = Fixture::i2v();
    let mut text = String::with_capacity(12_000_000);
    for i in 0..1_000_000u32 {
        match i % 4 {
            0 => text.push_str("{\"prompt\":\"p\",\"first_frame_path\":\"x.jpg\"}\n"),
            1 => text.push_str("{\"prompt\":\n"),
            2 => text.push_str("{}\n"),
            _ => text.push_str("42\n"),
        }
    }
    fx.set_manifest(text);
    let report = check::run(&fx.root, &fx.options()).expect("check runs");
    // Every bad line counts, though only the first findings of each rule are kept.
    assert!(
        report.summary.errors >= 500_000,
        "{}",
        report.summary.errors
    );
    assert!(report.findings.len() <= 20 * wanft::rules::MAX_PER_RULE);
    assert!(report.findings.suppressed().any(|(r, _)| r.code == "J009"));
    assert!(report.findings.has("J021"));
}

#[test]
fn zip_with_escaping_member_names() {
    let fx = Fixture::i2v();
    let zip = fx.root.with_extension("zip");
    let mut members = vec![("data.jsonl".to_string(), fx.read("data.jsonl"))];
    for n in [
        "../../etc/passwd",
        "C:\\Windows\\evil.mp4",
        "/abs.mp4",
        "ok/../../x.mp4",
    ] {
        members.push((n.to_string(), b"x".to_vec()));
    }
    write_zip(&zip, &members);
    let report = check::run(&zip, &fx.options()).unwrap();
    let hostile = report
        .findings
        .iter()
        .filter(|f| f.rule.code == "P015")
        .count();
    assert_eq!(hostile, 4, "{:#?}", report.findings);
}

#[test]
fn zip_member_declaring_a_huge_size() {
    // A stored member whose central-directory size is patched to 2^32-2 bytes while the real data
    // is tiny: reads stop at the end of the archive, nothing is allocated by the declared size.
    let fx = Fixture::i2v();
    let zip = fx.zip();
    let mut bytes = std::fs::read(&zip).unwrap();
    let name = b"clip01.mp4";
    let cd = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x01\x02")
        .map(|(i, _)| i)
        .find(|&i| bytes[i + 46..].starts_with(name))
        .unwrap();
    for field in [cd + 20, cd + 24] {
        bytes[field..field + 4].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
    }
    std::fs::write(&zip, bytes).unwrap();
    // Either the archive is refused as a whole, or the member is reported: never a panic.
    match check::run(&zip, &fx.options()) {
        Err(e) => assert!(e.to_string().contains("zip"), "{e}"),
        Ok(report) => assert!(
            report
                .findings
                .iter()
                .any(|f| f.location.file.as_deref() == Some("clip01.mp4")),
            "{:#?}",
            report.findings
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Arbitrary bytes as a clip and as a first frame: always a finding on that file.
    #[test]
    fn arbitrary_media_bytes_never_panic(clip in proptest::collection::vec(any::<u8>(), 0..4096),
                                         image in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let fx = fixture();
        std::fs::write(fx.path("clip01.mp4"), &clip).unwrap();
        std::fs::write(fx.path("clip01_first.jpg"), &image).unwrap();
        let report = check::run(&fx.root, &fx.options()).unwrap();
        for file in ["clip01.mp4", "clip01_first.jpg"] {
            prop_assert!(report.findings.iter().any(|f| f.location.file.as_deref() == Some(file)
                && f.rule.code.starts_with('M')), "{} not flagged", file);
        }
    }

    /// Real clips mutated (bytes flipped, cut, spliced): check always completes.
    #[test]
    fn mutated_clips_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
                                 cut in any::<prop::sample::Index>()) {
        let fx = fixture();
        let mut clip = std::fs::read(format!("{}/examples/i2v-train/clip09.mp4", common::ROOT)).unwrap();
        for (at, v) in flips {
            let i = at.index(clip.len());
            clip[i] ^= v | 1;
        }
        clip.truncate(cut.index(clip.len()) + 1);
        std::fs::write(fx.path("clip09.mp4"), &clip).unwrap();
        let report = check::run(&fx.root, &fx.options());
        prop_assert!(report.is_ok());
    }

    /// Arbitrary text as data.jsonl: every line is either a sample or a finding with its line.
    #[test]
    fn arbitrary_manifests_never_panic(lines in proptest::collection::vec("[ -~\\t]{0,80}", 0..40)) {
        let fx = fixture();
        std::fs::write(fx.path("data.jsonl"), lines.join("\n")).unwrap();
        let report = check::run(&fx.root, &fx.options()).unwrap();
        prop_assert!(report.dataset.samples.len() <= lines.len());
    }
}

/// One fixture per proptest case would copy the example thousands of times: share one per
/// thread and restore it before each case.
fn fixture() -> std::sync::Arc<Fixture> {
    thread_local! {
        static FX: std::sync::Arc<Fixture> = std::sync::Arc::new(Fixture::i2v());
    }
    let fx = FX.with(|f| f.clone());
    let pristine = format!("{}/examples/i2v-train", common::ROOT);
    for name in ["clip01.mp4", "clip01_first.jpg", "clip09.mp4", "data.jsonl"] {
        std::fs::copy(format!("{pristine}/{name}"), fx.path(name)).unwrap();
    }
    fx
}
