//! Building the upload zip.

pub mod layout;
