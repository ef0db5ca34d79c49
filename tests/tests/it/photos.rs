//! Instrument photos across real nodes: an institution admin uploads a camera-sized
//! photo in Chromium; the owner publishes it resized, by hash, in its signed record;
//! another member's search shows the thumbnail, fetched from the owner; with the owner
//! gone, a third member gets it from the member that holds a copy, and says plainly
//! when no one holds what is asked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use alliance_tests::{
    browser::{Browser, sign_in, submit},
    fixtures::person,
    *,
};
use alliance_web::backend::AccountRole;
use fantoccini::Locator;
use sha2::Digest;

/// A 3000 × 2000 PNG, as a camera or a screenshot might give.
fn camera_photo() -> Vec<u8> {
    let image = image::RgbImage::from_fn(3000, 2000, |x, y| {
        image::Rgb([(x / 12) as u8, (y / 8) as u8, ((x + y) / 20) as u8])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

/// A small photo (400 × 300).
fn small_photo() -> Vec<u8> {
    let image = image::RgbImage::from_fn(400, 300, |x, y| image::Rgb([x as u8, y as u8, 128]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

/// An anonymous GET: status, content type and body.
async fn fetch(url: &str) -> (u16, String, Vec<u8>) {
    let reply = http::client().get(url).send().await.unwrap();
    let status = reply.status().as_u16();
    let media = reply
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, media, reply.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_uploaded_at_the_owner_reaches_other_members_even_once_it_is_gone() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let dlut = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    let lnu = start_member(dir.path(), &province, "lnu").await;
    person(
        &dlut,
        "dlut-admin",
        AccountRole::InstitutionAdmin,
        "a@dlut.example",
    )
    .await;
    dlut.catalogue()
        .save_record(sample_record("dlut", "SEM-1", "扫描电子显微镜"))
        .await
        .unwrap();

    // The admin picks a file on the record's edit page.
    let upload = dir.path().join("sem.png");
    std::fs::write(&upload, camera_photo()).unwrap();
    let browser = Browser::start(false).await;
    let c = &browser.client;
    sign_in(c, &dlut.url(), "dlut-admin", PASSWORD).await;
    c.goto(&format!("{}admin/instruments/SEM-1/edit", dlut.url()))
        .await
        .unwrap();
    c.find(Locator::Id("photo-file"))
        .await
        .unwrap()
        .send_keys(upload.to_str().unwrap())
        .await
        .unwrap();
    submit(c, "/admin/instruments/SEM-1/photos").await;
    assert!(c.source().await.unwrap().contains("照片已添加"));

    // Published resized, by hash, in a new signed version every member takes.
    let id = "dlut/SEM-1";
    wait_catalogue(&neu, "neu holds the record with its photo", |cat| {
        cat.instrument(id)
            .is_some_and(|v| v.record.photos.len() == 1)
    })
    .await;
    wait_catalogue(&lnu, "lnu holds the record with its photo", |cat| {
        cat.instrument(id)
            .is_some_and(|v| v.record.photos.len() == 1)
    })
    .await;
    let photo = neu.catalogue().instrument(id).unwrap().record.photos[0];
    assert_eq!((photo.width, photo.height), (1600, 1067));

    // neu's search shows the thumbnail, fetched from dlut: the browser loads it.
    c.goto(&format!("{}instruments?q=扫描电镜", neu.url()))
        .await
        .unwrap();
    let loaded = c
        .execute(
            "const img = document.querySelector('.result-thumb img');
             if (!img) return -1;
             if (!img.complete) await new Promise(r => img.addEventListener('load', r, { once: true }));
             return img.naturalWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        loaded,
        serde_json::json!(320),
        "{}",
        c.source().await.unwrap()
    );
    browser.close().await;
    let thumb_url = format!("{}photos/{id}/{}", lnu.url(), photo.thumb_hex());
    let photo_url = format!("{}photos/{id}/{}", lnu.url(), photo.hex());

    // A form saved while a photo is added: the record keeps both, whichever signs first.
    dlut.catalogue()
        .save_record(sample_record("dlut", "TEM-2", "透射电子显微镜"))
        .await
        .unwrap();
    let mut edited = sample_record("dlut", "TEM-2", "透射电子显微镜");
    edited.model = "JEM-F200".into();
    let (saved, added) = tokio::join!(
        dlut.catalogue().save_record(edited),
        dlut.photos().add("TEM-2", small_photo()),
    );
    saved.unwrap();
    added.unwrap();
    let held = dlut.catalogue().instrument("dlut/TEM-2").unwrap().record;
    assert_eq!((held.model.as_str(), held.photos.len()), ("JEM-F200", 1));
    // Deleted, it stays deleted: a photo added after does not bring it back.
    dlut.catalogue().delete_record("TEM-2").await.unwrap();
    assert!(dlut.photos().add("TEM-2", small_photo()).await.is_err());
    assert!(dlut.catalogue().instrument("dlut/TEM-2").is_none());

    // dlut goes away: lnu gets the thumbnail from neu, which holds a copy, and checks it.
    dlut.shutdown().await;
    let (status, media, bytes) = fetch(&thumb_url).await;
    assert_eq!((status, media.as_str()), (200, "image/jpeg"));
    assert_eq!(
        <[u8; 32]>::from(sha2::Sha256::digest(&bytes)),
        photo.thumb_sha256
    );
    // The full photo no one online holds: said so, with when to try again.
    let (status, _, _) = fetch(&photo_url).await;
    assert_eq!(status, 503);
    // A hash the record does not name is not fetched from anyone.
    let (status, _, _) = fetch(&format!("{}photos/{id}/{}", lnu.url(), "ab".repeat(32))).await;
    assert_eq!(status, 404);
}
