//! The HTML pages opened as a person would: in headless Chromium (Debian's `chromium`, which
//! `.ci/run` installs), from disk, with every network request sent to a closed port. Each test
//! asserts on the DOM after the page's script ran, proves from Chromium's network log that the
//! page asked for nothing (a control page that does ask shows the log would tell), and writes
//! a screenshot under the target directory.

mod cli_api_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use cli_api_support::common::{Fixture, ffmpeg};
use cli_api_support::{Cli, fast_clock};
use serde_json::Value;

const REGION: &str = "cn-beijing";

/// Headless Chromium with a fresh profile, no background services, and a proxy on a closed
/// port, so that any request would fail rather than leave the machine.
struct Browser {
    profile: tempfile::TempDir,
}

/// What loading a page showed.
struct Loaded {
    dom: String,
    /// URLs of the requests the page itself made (Chromium's own background requests, whose
    /// initiator is "not an origin", are not the page's).
    page_requests: Vec<String>,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            profile: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("chromium");
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--proxy-server=127.0.0.1:9",
            "--window-size=1280,1600",
        ]);
        cmd.arg(format!(
            "--user-data-dir={}",
            self.profile.path().join("profile").display()
        ));
        cmd
    }

    /// Loads `url` and returns the DOM after its script ran, with the page's requests.
    fn load(&self, url: &str) -> Loaded {
        let log = self.profile.path().join("net-log.json");
        let output = self
            .command()
            .arg(format!("--log-net-log={}", log.display()))
            .args(["--dump-dom", url])
            .output()
            .expect("chromium must be installed (apt-get install chromium; .ci/run does)");
        assert!(
            output.status.success(),
            "chromium failed on {url}: {output:?}"
        );
        let dom = String::from_utf8(output.stdout).unwrap();
        assert!(dom.contains("</html>"), "no DOM for {url}: {dom}");
        Loaded {
            dom,
            page_requests: page_requests(&log),
        }
    }

    /// Writes a screenshot of `url` to `out` (a PNG, checked).
    fn screenshot(&self, url: &str, out: &Path) {
        let _ = std::fs::remove_file(out);
        let output = self
            .command()
            .arg(format!("--screenshot={}", out.display()))
            .arg(url)
            .output()
            .expect("chromium runs");
        assert!(output.status.success(), "{output:?}");
        let png = std::fs::read(out).expect("a screenshot is written");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(
            png.len() > 20_000,
            "a blank screenshot? {} bytes",
            png.len()
        );
    }
}

/// The URLs of the requests a page made, from a Chromium network log: requests started with
/// an initiator other than the browser itself.
fn page_requests(log: &Path) -> Vec<String> {
    let log: Value = serde_json::from_slice(&std::fs::read(log).unwrap()).unwrap();
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    assert!(start_job.is_number(), "a Chromium network log");
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        // The begin phase of each job carries the URL and initiator; the end phase nothing.
        .filter(|e| e["type"] == start_job && e["params"]["url"].is_string())
        .filter(|e| e["params"]["initiator"] != "not an origin")
        .map(|e| e["params"]["url"].as_str().unwrap().to_string())
        .collect()
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

/// Every `src` and `href` value of the page: none may reach the network.
fn assert_no_remote_links(html: &str) {
    for attribute in ["src=\"", "href=\"", "src='", "href='"] {
        for (at, _) in html.match_indices(attribute) {
            let value = &html[at + attribute.len()..];
            assert!(
                !value.starts_with("http:")
                    && !value.starts_with("https:")
                    && !value.starts_with("//"),
                "a remote link: {}",
                &value[..value.len().min(80)]
            );
        }
    }
}

fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

#[test]
fn the_network_log_would_show_a_page_request() {
    // The control: a page that does reach out is caught, so an empty list means something.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("leaky.html");
    std::fs::write(
        &page,
        "<html><body><img src=\"http://example.invalid/x.png\"></body></html>",
    )
    .unwrap();
    let loaded = Browser::new().load(&file_url(&page));
    assert_eq!(loaded.page_requests, ["http://example.invalid/x.png"]);
}

#[test]
fn the_report_opens_offline_and_shows_every_sample() {
    let fx = Fixture::i2v();
    let lines = fx.lines();
    fx.set_lines(&lines[..4]);
    for l in &lines[4..] {
        fx.remove(l["video_path"].as_str().unwrap());
        fx.remove(l["first_frame_path"].as_str().unwrap());
    }
    // Line 1's first frame is frame 30 (D001); line 2's prompt carries markup; line 3's clip
    // has a name that is markup too.
    let clip = fx.path("clip01.mp4");
    let first = fx.path("clip01_first.jpg");
    ffmpeg(&[
        "-i",
        clip.to_str().unwrap(),
        "-vf",
        "select=eq(n\\,30)",
        "-frames:v",
        "1",
        first.to_str().unwrap(),
    ]);
    let hostile = "The video begins showing <img src=x onerror=alert(1)> a cyclist. Then the v7nq2r ripple shatter effect begins, the scene cracks like glass and the shards drift outward in slow motion.";
    fx.set_field(1, "prompt", hostile);
    fx.rename("clip03.mp4", "<b>clip03</b>.mp4");
    fx.set_field(2, "video_path", "<b>clip03</b>.mp4");
    let out = fx.root.parent().unwrap().join("report.html");
    let status = Command::new(env!("CARGO_BIN_EXE_wanft"))
        .args([
            "report",
            fx.root.to_str().unwrap(),
            "--trigger",
            "v7nq2r",
            "--region",
            REGION,
            "-o",
        ])
        .arg(&out)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(1),
        "S001 (4 samples) is an error: {status:?}"
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert_no_remote_links(&html);
    assert!(
        html.contains("default-src 'none'"),
        "the page forbids fetching"
    );

    let browser = Browser::new();
    let loaded = browser.load(&format!("{}#filter=D001", file_url(&out)));
    assert!(
        loaded.page_requests.is_empty(),
        "{:?}",
        loaded.page_requests
    );
    let dom = &loaded.dom;
    assert_eq!(
        dom.matches("<article class=\"sample\"").count(),
        4,
        "every sample"
    );
    // The filter from the address ran: only line 1 has D001.
    assert_eq!(dom.matches("hidden=\"\"").count(), 3);
    assert!(dom.contains("1 of 4 samples shown"));
    assert!(
        dom.contains("data-codes=\"D001"),
        "the finding is on its sample"
    );
    assert!(dom.contains("likely cause: another frame"));
    assert_eq!(
        dom.matches("<mark class=\"trigger\">v7nq2r</mark>").count(),
        4
    );
    assert_eq!(dom.matches("<mark class=\"effect\">").count(), 4);
    // Markup in a prompt and a file name stays text.
    assert!(
        !dom.contains("onerror=alert(1)>"),
        "the prompt's markup became an element"
    );
    assert!(dom.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(dom.contains("&lt;b&gt;clip03&lt;/b&gt;.mp4") && !dom.contains("<b>clip03</b>"));
    // Pictures: supplied first frame, frame 0, six across each clip, the last frame.
    assert!(dom.matches("<img src=\"data:image/jpeg;base64,").count() >= 4 * 8);
    assert!(dom.contains("alt=\"Supplied first frame clip01_first.jpg\""));
    assert!(
        dom.contains("Fee") && dom.contains('¥'),
        "the plan's fee is on top"
    );
    // Per sample: billed seconds, and what max_pixels does to the clips (all above it).
    assert_eq!(dom.matches(" s per epoch</span>").count(), 4);
    assert_eq!(
        dom.matches("max_pixels 36864 scales it to about ").count(),
        4
    );
    assert!(dom.contains("about 221×166 (aspect kept: assumed, undocumented)"));
    // Ordered by the number of findings, from the address: counts never rise down the page.
    let sorted = browser.load(&format!("{}#sort=findings", file_url(&out)));
    let counts: Vec<u32> = attribute_values(&sorted.dom, "data-findings");
    let lines: Vec<u32> = attribute_values(&sorted.dom, "data-line");
    assert_eq!(counts.len(), 4);
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let mut by_hand: Vec<(u32, u32)> = attribute_values(dom, "data-line")
        .into_iter()
        .zip(attribute_values(dom, "data-findings"))
        .collect();
    by_hand.sort_by_key(|&(line, n)| (std::cmp::Reverse(n), line));
    assert_eq!(lines, by_hand.iter().map(|p| p.0).collect::<Vec<_>>());
    browser.screenshot(&file_url(&out), &screenshot_path("report.png"));
}

#[test]
fn the_gallery_downloads_once_and_opens_offline() {
    let cli = Cli::start(fast_clock());
    let zip = cli.example_zip("i2v-train");
    let (stdout, _) = cli.run(cli.wanft(REGION, &["upload", zip.to_str().unwrap()]), 0);
    let file_id = stdout.trim().to_owned();
    let created = cli.json(cli.wanft(
        REGION,
        &[
            "jobs",
            "create",
            "--training",
            &file_id,
            "--n-epochs",
            "100",
            "--eval-epochs",
            "20",
            "--yes",
        ],
    ));
    let job_id = created["job"]["job_id"].as_str().unwrap().to_owned();
    cli.run(
        cli.wanft(REGION, &["jobs", "wait", &job_id, "--interval", "100ms"]),
        0,
    );

    let dir = cli.work.path().join("gallery");
    let gallery = |cli: &Cli| {
        cli.json(cli.wanft(
            REGION,
            &[
                "checkpoints",
                "gallery",
                &job_id,
                "--out",
                dir.to_str().unwrap(),
            ],
        ))
    };
    let first = gallery(&cli);
    let (checkpoints, prompts) = (
        first["checkpoints"].as_u64().unwrap(),
        first["prompts"].as_u64().unwrap(),
    );
    assert!(checkpoints >= 2 && prompts >= 1, "{first}");
    // Every video and each validation image, fetched once.
    assert_eq!(
        first["downloaded"].as_u64().unwrap(),
        checkpoints * prompts + prompts,
        "{first}"
    );
    assert_eq!(first["reused"], 0);
    assert_eq!(first["missing"].as_array().unwrap().len(), 0);
    // Again: nothing fetched. With one video gone: that one only.
    let again = gallery(&cli);
    assert_eq!(again["downloaded"], 0);
    assert_eq!(again["reused"], first["downloaded"]);
    let videos: Vec<PathBuf> = walk(&dir.join("videos"));
    assert_eq!(videos.len() as u64, checkpoints * prompts);
    for video in &videos {
        let bytes = std::fs::read(video).unwrap();
        assert_eq!(&bytes[4..8], b"ftyp", "{} is an MP4", video.display());
    }
    std::fs::remove_file(&videos[0]).unwrap();
    let resumed = gallery(&cli);
    assert_eq!(resumed["downloaded"], 1);
    assert!(videos[0].is_file());
    assert!(
        !dir.read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".wanft")),
        "no temporary file is left"
    );

    let page = dir.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_no_remote_links(&html);
    let browser = Browser::new();
    let loaded = browser.load(&file_url(&page));
    assert!(
        loaded.page_requests.is_empty(),
        "{:?}",
        loaded.page_requests
    );
    let dom = &loaded.dom;
    assert_eq!(dom.matches("<video ").count() as u64, checkpoints * prompts);
    assert_eq!(
        dom.matches("<tr class=\"prompt-row\"").count() as u64,
        prompts
    );
    assert_eq!(
        dom.matches("<th scope=\"col\" class=\"checkpoint\"")
            .count() as u64,
        checkpoints
    );
    assert!(
        dom.contains("The video begins"),
        "the validation prompts are shown"
    );
    assert!(dom.contains(&format!("wanft checkpoints export {job_id} checkpoint-")));
    assert!(
        dom.contains("--region cn-beijing --base-url"),
        "the command runs as printed"
    );
    assert!(dom.contains("expires 20"), "each checkpoint's expiry");
    assert!(dom.contains("alt=\"Validation image 1\""));
    browser.screenshot(&file_url(&page), &screenshot_path("gallery.png"));
}

/// The numeric values of `name="…"` attributes, in document order.
fn attribute_values(dom: &str, name: &str) -> Vec<u32> {
    let pattern = format!(" {name}=\"");
    dom.match_indices(&pattern)
        .map(|(at, _)| {
            let rest = &dom[at + pattern.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
