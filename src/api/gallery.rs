//! The checkpoint gallery of a finished job: every checkpoint's preview videos downloaded into
//! one folder (before the platform's 24-hour links expire) and a page that shows them side by
//! side ([`crate::report::html::gallery`]).
//!
//! Resumable: a file already in the folder is complete (downloads are written to a temporary
//! file and renamed into place), so a second run fetches only what is missing and rewrites the
//! page. The page itself is written the same way.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::checkpoints::{self, Checkpoint, EXPIRY_WARNING, Preview};
use super::client::Client;
use super::download::download;
use super::error::ApiError;
use crate::progress::Progress;
use crate::report::html::gallery::{self, Column, GalleryPage, Row};

/// The page's file name inside the gallery folder.
pub const PAGE: &str = "index.html";

/// How to build a gallery.
pub struct GalleryOptions<'a> {
    /// The folder the page, videos and validation images go to.
    pub dir: &'a Path,
    /// Abandon (and retry) a download when no byte arrives for this long.
    pub stall_timeout: Duration,
    /// Flags that make `wanft checkpoints export` reach this job (`--region …`), appended to
    /// the export commands shown on the page.
    pub command_flags: String,
    pub progress: &'a dyn Progress,
}

/// What building the gallery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gallery {
    /// The page.
    pub page: PathBuf,
    pub checkpoints: usize,
    pub prompts: usize,
    /// Files fetched by this run, and files already there from an earlier one.
    pub downloaded: usize,
    pub reused: usize,
    /// Previews that could not be fetched (an expired link, say): what and why.
    pub missing: Vec<String>,
    /// The preview videos in the folder, by checkpoint then prompt.
    pub videos: Vec<PathBuf>,
}

/// The flags that make a printed `wanft` command reach the same API as `client`: the region,
/// and the host when it is not the region's own (the emulator, say).
pub fn command_flags(client: &Client) -> String {
    let region = client.region();
    let base = client.base_url();
    if base.trim_end_matches('/') == region.base_url() {
        format!("--region {region}")
    } else {
        format!("--region {region} --base-url {base}")
    }
}

/// Downloads every previewed checkpoint's videos of `job_id` into `options.dir` and writes the
/// gallery page there. A preview whose link no longer works is listed in
/// [`Gallery::missing`] (and on the page) instead of failing the whole gallery; API and
/// local write errors fail it.
pub async fn write_gallery(
    client: &Client,
    job_id: &str,
    options: &GalleryOptions<'_>,
) -> Result<Gallery, ApiError> {
    let dir = options.dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| ApiError::local(format!("cannot create {}", dir.display()), e))?;
    let previewed = checkpoints::previewed_checkpoints(client, job_id).await?;
    let listed = checkpoints::checkpoints(client, job_id).await?;
    let now = client.server_now();
    let mut outcome = Gallery {
        page: dir.join(PAGE),
        checkpoints: previewed.len(),
        prompts: 0,
        downloaded: 0,
        reused: 0,
        missing: Vec::new(),
        videos: Vec::new(),
    };
    let mut columns = Vec::new();
    let mut previews: Vec<Vec<Preview>> = Vec::new();
    for name in &previewed {
        previews.push(checkpoints::previews(client, job_id, name).await?);
        let info = listed.iter().find(|c| &c.checkpoint == name);
        columns.push(column(job_id, name, info, now, &options.command_flags));
    }
    let prompts = previews.iter().map(Vec::len).max().unwrap_or(0);
    outcome.prompts = prompts;
    let mut rows: Vec<Row> = (0..prompts)
        .map(|i| Row {
            prompt: previews
                .iter()
                .find_map(|p| p.get(i).and_then(|p| p.prompt.clone())),
            image: None,
            videos: Vec::new(),
        })
        .collect();
    let mut videos: Vec<(usize, usize, PathBuf)> = Vec::new();
    for (i, row) in rows.iter_mut().enumerate() {
        // The validation image, once (the same at every checkpoint).
        if let Some(url) = previews
            .iter()
            .find_map(|p| p.get(i).and_then(|p| p.first_frame_path.clone()))
        {
            let relative = format!("frames/{:02}.{}", i + 1, image_extension(&url));
            if fetch(client, &url, dir, &relative, options, &mut outcome)
                .await?
                .is_ok()
            {
                row.image = Some(relative);
            }
        }
        for (c, (name, list)) in previewed.iter().zip(&previews).enumerate() {
            let url = list.get(i).and_then(|p| p.video_path.clone());
            let video = match url {
                None => Err("no preview for this prompt".to_string()),
                Some(url) => {
                    let relative = format!("videos/{}/{:02}.mp4", safe_name(name), i + 1);
                    fetch(client, &url, dir, &relative, options, &mut outcome)
                        .await?
                        .map(|()| relative)
                }
            };
            match &video {
                Ok(relative) => videos.push((c, i, dir.join(relative))),
                Err(why) => outcome
                    .missing
                    .push(format!("{name} prompt {}: {why}", i + 1)),
            }
            row.videos.push(video);
        }
    }
    videos.sort_by_key(|(c, i, _)| (*c, *i));
    outcome.videos = videos.into_iter().map(|(.., path)| path).collect();
    let page = GalleryPage {
        job_id: job_id.to_string(),
        region: client.region().to_string(),
        downloaded_at: now.format("%Y-%m-%d %H:%M UTC").to_string(),
        columns,
        rows,
    };
    write_page(&outcome.page, &gallery::render(&page))?;
    Ok(outcome)
}

fn column(
    job_id: &str,
    name: &str,
    info: Option<&Checkpoint>,
    now: chrono::DateTime<chrono::Utc>,
    flags: &str,
) -> Column {
    let step = info
        .and_then(Checkpoint::step)
        .or_else(|| checkpoints::step_of(name));
    let exported = info
        .filter(|c| c.is_exported())
        .and_then(|c| c.model_name.clone());
    let expires_at = info.and_then(Checkpoint::expires_at);
    let expires = expires_at.map(|at| {
        let left = (at - now).num_hours();
        let when = at.format("%Y-%m-%d %H:%M UTC");
        match left {
            l if l < 0 => format!("{when} (expired)"),
            l if l < 48 => format!("{when} (in {l} hours)"),
            l => format!("{when} (in {} days)", l / 24),
        }
    });
    let expiring_soon = exported.is_none()
        && expires_at
            .is_some_and(|at| (at - now).to_std().unwrap_or(Duration::ZERO) <= EXPIRY_WARNING);
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" {flags}")
    };
    Column {
        checkpoint: name.to_string(),
        step,
        expires,
        exported,
        expiring_soon,
        export_command: format!(
            "wanft checkpoints export {job_id} {name} --name {}{flags}",
            export_name(job_id, step)
        ),
    }
}

/// A display name the export accepts (letters, digits, `_` and `-`), unique per job and step.
fn export_name(job_id: &str, step: Option<u64>) -> String {
    let job: String = job_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    match step {
        Some(step) => format!("lora_{job}_{step}"),
        None => format!("lora_{job}"),
    }
}

/// Downloads `url` to `dir/relative` unless a complete copy is there. `Ok(Err(why))` when the
/// link does not work (the gallery goes on without it); `Err` for a local failure.
async fn fetch(
    client: &Client,
    url: &str,
    dir: &Path,
    relative: &str,
    options: &GalleryOptions<'_>,
    outcome: &mut Gallery,
) -> Result<Result<(), String>, ApiError> {
    let dest = dir.join(relative);
    // Downloads are renamed into place whole: a file there is complete.
    if dest.is_file() {
        outcome.reused += 1;
        return Ok(Ok(()));
    }
    match download(client, url, &dest, options.stall_timeout, options.progress).await {
        Ok(_) => {
            outcome.downloaded += 1;
            Ok(Ok(()))
        }
        Err(e @ ApiError::Local { .. }) => Err(e),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// A checkpoint name as one safe folder name (names come from the API).
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.trim_matches('.') {
        "" => "checkpoint".to_string(),
        trimmed => trimmed.to_string(),
    }
}

/// The validation image's extension, from its link's path (jpg when unclear).
fn image_extension(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    for ext in ["png", "webp", "bmp", "jpeg"] {
        if path.ends_with(&format!(".{ext}")) {
            return ext;
        }
    }
    "jpg"
}

/// Writes the page through a temporary file renamed into place.
fn write_page(path: &Path, html: &str) -> Result<(), ApiError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let local = |e| ApiError::local(format!("cannot write {}", path.display()), e);
    let mut temp = tempfile::Builder::new()
        .prefix(".wanft-gallery-")
        .tempfile_in(dir)
        .map_err(local)?;
    temp.write_all(html.as_bytes()).map_err(local)?;
    temp.as_file().sync_all().map_err(local)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644));
    }
    temp.persist(path).map_err(|e| local(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_api_become_safe_paths_and_export_names() {
        assert_eq!(safe_name("checkpoint-400"), "checkpoint-400");
        assert_eq!(safe_name("../../etc/x"), "_.._etc_x");
        assert_eq!(safe_name(".."), "checkpoint");
        assert_eq!(export_name("ft-2026-abc/def", Some(40)), "lora_26abcdef_40");
        assert_eq!(image_extension("https://x/y/frame.PNG?sig=1"), "png");
        assert_eq!(image_extension("https://x/y/frame"), "jpg");
    }
}
