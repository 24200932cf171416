//! File endpoints of the emulator, both styles (spec §6.1–§6.4), and authentication.

mod emulator_support;

use emulator_support::{KEY, config, start};
use md5::{Digest, Md5};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use wanft::emulator::{BlockingEmulator, EmulatorConfig, UploadLimits};

#[tokio::test]
async fn compatible_upload_get_list_delete() {
    let h = start(config()).await;
    let bytes = b"not even a zip, the file API does not care".to_vec();
    let (status, file) = h.upload_compatible("train.zip", bytes.clone()).await;
    assert_eq!(status, StatusCode::OK, "{file}");
    let id = file["id"].as_str().expect("id");
    assert!(id.starts_with("file-ft-"), "{id}");
    assert_eq!(file["object"], "file");
    assert_eq!(file["bytes"], bytes.len());
    assert_eq!(file["filename"], "train.zip");
    assert_eq!(file["purpose"], "fine-tune");
    assert_eq!(file["status"], "processed");
    assert!(
        file["created_at"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000)
    );
    assert!(
        file.get("request_id").is_none(),
        "compatible objects are bare: {file}"
    );

    let (status, fetched) = h.get(&format!("/compatible-mode/v1/files/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, file);

    let (status, deleted) = h.delete(&format!("/compatible-mode/v1/files/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deleted,
        json!({ "object": "file", "deleted": true, "id": id })
    );
    let (status, gone) = h.get(&format!("/compatible-mode/v1/files/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(gone["error"]["code"], "NotFound");
    assert_eq!(gone["error"]["message"], "Not found.");
    let (status, _) = h.delete(&format!("/compatible-mode/v1/files/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn compatible_list_pages_with_a_cursor() {
    let h = start(config()).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(h.upload(&format!("set{i}.zip"), vec![i; 10]).await);
    }
    let (status, first) = h.get("/compatible-mode/v1/files?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["object"], "list");
    assert_eq!(first["has_more"], true);
    let page_ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|f| f["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(page_ids(&first), ids[..2]);
    let (_, second) = h
        .get(&format!(
            "/compatible-mode/v1/files?limit=2&after={}",
            ids[1]
        ))
        .await;
    assert_eq!(page_ids(&second), ids[2..4]);
    let (_, last) = h
        .get(&format!(
            "/compatible-mode/v1/files?limit=2&after={}",
            ids[3]
        ))
        .await;
    assert_eq!(page_ids(&last), ids[4..]);
    assert_eq!(last["has_more"], false);
    let (_, all) = h.get("/compatible-mode/v1/files?purpose=fine-tune").await;
    assert_eq!(page_ids(&all), ids);
    let (_, none) = h.get("/compatible-mode/v1/files?purpose=batch").await;
    assert_eq!(page_ids(&none), Vec::<String>::new());
    let (status, bad) = h.get("/compatible-mode/v1/files?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["code"], "InvalidParameter");
    let (status, _) = h
        .get("/compatible-mode/v1/files?after=file-ft-unknown")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn compatible_upload_needs_file_and_purpose() {
    let h = start(config()).await;
    let send = |form: Form| {
        h.client
            .post(h.url("/compatible-mode/v1/files"))
            .bearer_auth(KEY)
            .multipart(form)
            .send()
    };
    let response = send(Form::new().text("purpose", "fine-tune"))
        .await
        .expect("answered");
    let (status, body) = emulator_support::parts(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["message"], "Missing required parameter: file");

    let file = || Part::bytes(vec![1, 2, 3]).file_name("a.zip");
    let response = send(Form::new().part("file", file()))
        .await
        .expect("answered");
    let (status, body) = emulator_support::parts(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        "Missing required parameter: purpose"
    );

    let form = Form::new().part("file", file()).text("purpose", "batch");
    let (status, body) = emulator_support::parts(send(form).await.expect("answered")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("must be fine-tune"))
    );

    // The platform's working field name is `file`; `files` is the native spelling.
    let form = Form::new()
        .part("files", file())
        .text("purpose", "fine-tune");
    let (status, _) = emulator_support::parts(send(form).await.expect("answered")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, listing) = h.get("/compatible-mode/v1/files").await;
    assert_eq!(listing["data"], json!([]));
}

#[tokio::test]
async fn oversized_uploads_are_refused() {
    let limits = UploadLimits {
        max_file_bytes: 64 * 1024,
        ..UploadLimits::default()
    };
    let h = start(EmulatorConfig { limits, ..config() }).await;
    let (status, body) = h.upload_compatible("big.zip", vec![7; 64 * 1024]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "exactly the limit is accepted: {body}"
    );
    // Streamed (no Content-Length) so that only the streaming check can catch it.
    let stream = futures_util::stream::iter(
        (0..4).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![1u8; 32 * 1024]))),
    );
    let part = Part::stream(reqwest::Body::wrap_stream(stream)).file_name("huge.zip");
    let form = Form::new().text("purpose", "fine-tune").part("file", part);
    let response = h
        .client
        .post(h.url("/compatible-mode/v1/files"))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .expect("answered");
    let (status, body) = emulator_support::parts(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("exceeds the maximum size of 65536 bytes")),
        "{body}"
    );
    let (_, listing) = h.get("/compatible-mode/v1/files").await;
    assert_eq!(listing["data"].as_array().map(Vec::len), Some(1));
}

async fn native_upload(h: &emulator_support::Harness, form: Form) -> (StatusCode, Value) {
    let response = h
        .client
        .post(h.url("/api/v1/files"))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .expect("answered");
    emulator_support::parts(response).await
}

#[tokio::test]
async fn native_upload_get_list_delete_with_md5() {
    let h = start(config()).await;
    let first = b"first dataset".to_vec();
    let second = b"second dataset, longer".to_vec();
    let form = Form::new()
        .part("files", Part::bytes(first.clone()).file_name("a.zip"))
        .part("files", Part::bytes(second.clone()).file_name("b.zip"))
        .text("purpose", "fine-tune")
        .text("descriptions", "my sets");
    let (status, body) = native_upload(&h, form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["request_id"].is_string());
    assert_eq!(body["data"]["failed_uploads"], json!([]));
    let uploaded = body["data"]["uploaded_files"].as_array().expect("uploaded");
    assert_eq!(uploaded.len(), 2);
    assert_eq!(uploaded[0]["name"], "a.zip");
    let id = uploaded[0]["file_id"].as_str().expect("id").to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let (status, record) = h.get(&format!("/api/v1/files/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let data = &record["data"];
    assert_eq!(data["file_id"], id.as_str());
    assert_eq!(data["name"], "a.zip");
    assert_eq!(data["size"], first.len());
    assert_eq!(data["md5"], hex::encode(Md5::digest(&first)));
    assert_eq!(data["description"], "my sets");
    assert_eq!(data["region"], "cn-beijing");
    for key in ["gmt_create", "url", "user_id", "api_key_id"] {
        assert!(data[key].is_string(), "{key}: {data}");
    }
    assert!(data["id"].is_u64());
    // The url is a signed link to the content, usable without the key.
    let url = data["url"].as_str().expect("url");
    assert!(url.contains("Expires="), "{url}");
    let downloaded = h.client.get(url).send().await.expect("download");
    assert_eq!(downloaded.status(), StatusCode::OK);
    assert_eq!(
        downloaded.bytes().await.expect("body").as_ref(),
        first.as_slice()
    );

    let (status, page) = h.get("/api/v1/files?page_no=2&page_size=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"]["total"], 2);
    assert_eq!(page["data"]["page_no"], 2);
    let files = page["data"]["files"].as_array().expect("files");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["name"], "b.zip");
    assert_eq!(files[0]["purpose"], "fine-tune");
    assert_eq!(files[0]["md5"], hex::encode(Md5::digest(&second)));
    let (status, _) = h.get("/api/v1/files?page_size=101").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, deleted) = h.delete(&format!("/api/v1/files/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deleted.as_object().map(|o| o.keys().collect::<Vec<_>>()),
        Some(vec![&"request_id".to_owned()])
    );
    let (status, gone) = h.get(&format!("/api/v1/files/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(gone["code"], "NotFound");
    assert_eq!(gone["message"], "Not found.");
    assert!(gone["request_id"].is_string());
    let after_delete = h.client.get(url).send().await.expect("download");
    assert_eq!(after_delete.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn native_upload_reports_quota_failures_inside_a_200() {
    let limits = UploadLimits {
        max_total_bytes: 100,
        max_files: 2,
        ..UploadLimits::default()
    };
    let h = start(EmulatorConfig { limits, ..config() }).await;
    let form = Form::new()
        .part("files", Part::bytes(vec![0; 60]).file_name("ok.zip"))
        .part("files", Part::bytes(vec![0; 60]).file_name("big.zip"))
        .part("files", Part::bytes(vec![0; 10]).file_name("small.zip"));
    let (status, body) = native_upload(&h, form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uploaded: Vec<&str> = body["data"]["uploaded_files"]
        .as_array()
        .expect("uploaded")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(uploaded, ["ok.zip", "small.zip"]);
    assert_eq!(
        body["data"]["failed_uploads"],
        json!([{
            "name": "big.zip",
            "code": "BadRequest.TooLarge",
            "message": "Out of space, <60> B of <100> B storage space has been used.",
        }])
    );
    let form = Form::new().part("files", Part::bytes(vec![0; 1]).file_name("third.zip"));
    let (_, body) = native_upload(&h, form).await;
    assert_eq!(
        body["data"]["failed_uploads"][0]["code"],
        "BadRequest.TooMany"
    );
    assert_eq!(
        body["data"]["failed_uploads"][0]["message"],
        "Out of number, <2> of <2> files has been uploaded."
    );
    // No file part at all: a whole-request error.
    let (status, body) = native_upload(&h, Form::new().text("purpose", "fine-tune")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "InvalidParameter");
    assert_eq!(body["message"], "File not found.");
}

#[tokio::test]
async fn every_api_call_needs_the_key() {
    let h = start(config()).await;
    for (path, compatible) in [
        ("/compatible-mode/v1/files", true),
        ("/api/v1/files", false),
        ("/api/v1/fine-tunes", false),
        ("/api/v1/deployments", false),
        ("/api/v1/tasks/x", false),
    ] {
        let missing = h.client.get(h.url(path)).send().await.expect("answered");
        let wrong = h
            .client
            .get(h.url(path))
            .bearer_auth("sk-wrong")
            .send()
            .await
            .expect("answered");
        for response in [missing, wrong] {
            let (status, body) = emulator_support::parts(response).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
            let code = if compatible {
                &body["error"]["code"]
            } else {
                &body["code"]
            };
            assert_eq!(code, "InvalidApiKey", "{path}: {body}");
            assert!(
                !body.to_string().contains("sk-wrong"),
                "the key is echoed: {body}"
            );
        }
    }
    let (status, _) = h.get("/api/v1/files").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_paths_answer_not_found() {
    let h = start(config()).await;
    let (status, body) = h.get("/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "NotFound");
}

#[test]
fn blocking_helper_serves_sync_callers() {
    let emulator = BlockingEmulator::start(config()).expect("emulator starts");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let status = runtime.block_on(async {
        emulator_support::client()
            .get(format!("{}/api/v1/fine-tunes", emulator.base_url()))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("answered")
            .status()
    });
    assert_eq!(status, StatusCode::OK);
    let addr = emulator.addr();
    emulator.stop();
    let refused = runtime.block_on(tokio::net::TcpStream::connect(addr));
    assert!(
        refused.is_err(),
        "the server is still accepting after stop()"
    );
}
