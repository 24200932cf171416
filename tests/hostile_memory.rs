//! Memory does not grow with what a zip declares: `check`, `pack` and the emulator's data
//! processing of a zip of a million members (which used to take 579 MB, and 1.15 GB for two
//! million) stay far under 100 MB, and so does `check` of a zip at the member budget.
//!
//! Measured in bytes, not time: every allocation of this test binary goes through a counting
//! allocator, and the peak above the baseline is taken around each step. The steps run one after
//! the other in a single test so that nothing else allocates meanwhile.

mod common;
mod emulator_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use emulator_support::{Harness, config, start};
use serde_json::json;
use wanft::check::{self, CheckOptions};
use wanft::dataset::zip_index::MAX_MEMBERS;
use wanft::models;
use wanft::pack::{self, PackOptions};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grown = new_size - layout.size();
                let now = CURRENT.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The budget the issue sets for a million members.
const BUDGET: usize = 100 << 20;

/// Bytes allocated at the peak of `step`, above what was allocated before it.
fn peak_of<R>(step: impl FnOnce() -> R) -> (R, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let result = step();
    (result, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

#[test]
fn a_million_members_cost_no_memory_in_check_pack_and_the_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let million = dir.path().join("million.zip");
    common::raw_zip::write_many_members(&million, 1_000_000);
    let at_budget = dir.path().join("budget.zip");
    common::raw_zip::write_many_members(&at_budget, MAX_MEMBERS as u32);
    let model = models::find(models::DEFAULT_MODEL).unwrap();

    let (report, peak) = peak_of(|| check::run(&million, &CheckOptions::new(model)).unwrap());
    assert!(report.findings.has("Z005"), "{:#?}", report.findings);
    assert!(peak < BUDGET, "check: {peak} bytes");
    drop(report);

    // At the budget the members are indexed and checked (every one unreferenced): memory is
    // proportional to the members, and the budget caps them.
    let (report, peak) = peak_of(|| check::run(&at_budget, &CheckOptions::new(model)).unwrap());
    assert!(!report.findings.has("Z005"));
    assert_eq!(report.dataset.source.entries().len(), MAX_MEMBERS as usize);
    assert!(peak < BUDGET, "check at the budget: {peak} bytes");
    drop(report);

    let cancel = AtomicBool::new(false);
    let options = PackOptions {
        check: CheckOptions::new(model),
        fix: None,
        cancel: &cancel,
    };
    let (prepared, peak) = peak_of(|| pack::prepare(&million, &options).unwrap());
    assert!(!prepared.is_ready());
    assert!(peak < BUDGET, "pack: {peak} bytes");
    drop(prepared);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let h: Harness = start(config()).await;
        let bytes = std::fs::read(&million).unwrap();
        let file_id = h.upload("million.zip", bytes).await;
        let (status, peak) = {
            let base = CURRENT.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            let job = h
                .create_job(json!({
                    "model": models::DEFAULT_MODEL,
                    "training_file_ids": [file_id],
                    "training_type": "efficient_sft",
                }))
                .await;
            let job_id = job["job_id"].as_str().unwrap().to_owned();
            h.advance(3600.0).await;
            let status = h.job_status(&job_id).await;
            (status, PEAK.load(Ordering::Relaxed).saturating_sub(base))
        };
        assert_eq!(status, "FAILED");
        assert!(peak < BUDGET, "emulator: {peak} bytes");
    });
}
