//! Hostile input and concurrency, through the `wanft` binary: state files planted as FIFOs
//! and devices, datasets built to be slow or greedy, a corpus of hostile zips, concurrent packs
//! and uploads, and output that file names and servers try to steer. (Parsers are fuzzed in
//! `fuzz_parsers.rs`; memory is counted in `hostile_memory.rs`; the emulator in
//! `hostile_emulator.rs`.)

#[path = "../cli_api_support/mod.rs"]
mod cli_api_support;

mod datasets;
mod output;
mod races;
#[cfg(unix)]
mod state_files;
