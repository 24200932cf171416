//! The optional ffmpeg integration: deep decode checks and media fixes.
