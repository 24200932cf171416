//! The emulator under hostile uploads: dataset checks run off the request path, so admin
//! requests are answered at once while a heavy upload is being checked; a multipart part
//! header of 100 MB is refused after a few kilobytes.

mod common;
mod emulator_support;

use std::time::{Duration, Instant};

use emulator_support::{KEY, config, start};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use wanft::dataset::zip_index::MAX_MEMBERS;

/// The figure; the median of the admin calls is held to it, every call to 5 times it
/// (a loaded 2-core machine).
const ADMIN_LATENCY: Duration = Duration::from_millis(100);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_requests_are_answered_while_uploads_are_checked() {
    let h = start(config()).await;
    // A zip at the member budget: its check reads 100,000 directory entries and local headers.
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("heavy.zip");
    common::raw_zip::write_many_members(&zip, MAX_MEMBERS as u32);
    let file_id = h.upload("heavy.zip", std::fs::read(&zip).unwrap()).await;
    let job = h
        .create_job(json!({
            "model": wanft::models::DEFAULT_MODEL,
            "training_file_ids": [file_id],
            "training_type": "efficient_sft",
        }))
        .await;
    let job_id = job["job_id"].as_str().unwrap().to_owned();
    // The job's turn comes: API requests now wait for its check (without holding anything).
    // Three of them: when checks ran on request threads under the state lock, these took
    // both of the runtime's threads and nothing else was answered until the check ended.
    h.advance(3600.0).await;
    let started = Instant::now();
    let waiting: Vec<_> = (0..3)
        .map(|_| {
            let client = h.client.clone();
            let url = h.url(&format!("/api/v1/fine-tunes/{job_id}"));
            tokio::spawn(async move {
                let response = client.get(url).bearer_auth(KEY).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                let body: serde_json::Value = response.json().await.unwrap();
                (Instant::now(), body["output"]["status"].clone())
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for _ in 0..10 {
        let asked = Instant::now();
        let response = h
            .client
            .get(h.url("/__emulator/clock"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        latencies.push(asked.elapsed());
    }
    let admin_done = Instant::now();
    let mut answered = Vec::new();
    for task in waiting {
        let (at, status) = task.await.unwrap();
        assert_eq!(status, "FAILED", "no data.jsonl in the zip");
        answered.push(at);
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    assert!(median < ADMIN_LATENCY, "{latencies:?}");
    assert!(
        latencies[latencies.len() - 1] < 5 * ADMIN_LATENCY,
        "{latencies:?}"
    );
    // The checks were still running while the admin calls were answered.
    let last = answered.iter().max().unwrap();
    assert!(
        *last > admin_done,
        "the checks ended before the admin calls ({:?} vs {:?})",
        last.duration_since(started),
        admin_done.duration_since(started)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_part_header_is_refused_early() {
    let h = start(config()).await;
    let head = "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"";
    let total = 100u64 << 20;
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    let chunks = futures_util::stream::iter(
        std::iter::once(head.as_bytes().to_vec())
            .chain((0..total / 65536).map(|_| vec![b'a'; 65536])),
    )
    .map(move |chunk| {
        counter.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok::<_, std::io::Error>(chunk)
    });
    let started = Instant::now();
    let outcome = h
        .client
        .post(h.url("/compatible-mode/v1/files"))
        .bearer_auth(KEY)
        .header("Content-Type", "multipart/form-data; boundary=b0undary")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    // The emulator answers (or drops the connection) long before the 100 MB are sent.
    if let Ok(response) = outcome {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = response.text().await.unwrap();
        assert!(body.contains("headers are longer than"), "{body}");
    }
    assert!(
        sent.load(std::sync::atomic::Ordering::Relaxed) < total,
        "the whole header was read"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(
        h.get("/compatible-mode/v1/files").await.1["data"],
        json!([])
    );
}
