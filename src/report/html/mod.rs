//! Self-contained HTML pages: the dataset report (`wanft report`) and the checkpoint gallery
//! (`wanft checkpoints gallery`).
//!
//! A page is one file that opens from disk with no network: CSS and script inline, pictures
//! as `data:` URIs, videos as paths relative to the page, and a Content-Security-Policy that
//! forbids fetching anything else. Every piece of text that comes from a dataset or the API
//! (file names, prompts, messages) is escaped by [`escape`]: they are hostile input.

pub mod dataset;
pub mod gallery;

use std::fmt::Write as _;

use base64::Engine as _;

/// Escapes text for HTML content and (double- or single-quoted) attribute values. C0 control
/// characters and the bidirectional overrides that can make a file name read as another one
/// are shown as `\u{…}` instead of being passed through.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20
                || c == '\u{7f}'
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A `data:` URI of a JPEG picture.
pub fn jpeg_uri(jpeg: &[u8]) -> String {
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    )
}

/// A path relative to the page as an attribute value: each segment percent-encoded where a
/// URL needs it, so that `#`, `?` or `%` in a name stay part of the name.
pub fn relative_url(path: &str) -> String {
    let mut out = String::new();
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        for b in segment.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(b as char)
                }
                _ => {
                    let _ = write!(out, "%{b:02X}");
                }
            }
        }
    }
    out
}

/// The shared style: readable in light and dark mode, a visible keyboard focus.
const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1b1f; --muted: #5d5d66; --card: #f5f5f7;
  --line: #d8d8de; --error: #b3261e; --warning: #8a5300; --info: #1d5fa8; --ok: #1e7a3a;
  --trigger: #ffd54f; --effect: #c8e6c9; }
@media (prefers-color-scheme: dark) { :root { --bg: #16161a; --fg: #e8e8ec; --muted: #a6a6b0;
  --card: #222228; --line: #3a3a44; --error: #ff8a80; --warning: #ffcc80; --info: #90caf9;
  --ok: #a5d6a7; --trigger: #8d6e00; --effect: #2e5e33; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem 1.5rem 3rem; font: 15px/1.45 system-ui, sans-serif;
  background: var(--bg); color: var(--fg); }
h1 { font-size: 1.5rem; margin: .2rem 0 .6rem; } h2 { font-size: 1.2rem; margin: 1.6rem 0 .5rem; }
h3 { font-size: 1rem; margin: 0; }
a { color: inherit; } code, .mono { font-family: ui-monospace, monospace; font-size: .92em; }
:focus-visible { outline: 3px solid var(--info); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: var(--bg); padding: .3rem; }
.summary { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; padding: .8rem 1rem; background: var(--card);
  border: 1px solid var(--line); border-radius: 8px; }
.summary div { min-width: 9rem; } .summary dt { color: var(--muted); font-size: .85em; } .summary dd { margin: 0; font-weight: 600; }
.toolbar { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin: 1rem 0; }
.toolbar label { display: flex; gap: .4rem; align-items: center; }
select, button { font: inherit; padding: .25rem .4rem; }
.sample { border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin: .8rem 0; background: var(--card); }
.sample > header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; }
.sheet { display: flex; flex-wrap: wrap; gap: .5rem; margin: .6rem 0; align-items: flex-start; }
figure { margin: 0; } figure img { display: block; max-height: 120px; border: 1px solid var(--line); }
figcaption { font-size: .8em; color: var(--muted); max-width: 11rem; }
.pair { padding: .25rem; border-radius: 6px; background: var(--bg); display: flex; gap: .35rem; }
.facts { display: flex; flex-wrap: wrap; gap: .2rem 1.2rem; color: var(--muted); font-size: .9em; margin: .3rem 0; }
.prompt { margin: .4rem 0; } mark.trigger { background: var(--trigger); color: inherit; font-weight: 700; padding: 0 .15em; }
mark.effect { background: var(--effect); color: inherit; }
.findings { list-style: none; padding: 0; margin: .4rem 0 0; }
.findings li { margin: .2rem 0; } .sev { font-weight: 700; }
.sev-error { color: var(--error); } .sev-warning { color: var(--warning); } .sev-info { color: var(--info); }
.ok { color: var(--ok); font-weight: 600; }
.badge { display: inline-block; border: 1px solid currentColor; border-radius: 4px; padding: 0 .3em; font-size: .8em; margin-right: .2em; }
table { border-collapse: collapse; } th, td { border: 1px solid var(--line); padding: .4rem; vertical-align: top; text-align: left; }
video { display: block; width: 240px; max-width: 100%; background: #000; }
.muted { color: var(--muted); }
"#;

/// A whole page: `title` (escaped here), a Content-Security-Policy that allows only inline
/// style and script, `data:` pictures and, with `local_media`, media files beside the page.
pub fn page(title: &str, body: &str, script: &str, local_media: bool) -> String {
    // file: pages have an opaque origin, so local files are allowed by scheme.
    let (images, media) = match local_media {
        true => ("data: file: 'self'", "media-src file: 'self'; "),
        false => ("data:", ""),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         img-src {images}; {media}style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"wanft {version}\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">Skip to the content</a>\n\
         <main id=\"main\">\n{body}</main>\n<script>{script}</script>\n</body>\n</html>\n",
        title = escape(title),
        version = env!("CARGO_PKG_VERSION"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_cannot_break_out() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(escape("a\u{202e}gpj.exe\u{1}"), "a\\u{202e}gpj.exe\\u{1}");
        assert_eq!(
            relative_url("videos/a b#?%.mp4"),
            "videos/a%20b%23%3F%25.mp4"
        );
    }

    #[test]
    fn pages_forbid_the_network() {
        let html = page("t<", "<p>x</p>", "", false);
        assert!(html.contains("default-src 'none'"));
        assert!(html.contains("<title>t&lt;</title>"));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }
}
