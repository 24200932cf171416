//! A client of the DashScope fine-tuning API (spec §6), for both regions.
//!
//! ```text
//! Client ── client (transport, key, envelopes) ── retry (backoff) ── create (never twice)
//!   ├─ files, multipart (streamed upload), upload (ledger, digest), download
//!   ├─ jobs, checkpoints, deployments
//!   └─ generation (+ images: local files as temporary uploads, or data: URLs)
//! ```
//!
//! Beijing (`cn-beijing`) uploads through the native file API, Singapore (`ap-southeast-1`)
//! through the OpenAI-compatible one; `ClientConfig::base_url` replaces the host (a local
//! emulator) while the region still picks the style. Answers are read leniently (unknown keys
//! ignored, absent keys defaulted, unfamiliar statuses kept). The API key lives in a
//! [`Secret`], and every text that reaches an error, an event or a log is scrubbed of it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wanft::api::ApiError> {
//! use wanft::api::{Client, ClientConfig, jobs, secret};
//! use wanft::models::Region;
//! let key = secret::load_api_key(Region::ApSoutheast1)?.secret;
//! let client = Client::new(ClientConfig::new(Region::ApSoutheast1, key))?;
//! let page = jobs::list_jobs(&client, &jobs::JobQuery::default()).await?;
//! println!("{} jobs", page.jobs.len());
//! # Ok(()) }
//! ```

pub mod checkpoints;
mod client;
mod create;
mod de;
pub mod deployments;
pub mod download;
pub mod error;
pub mod events;
pub mod failure;
pub mod files;
pub mod gallery;
pub mod generation;
pub mod images;
pub mod jobs;
pub mod ledger;
pub mod multipart;
pub mod poll;
mod redact;
pub mod retry;
pub mod secret;
mod status;
pub mod temporary;
mod transfer;
pub mod upload;
pub mod zip_digest;

pub use client::{Client, ClientConfig, USER_AGENT};
pub use error::{ApiError, HttpFailure, Stage};
pub use events::{Event, Observer, Quiet};
pub use retry::RetryPolicy;
pub use secret::Secret;
