//! `upload_zip`: the ledger skips a zip already uploaded to the same region and host, `force`
//! uploads again, a remembered file gone from the server is uploaded again, and the digest comes
//! from the cheapest sound source.

mod api_support;

use std::time::Duration;

use api_support::{config, example_zip, sha256_of, start};
use std::sync::atomic::AtomicBool;
use wanft::api::Client;
use wanft::api::files;
use wanft::api::ledger::Ledger;
use wanft::api::upload::{DigestSource, UploadReport, ZipUpload, upload_zip};
use wanft::check::CheckOptions;
use wanft::models::{self, Region};
use wanft::pack::{self, PackOptions};
use wanft::progress::Silent;

async fn upload(
    client: &Client,
    zip: &std::path::Path,
    ledger: &mut Ledger,
    force: bool,
) -> UploadReport {
    upload_zip(
        client,
        ZipUpload {
            path: zip,
            force,
            ledger: Some(ledger),
            stall_timeout: Duration::from_secs(30),
            progress: &Silent,
        },
    )
    .await
    .expect("upload")
}

#[tokio::test]
async fn the_ledger_skips_repeats_until_forced_or_gone() {
    let emu = start(config()).await;
    let client = emu.client(Region::ApSoutheast1);
    let dir = tempfile::tempdir().unwrap();
    let zip = example_zip(dir.path(), "i2v-train");
    let (mut ledger, warning) = Ledger::open(&dir.path().join("cache/uploads.json"));
    assert!(warning.is_none());

    let first = upload(&client, &zip, &mut ledger, false).await;
    assert!(!first.reused);
    assert_eq!(first.digest_source, DigestSource::WhileUploading);
    assert_eq!(first.sha256, sha256_of(&zip));
    assert_eq!(first.region, Region::ApSoutheast1);
    assert_eq!(first.base_url, emu.base);

    let again = upload(&client, &zip, &mut ledger, false).await;
    assert!(again.reused);
    assert_eq!(again.id, first.id);
    assert_eq!(
        again.digest_source,
        DigestSource::Ledger,
        "same path, size and mtime"
    );
    assert_eq!(emu.file_count().await, 1, "nothing sent");

    let forced = upload(&client, &zip, &mut ledger, true).await;
    assert!(!forced.reused);
    assert_ne!(forced.id, first.id);
    assert_eq!(emu.file_count().await, 2);

    files::delete_file(&client, &forced.id).await.unwrap();
    let redone = upload(&client, &zip, &mut ledger, false).await;
    assert!(!redone.reused);
    assert!(
        redone.notes[0].contains("no longer on the server"),
        "{:?}",
        redone.notes
    );
    assert_eq!(emu.file_count().await, 2);

    // The ledger is per region and host: the other style of the same host uploads anew.
    let beijing = emu.client(Region::CnBeijing);
    let elsewhere = upload(&beijing, &zip, &mut ledger, false).await;
    assert!(!elsewhere.reused);
    assert_eq!(Ledger::open(ledger.path()).0.entries().len(), 2);
}

#[tokio::test]
async fn the_same_bytes_elsewhere_are_recognised() {
    let emu = start(config()).await;
    let client = emu.client(Region::CnBeijing);
    let dir = tempfile::tempdir().unwrap();
    let zip = example_zip(dir.path(), "i2v-train");
    let (mut ledger, _) = Ledger::open(&dir.path().join("uploads.json"));
    let first = upload(&client, &zip, &mut ledger, false).await;

    // A copy: unknown path, but a size the ledger knows, so it is hashed before uploading.
    let copy = dir.path().join("copy.zip");
    std::fs::copy(&zip, &copy).unwrap();
    let report = upload(&client, &copy, &mut ledger, false).await;
    assert_eq!(
        (report.reused, report.digest_source),
        (true, DigestSource::Hashed)
    );
    assert_eq!(report.id, first.id);

    assert_eq!(emu.file_count().await, 1);

    // A zip made by `wanft pack`: the digest of its manifest is trusted, nothing is hashed.
    let packed = dir.path().join("packed.zip");
    let cancel = AtomicBool::new(false);
    let options = PackOptions {
        check: CheckOptions::new(models::find(models::DEFAULT_MODEL).unwrap()),
        fix: None,
        cancel: &cancel,
    };
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/i2v-train");
    let written = pack::prepare(&example, &options)
        .and_then(|p| p.write(&packed, &options))
        .expect("pack");
    assert_eq!(written.manifest.archive.sha256, sha256_of(&packed));
    for reused in [false, true] {
        let report = upload(&client, &packed, &mut ledger, false).await;
        assert_eq!(
            (report.reused, report.digest_source),
            (reused, DigestSource::PackManifest)
        );
        assert_eq!(report.sha256, sha256_of(&packed));
    }
    assert_eq!(emu.file_count().await, 2);
}

#[tokio::test]
async fn without_a_ledger_every_upload_is_sent() {
    let emu = start(config()).await;
    let client = emu.client(Region::ApSoutheast1);
    let dir = tempfile::tempdir().unwrap();
    let zip = example_zip(dir.path(), "i2v-val");
    for _ in 0..2 {
        let report = upload_zip(
            &client,
            ZipUpload {
                path: &zip,
                force: false,
                ledger: None,
                stall_timeout: Duration::from_secs(30),
                progress: &Silent,
            },
        )
        .await
        .unwrap();
        assert!(!report.reused);
    }
    assert_eq!(emu.file_count().await, 2);
}

#[tokio::test]
async fn a_pack_manifest_of_another_zip_is_not_trusted() {
    let emu = start(config()).await;
    let client = emu.client(Region::CnBeijing);
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, _) = Ledger::open(&dir.path().join("uploads.json"));
    let packed = dir.path().join("packed.zip");
    let cancel = AtomicBool::new(false);
    let options = PackOptions {
        check: CheckOptions::new(models::find(models::DEFAULT_MODEL).unwrap()),
        fix: None,
        cancel: &cancel,
    };
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/i2v-train");
    pack::prepare(&example, &options)
        .and_then(|p| p.write(&packed, &options))
        .expect("pack");
    let first = upload(&client, &packed, &mut ledger, false).await;

    // Another zip of the same size under the manifest (a byte of a clip changed), older than
    // the manifest, as a race between two packs could leave it.
    let mut bytes = std::fs::read(&packed).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&packed, &bytes).unwrap();
    let manifest_time = std::fs::metadata(wanft::pack::manifest::path_for(&packed))
        .unwrap()
        .modified()
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(&packed)
        .unwrap()
        .set_modified(manifest_time - Duration::from_secs(5))
        .unwrap();

    let report = upload(&client, &packed, &mut ledger, false).await;
    assert!(!report.reused, "the other zip's upload must not be reused");
    assert_ne!(report.id, first.id);
    assert_eq!(report.sha256, sha256_of(&packed));
    assert!(
        report.notes.iter().any(|n| n.contains("does not describe")),
        "{:?}",
        report.notes
    );
    assert_eq!(emu.file_count().await, 2);
}
