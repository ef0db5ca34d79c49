//! Instrument photos in the web layer: an institution's admin adds and removes them on
//! the edit page (CSRF, role, wrong files refused in place), the instrument page and the
//! result cards show them, and they are served as JPEG for good by their hash.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::{
    body::Body,
    http::{Method, StatusCode, header},
};

use crate::{
    catalogue::instrument_form,
    common::{MemoryBackend, Reply, app, form, get, page_login, request, send, session_csrf},
};

/// A few bytes that begin like a JPEG (the memory backend keeps uploads as they are).
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0];

async fn upload(app: &axum::Router, cookie: &str, csrf: &str, bytes: &[u8]) -> Reply {
    let boundary = "XPHOTOX";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sem.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    send(
        app,
        request(Method::POST, "/admin/instruments/LCMS-1/photos", cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn an_admin_adds_a_photo_that_the_page_the_cards_and_the_photo_route_show() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let admin = page_login(&app, "admin").await;
    let csrf = session_csrf(&app, &admin).await;
    let saved = form(
        &app,
        "/admin/instruments",
        &admin,
        &instrument_form(&csrf, "LCMS-1", "0102"),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let edit = get(&app, "/admin/instruments/LCMS-1/edit", &admin).await;
    assert!(edit.body.contains("暂无照片"), "{}", edit.body);

    // A researcher may not, and a forged token does not.
    let li = page_login(&app, "li").await;
    let li_csrf = session_csrf(&app, &li).await;
    assert_eq!(
        upload(&app, &li, &li_csrf, JPEG).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload(&app, &admin, "forged", JPEG).await.status,
        StatusCode::FORBIDDEN
    );
    // A PDF is refused beside the field, and nothing is added.
    let pdf = upload(&app, &admin, &csrf, b"%PDF-1.7 a method").await;
    assert_eq!(pdf.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", pdf.body);
    assert!(
        pdf.body.contains("id=\"photo-error\"") && pdf.body.contains("JPEG or PNG"),
        "{}",
        pdf.body
    );
    assert!(backend.records()[0].photos.is_empty());

    let added = upload(&app, &admin, &csrf, JPEG).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let location = added.headers[header::LOCATION].to_str().unwrap();
    assert!(location.contains("notice=photo_added"), "{location}");
    let photo = backend.records()[0].photos[0];
    let edit = get(&app, location, &admin).await;
    assert!(
        edit.body.contains("照片已添加") && edit.body.contains(&photo.thumb_hex()),
        "{}",
        edit.body
    );
    // Saving the form again keeps the photo (the form does not carry it).
    form(
        &app,
        "/admin/instruments/LCMS-1",
        &admin,
        &instrument_form(&csrf, "LCMS-1", "0102"),
    )
    .await;
    assert_eq!(backend.records()[0].photos, vec![photo]);

    // Anyone sees it on the instrument's page and its result card.
    let id = backend.records()[0].id();
    let detail = get(&app, &format!("/instruments/{id}"), "").await;
    assert!(
        detail
            .body
            .contains(&format!("/photos/{id}/{}", photo.hex()))
            && detail.body.contains("液相色谱-质谱联用仪 照片 1"),
        "{}",
        detail.body
    );
    let results = get(&app, "/instruments?q=液相", "").await;
    assert!(
        results.body.contains("with-photo")
            && results
                .body
                .contains(&format!("/photos/{id}/{}", photo.thumb_hex())),
        "{}",
        results.body
    );
    let served = get(&app, &format!("/photos/{id}/{}", photo.hex()), "").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.headers[header::CONTENT_TYPE], "image/jpeg");
    assert!(
        served.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(served.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let unknown = get(&app, &format!("/photos/{id}/{}", "0".repeat(64)), "").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Removed: gone from the record and no longer served.
    let removed = form(
        &app,
        &format!("/admin/instruments/LCMS-1/photos/{}/delete", photo.hex()),
        &admin,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert!(backend.records()[0].photos.is_empty());
    let gone = get(&app, &format!("/photos/{id}/{}", photo.hex()), "").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn photos_through_the_api() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let admin = page_login(&app, "admin").await;
    let csrf = session_csrf(&app, &admin).await;
    form(
        &app,
        "/admin/instruments",
        &admin,
        &instrument_form(&csrf, "LCMS-1", "0102"),
    )
    .await;
    let (cookie, api_csrf) = crate::common::api_login(&app, "admin").await;
    let post = |bytes: &'static [u8], cookie: String, csrf: String| {
        let app = app.clone();
        async move {
            send(
                &app,
                request(
                    Method::POST,
                    "/api/v1/own/instruments/LCMS-1/photos",
                    &cookie,
                )
                .header(header::CONTENT_TYPE, "image/jpeg")
                .header("x-csrf-token", csrf)
                .body(Body::from(bytes))
                .unwrap(),
            )
            .await
        }
    };
    let added = post(JPEG, cookie.clone(), api_csrf.clone()).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let sha = added.json()["record"]["photos"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sha, backend.records()[0].photos[0].hex());
    // A PDF is the field's error; without the CSRF token nothing happens.
    let pdf = post(b"%PDF-1.7", cookie.clone(), api_csrf.clone()).await;
    assert_eq!(pdf.status, StatusCode::BAD_REQUEST, "{}", pdf.body);
    assert_eq!(
        post(JPEG, cookie.clone(), String::new()).await.status,
        StatusCode::FORBIDDEN
    );
    let (li, li_csrf) = crate::common::api_login(&app, "li").await;
    assert_eq!(post(JPEG, li, li_csrf).await.status, StatusCode::FORBIDDEN);
    assert_eq!(backend.records()[0].photos.len(), 1);

    let delete = |uri: String| {
        let app = app.clone();
        let (cookie, csrf) = (cookie.clone(), api_csrf.clone());
        async move {
            send(
                &app,
                request(Method::DELETE, &uri, &cookie)
                    .header("x-csrf-token", csrf)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    let gone = delete(format!("/api/v1/own/instruments/LCMS-1/photos/{sha}")).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    assert!(backend.records()[0].photos.is_empty());
    let again = delete(format!("/api/v1/own/instruments/LCMS-1/photos/{sha}")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}
