//! What wanft prints cannot be steered by what it prints about: a file name holding a newline
//! or an escape sequence adds no line (and no `::error` command in a GitHub log) and rewrites
//! no terminal; a URL's password is never shown.

use crate::cli_api_support::common::Fixture;
use assert_cmd::Command;

/// A clip whose name forges a GitHub workflow command and a terminal escape.
const FORGED: &str = "clip\n::error file=README.md::pwned\x1b[2J.mp4";

fn check(fx: &Fixture, format: &str) -> (String, String) {
    let output = Command::cargo_bin("wanft")
        .unwrap()
        .args(["check", "--format", format])
        .arg(&fx.root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[cfg(unix)]
#[test]
fn control_characters_in_file_names_add_no_lines_or_commands() {
    let fx = Fixture::i2v();
    fx.rename("clip01.mp4", FORGED);
    // Referenced from data.jsonl too (JSON escapes it there), so it shows in messages.
    fx.set_field(0, "video_path", FORGED);
    let (text, _) = check(&fx, "text");
    let (github, _) = check(&fx, "github");
    for out in [&text, &github] {
        assert!(
            !out.contains('\x1b'),
            "an escape sequence got through:\n{out}"
        );
        assert!(
            out.contains("clip\\n::error file=README.md::pwned\\u{1b}[2J.mp4"),
            "{out}"
        );
    }
    assert!(
        text.lines().all(|l| !l.starts_with("::")),
        "a text line reads as a workflow command:\n{text}"
    );
    for line in github.lines() {
        assert!(line.starts_with("::"), "a line outside any command: {line}");
        assert!(
            !line.starts_with("::error file=README.md"),
            "forged: {line}"
        );
    }
}

#[test]
fn a_base_url_password_is_never_shown() {
    for base in [
        "user:hunter2-PASSWORD@host",
        "ftp://user:hunter2-PASSWORD@host/",
        "https://user:hunter2-PASSWORD@host/",
    ] {
        let output = Command::cargo_bin("wanft")
            .unwrap()
            .args([
                "files",
                "list",
                "--region",
                "cn-beijing",
                "--base-url",
                base,
            ])
            .env("DASHSCOPE_API_KEY", "sk-not-used")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(2), "{shown}");
        assert!(shown.contains("base URL"), "{shown}");
        assert!(!shown.contains("hunter2"), "{base}: {shown}");
    }
}

/// A server answering every request with `body` (JSON), on its own thread.
fn json_server(body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

#[test]
fn names_a_server_sends_add_no_lines() {
    let base = json_server(
        r#"{"object":"list","has_more":false,"data":[{"id":"file-1","object":"file","bytes":10,
            "created_at":1700000000,"filename":"evil\n::error file=README.md::pwned\u001b[2J.zip",
            "purpose":"fine-tune","status":"processed"}]}"#,
    );
    let output = Command::cargo_bin("wanft")
        .unwrap()
        .args([
            "files",
            "list",
            "--region",
            "ap-southeast-1",
            "--base-url",
            &base,
        ])
        .args(["--retry-delay", "10ms"])
        .env("DASHSCOPE_API_KEY", "sk-not-used")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("evil\\n::error"), "{stdout}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.lines().all(|l| !l.starts_with("::error")), "{text}");
    }
}
