//! wanft: validate, plan, pack and upload datasets for fine-tuning Wan image-to-video models on
//! Alibaba Cloud Model Studio (DashScope), and drive the fine-tuning API, or a local emulator of it.
//!
//! The library does the work; the `wanft` binary only parses arguments, calls into it and renders
//! results. The pipeline:
//!
//! ```text
//! Source (folder | .zip) ─► dataset ─► media probe (parallel) ─► rules ─► findings ─► report
//!                                                                   ├─► plan
//!                                                                   ├─► pack
//!                                                                   └─► api / emulator
//! ```

pub mod api;
pub mod cache;
pub mod check;
pub mod config;
pub mod dataset;
pub mod deep;
pub mod doctor;
pub mod emulator;
pub mod hyper;
pub mod init;
pub mod lock;
pub mod media;
pub mod models;
pub mod pack;
pub mod plan;
pub mod progress;
pub mod report;
pub mod rules;
pub mod run;
pub mod small_file;
pub mod spend;
pub mod split;
