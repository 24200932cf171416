//! A fuzzing harness that stays: property and mutation tests (stable toolchain, proptest) over
//! every parser that reads what a user or a server hands wanft — zip directories and members,
//! data.jsonl, multipart framing, MP4 and image headers — each input held to a time and a
//! memory budget. Memory is counted per thread by this binary's allocator, so the budget is
//! exact bytes, not a guess from the outside.
//!
//! Inputs are real files mutated (bytes flipped, cut, spliced, sizes patched) and arbitrary
//! bytes. A failing case is shrunk by proptest and printed; add it to the regression file it
//! names to keep it.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Cursor, Read, Write};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use wanft::dataset::Source;
use wanft::media::{self, Expect};
use wanft::rules::Findings;

struct PerThread;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: nothing is counted while the thread is being torn down.
    let _ = CURRENT.try_with(|current| {
        let now = current.get() + delta;
        current.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted,
// in thread-local cells that never allocate.
unsafe impl GlobalAlloc for PerThread {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: PerThread = PerThread;

/// Per input. Far above what any of these small inputs needs; far below what a parser that
/// trusts a declared size or count would take.
const MEMORY: isize = 64 << 20;
/// Per input: generous for a debug build on a loaded 2-core machine; a parser gone quadratic
/// or looping exceeds it.
const TIME: Duration = Duration::from_secs(5);

/// Runs `parse` on one input and holds it to the budgets.
fn within_budget<R>(what: &str, parse: impl FnOnce() -> R) -> R {
    let base = CURRENT.with(Cell::get);
    PEAK.with(|peak| peak.set(base));
    let started = Instant::now();
    let result = parse();
    let elapsed = started.elapsed();
    let peak = PEAK.with(Cell::get) - base;
    assert!(peak < MEMORY, "{what}: {peak} bytes at the peak");
    assert!(elapsed < TIME, "{what}: {elapsed:?}");
    result
}

fn example(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/examples/{path}", common::ROOT)).unwrap()
}

/// Bytes to flip (where, with what).
type Flips = Vec<(prop::sample::Index, u8)>;
/// A span copied (from, to, length).
type Splice = Option<(prop::sample::Index, prop::sample::Index, usize)>;
/// Where to cut.
type Cut = Option<prop::sample::Index>;

/// `bytes` with some bytes flipped, a span spliced in elsewhere, cut at some point.
fn mutate(mut bytes: Vec<u8>, flips: &Flips, splice: Splice, cut: Cut) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    for (at, v) in flips {
        let i = at.index(bytes.len());
        bytes[i] ^= v | 1;
    }
    if let Some((from, to, len)) = splice {
        let from = from.index(bytes.len());
        let span: Vec<u8> = bytes[from..(from + len).min(bytes.len())].to_vec();
        let to = to.index(bytes.len());
        bytes.splice(to..to, span);
    }
    if let Some(cut) = cut {
        bytes.truncate(cut.index(bytes.len()) + 1);
    }
    bytes
}

fn mutation() -> impl Strategy<Value = (Flips, Splice, Cut)> {
    (
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
        prop::option::of((
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            1..64usize,
        )),
        prop::option::of(any::<prop::sample::Index>()),
    )
}

/// A small valid zip: a manifest, a clip and an image of the example, stored and deflated.
fn small_zip() -> Vec<u8> {
    use common::raw_zip::{RawMember, build};
    build(&[
        RawMember::deflated("data.jsonl", &example("i2v-train/data.jsonl")),
        RawMember::stored("clip01.mp4", &example("i2v-train/clip01.mp4")),
        RawMember::deflated("clip01_first.jpg", &example("i2v-train/clip01_first.jpg")),
    ])
}

/// Opens `bytes` as a zip and reads every member whole (as pack and --deep do) and its start
/// (as probes do).
fn read_zip(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.zip");
    std::fs::write(&path, bytes).unwrap();
    within_budget("zip", || {
        let Ok(source) = Source::open(&path) else {
            return;
        };
        assert!(source.entries().len() as u64 <= wanft::dataset::zip_index::MAX_MEMBERS);
        for entry in source.entries() {
            if let Ok(mut reader) = source.open_entry(entry) {
                let mut sink = Vec::new();
                let _ = reader.by_ref().take(8 << 20).read_to_end(&mut sink);
            }
            let _ = source.read_entry(entry, 4096);
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Mutated zips: the directory reader and member reads never panic and stay in budget.
    #[test]
    fn zips_mutated((flips, splice, cut) in mutation()) {
        read_zip(&mutate(small_zip(), &flips, splice, cut));
    }

    /// Arbitrary bytes behind a valid end-of-directory record, and arbitrary bytes alone.
    #[test]
    fn zips_arbitrary(junk in prop::collection::vec(any::<u8>(), 0..2048), count in any::<u16>()) {
        read_zip(&junk);
        let mut with_end = junk.clone();
        with_end.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        with_end.extend_from_slice(&count.to_le_bytes());
        with_end.extend_from_slice(&count.to_le_bytes());
        with_end.extend_from_slice(&(junk.len() as u32).to_le_bytes());
        with_end.extend_from_slice(&0u32.to_le_bytes());
        with_end.extend_from_slice(&0u16.to_le_bytes());
        read_zip(&with_end);
    }

    /// data.jsonl: mutated real lines and arbitrary bytes.
    #[test]
    fn jsonl((flips, splice, cut) in mutation(), junk in prop::collection::vec(any::<u8>(), 0..4096)) {
        let mutated = mutate(example("i2v-train/data.jsonl"), &flips, splice, cut);
        for bytes in [mutated, junk] {
            within_budget("data.jsonl", || {
                let mut findings = Findings::new();
                let samples = wanft::dataset::manifest::parse(&bytes, "data.jsonl", &mut findings);
                assert!(samples.len() <= bytes.len() / 2 + 1);
            });
        }
    }

    /// Multipart framing: any body in any chunking is followed without panic, in budget, and a
    /// well-formed body with arbitrary content always passes.
    #[test]
    fn multipart(junk in prop::collection::vec(any::<u8>(), 0..4096),
                 content in prop::collection::vec(any::<u8>(), 0..4096),
                 chunk in 1..700usize) {
        use wanft::emulator::multipart_guard::Framing;
        within_budget("multipart", || {
            let mut framing = Framing::new("b0undary");
            let _ = junk.chunks(chunk).try_for_each(|c| framing.feed(c));
        });
        // Content that does not hold the delimiter itself.
        prop_assume!(!content.windows(12).any(|w| w == b"\r\n--b0undary"));
        let mut body = b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; \
                         filename=\"a.zip\"\r\n\r\n".to_vec();
        body.extend_from_slice(&content);
        body.extend_from_slice(b"\r\n--b0undary--\r\n");
        let mut framing = Framing::new("b0undary");
        prop_assert!(body.chunks(chunk).try_for_each(|c| framing.feed(c)).is_ok());
    }

    /// MP4 headers: every example clip, mutated.
    #[test]
    fn mp4((flips, splice, cut) in mutation(), which in 1..=20usize) {
        let clip = mutate(example(&format!("i2v-train/clip{which:02}.mp4")), &flips, splice, cut);
        within_budget("mp4", || {
            let _ = media::probe(&mut Cursor::new(&clip), clip.len() as u64, Expect::Video);
        });
    }

    /// Image headers: JPEG and PNG examples, mutated, and arbitrary bytes.
    #[test]
    fn images((flips, splice, cut) in mutation(), png in any::<bool>(),
              junk in prop::collection::vec(any::<u8>(), 0..1024)) {
        let name = if png { "i2v-train/clip02_first.png" } else { "i2v-train/clip01_first.jpg" };
        let image = mutate(example(name), &flips, splice, cut);
        for bytes in [image, junk] {
            within_budget("image", || {
                let _ = media::probe(&mut Cursor::new(&bytes), bytes.len() as u64, Expect::Image);
            });
        }
    }
}

/// The budgets catch what they are for: a parser that allocates what an input declares.
#[test]
fn the_budget_catches_a_greedy_parser() {
    let greedy = std::panic::catch_unwind(|| {
        within_budget("greedy", || {
            let declared = 100usize << 20;
            let mut buffer = Vec::with_capacity(declared);
            buffer.write_all(b"x").unwrap();
            buffer.len()
        })
    });
    assert!(greedy.is_err());
}
