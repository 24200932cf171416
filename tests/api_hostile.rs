//! The client against a hostile or broken server: garbage, truncated and oversized answers,
//! HTML error pages, a server that echoes the key, and ids that would change the path.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wanft::api::jobs;
use wanft::api::{ApiError, Client, ClientConfig, RetryPolicy, Secret, Stage};
use wanft::models::Region;

const KEY: &str = "sk-hostile-SENTINEL-31337";

/// A server answering every request with `answer` (given the raw request); counts requests.
async fn serve(answer: fn(&str) -> Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let response = answer(&String::from_utf8_lossy(&request));
                let _ = socket.write_all(&response).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (base, count)
}

fn client(base: &str) -> Client {
    let mut config = ClientConfig::new(Region::CnBeijing, Secret::new(KEY).unwrap());
    config.base_url = Some(base.into());
    config.retry = RetryPolicy {
        retries: 2,
        base_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    Client::new(config).unwrap()
}

fn response(status: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn garbage_with_a_200_is_a_final_decode_error() {
    let (base, count) = serve(|_| response("200 OK", "", "<html>surprise</html>")).await;
    let err = jobs::get_job(&client(&base), "ft-1").await.unwrap_err();
    assert!(matches!(err, ApiError::Decode { .. }), "{err:?}");
    assert_eq!(count.load(Ordering::SeqCst), 1, "not retried");

    let (base, _) = serve(|_| response("200 OK", "", r#"{"request_id":"r"}"#)).await;
    let err = jobs::get_job(&client(&base), "ft-1").await.unwrap_err();
    assert!(err.to_string().contains("output"), "{err}");
}

#[tokio::test]
async fn an_html_gateway_error_is_retried_and_shown_short() {
    fn page(_: &str) -> Vec<u8> {
        let body = format!("<html><body>{}</body></html>", "Bad Gateway ".repeat(500));
        response("502 Bad Gateway", "Content-Type: text/html\r\n", &body)
    }
    let (base, count) = serve(page).await;
    let err = jobs::get_job(&client(&base), "ft-1").await.unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 3, "first try and two retries");
    let failure = err.http().expect("an HTTP failure");
    assert_eq!(failure.status, 502);
    assert!(failure.message.as_ref().unwrap().chars().count() <= 201);
}

#[tokio::test]
async fn an_oversized_answer_is_refused_before_it_is_read() {
    let (base, _) = serve(|_| {
        b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\nConnection: close\r\n\r\n{".to_vec()
    })
    .await;
    let err = jobs::get_job(&client(&base), "ft-1").await.unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn a_truncated_answer_is_a_transport_failure_and_retried() {
    let (base, count) = serve(|_| {
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{\"output\":".to_vec()
    })
    .await;
    let err = jobs::get_job(&client(&base), "ft-1").await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport {
                stage: Stage::Exchange,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_server_echoing_the_key_cannot_make_the_client_print_it() {
    fn echo(request: &str) -> Vec<u8> {
        let body =
            serde_json::json!({ "code": "InvalidParameter", "message": request }).to_string();
        response("400 Bad Request", "", &body)
    }
    let (base, _) = serve(echo).await;
    let err = jobs::get_job(&client(&base), "ft-1").await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("Bearer <redacted>"),
        "the echo arrived: {shown}"
    );
    assert!(!shown.contains(KEY), "{shown}");
}

/// The key echoed back encoded: JSON-escaped inside the message (so decoding the JSON yields
/// it in clear, and a raw view shows it escaped), percent-encoded, and in base64 as an
/// `Authorization` header echo. None of it reaches what the client shows.
#[tokio::test]
async fn a_server_echoing_the_key_encoded_cannot_make_the_client_print_it() {
    use base64::Engine;
    fn json_escaped(s: &str) -> String {
        s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect()
    }
    fn echo(request: &str) -> Vec<u8> {
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("authorization: Bearer "))
            .unwrap_or_default()
            .trim();
        let percent: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("Bearer {key}"));
        // The JSON text carries `\u0073k-…`; its value, once parsed, is the key itself.
        let body = format!(
            r#"{{"code":"InvalidParameter","message":"key {} seen at ?k={percent} with Authorization: Basic {basic}"}}"#,
            json_escaped(key)
        );
        response(
            "400 Bad Request",
            "Content-Type: application/json\r\n",
            &body,
        )
    }
    for body_is_json in [true, false] {
        let (base, _) = if body_is_json {
            serve(echo).await
        } else {
            // The same text as a non-JSON error page: shown raw, escapes and all.
            serve(|request| {
                let json = echo(request);
                let text = String::from_utf8_lossy(&json);
                let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
                response(
                    "502 Bad Gateway",
                    "Content-Type: text/plain\r\n",
                    &format!("oops {body}"),
                )
            })
            .await
        };
        let err = jobs::get_job(&client(&base), "ft-1").await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("<redacted>"), "the echo arrived: {shown}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(!shown.contains("SENTINEL"), "{shown}");
        assert!(!shown.contains("\\u0073k"), "{shown}");
        assert!(!shown.contains("%53%45%4E"), "{shown}");
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("Bearer {KEY}"));
        assert!(!shown.contains(&basic[..20]), "{shown}");
    }
}

#[tokio::test]
async fn empty_ids_are_refused_locally() {
    let (base, count) = serve(|_| response("200 OK", "", "{}")).await;
    let err = jobs::get_job(&client(&base), " ").await.unwrap_err();
    assert!(matches!(err, ApiError::Invalid(_)), "{err:?}");
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

/// A server that ignores `offset` and `line` (the log as documented before 2026) still gives
/// every line once, to a whole read and to a cursor that follows.
#[tokio::test]
async fn a_log_server_that_ignores_paging_yields_each_line_once() {
    fn whole_log(_: &str) -> Vec<u8> {
        let lines: Vec<String> = (1..=1500).map(|n| format!("\"line {n}\"")).collect();
        let body = format!(
            r#"{{"request_id":"r","output":{{"total":1500,"logs":[{}]}}}}"#,
            lines.join(",")
        );
        response("200 OK", "Content-Type: application/json\r\n", &body)
    }
    let (base, _) = serve(whole_log).await;
    let client = client(&base);
    let logs = jobs::job_logs(&client, "ft-1").await.unwrap();
    assert_eq!(logs.logs.len(), 1500);
    assert_eq!(logs.logs[1499], "line 1500");
    let mut cursor = jobs::LogCursor::new("ft-1");
    assert_eq!(cursor.next_lines(&client).await.unwrap().len(), 1500);
    assert!(
        cursor.next_lines(&client).await.unwrap().is_empty(),
        "nothing twice"
    );
    assert_eq!(cursor.offset(), 1500);
}
