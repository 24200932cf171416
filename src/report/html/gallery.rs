//! The checkpoint gallery: every validation prompt (rows) rendered at every checkpoint
//! (columns), the downloaded preview videos side by side, with each checkpoint's step, expiry
//! and the command that exports it.

use std::fmt::Write as _;

use super::{escape, page, relative_url};

/// A checkpoint column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub checkpoint: String,
    pub step: Option<u64>,
    /// When it stops being exportable, as shown (spec §8.3), and how long is left.
    pub expires: Option<String>,
    /// Already exported: its deployable model name.
    pub exported: Option<String>,
    /// Unexported and close to (or past) its expiry.
    pub expiring_soon: bool,
    /// The command that exports it, ready to run.
    pub export_command: String,
}

/// A validation line.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub prompt: Option<String>,
    /// The validation image, relative to the page.
    pub image: Option<String>,
    /// Per column: the preview video relative to the page, or why there is none.
    pub videos: Vec<Result<String, String>>,
}

/// The page's content.
#[derive(Debug, Clone, PartialEq)]
pub struct GalleryPage {
    pub job_id: String,
    pub region: String,
    /// When the previews were downloaded (their links live 24 hours, spec §6.12).
    pub downloaded_at: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// Renders the gallery as one HTML page (videos and pictures are files beside it).
pub fn render(gallery: &GalleryPage) -> String {
    let mut body = String::new();
    let title = format!("Checkpoints of {}", gallery.job_id);
    let _ = writeln!(body, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        body,
        "<p>{} checkpoints × {} validation prompts · region {} · previews downloaded {} (the \
         platform's links expire 24 hours after they are listed; these copies do not). \
         Unexported checkpoints can be exported until their expiry.</p>",
        gallery.columns.len(),
        gallery.rows.len(),
        escape(&gallery.region),
        escape(&gallery.downloaded_at),
    );
    if gallery.columns.is_empty() {
        body.push_str(
            "<p>No checkpoint has previews yet: they are rendered once training has \
             finished.</p>\n",
        );
        return page(&title, &body, "", true);
    }
    body.push_str("<div style=\"overflow-x:auto\">\n<table>\n<caption class=\"muted\">Validation prompts (rows) at each checkpoint (columns)</caption>\n<thead><tr><th scope=\"col\">Validation prompt</th>\n");
    for c in &gallery.columns {
        let step = c
            .step
            .map_or_else(|| "step unknown".into(), |s| format!("step {s}"));
        let state = match (&c.exported, &c.expires) {
            (Some(model), _) => format!("exported as <code>{}</code>", escape(model)),
            (None, Some(expires)) => format!(
                "<span class=\"{}\">expires {}</span>",
                if c.expiring_soon {
                    "sev-warning"
                } else {
                    "muted"
                },
                escape(expires)
            ),
            (None, None) => "<span class=\"muted\">expiry unknown</span>".into(),
        };
        let _ = writeln!(
            body,
            "<th scope=\"col\" class=\"checkpoint\" data-step=\"{}\"><div>{}</div><div>{}</div>\
             <div>{state}</div><div><code class=\"export\">{}</code></div></th>",
            c.step.map_or_else(String::new, |s| s.to_string()),
            escape(&c.checkpoint),
            escape(&step),
            escape(&c.export_command),
        );
    }
    body.push_str("</tr></thead>\n<tbody>\n");
    for (i, row) in gallery.rows.iter().enumerate() {
        let prompt = row.prompt.as_deref().unwrap_or("(no prompt)");
        let _ = write!(
            body,
            "<tr class=\"prompt-row\"><th scope=\"row\"><div>{}. {}</div>",
            i + 1,
            escape(prompt)
        );
        if let Some(image) = &row.image {
            let _ = write!(
                body,
                "<img src=\"{}\" alt=\"Validation image {}\" style=\"max-width:200px\">",
                relative_url(image),
                i + 1
            );
        }
        body.push_str("</th>\n");
        for (c, video) in gallery.columns.iter().zip(&row.videos) {
            match video {
                Ok(path) => {
                    let _ = writeln!(
                        body,
                        "<td><video src=\"{url}\" controls muted loop playsinline \
                         preload=\"metadata\" aria-label=\"Prompt {n} at {name}\"></video>\
                         <a href=\"{url}\">{file}</a></td>",
                        url = relative_url(path),
                        n = i + 1,
                        name = escape(&c.checkpoint),
                        file = escape(path),
                    );
                }
                Err(why) => {
                    let _ = writeln!(
                        body,
                        "<td class=\"missing\"><span class=\"sev-warning\">not downloaded: \
                         {}</span></td>",
                        escape(why)
                    );
                }
            }
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    page(&title, &body, "", true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_stay_text_and_paths_stay_relative() {
        let g = GalleryPage {
            job_id: "ft-<x>".into(),
            region: "cn-beijing".into(),
            downloaded_at: "2026-01-01 00:00 UTC".into(),
            columns: vec![Column {
                checkpoint: "checkpoint-\"><script>".into(),
                step: Some(40),
                expires: Some("2026-01-08 00:00 UTC".into()),
                exported: None,
                expiring_soon: true,
                export_command: "wanft checkpoints export ft checkpoint-40 --name NAME".into(),
            }],
            rows: vec![Row {
                prompt: Some("a <b>cat</b>".into()),
                image: Some("frames/01.jpg".into()),
                videos: vec![Ok("videos/c 1/01.mp4".into())],
            }],
        };
        let html = render(&g);
        assert!(!html.contains("<script>\""), "{html}");
        assert!(html.contains("a &lt;b&gt;cat&lt;/b&gt;"));
        assert!(html.contains("src=\"videos/c%201/01.mp4\""));
        assert!(html.contains("step 40") && html.contains("expires 2026-01-08"));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }
}
