//! The catalogue's web layer: search page and API, the instrument form with its field
//! errors, roles, CSRF, the import preview and confirmation, and the province's review.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{MemoryBackend, app, form, get, page_login, request, send, session_csrf};
use alliance_protocol::ReviewVerdict;
use alliance_web::backend::{AccountRole, AccountState};
use axum::{
    body::Body,
    http::{Method, StatusCode, header},
};

pub(crate) fn instrument_form<'a>(
    csrf: &'a str,
    local_id: &'a str,
    category: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("local_id", local_id),
        ("name_zh", "液相色谱-质谱联用仪"),
        ("name_en", "LC-MS"),
        ("original_value", "3,680,000"),
        ("classification_code", category),
        ("status", "in_service"),
        ("sharing_scope", "open_to_society"),
        ("mode", "staff_run"),
        ("fee0_item_zh", "样品测试"),
        ("fee0_unit", "sample"),
        ("fee0_p20", "20"),
        ("fee0_p21", "20"),
        ("fee0_p22", "120.50"),
    ]
}

#[tokio::test]
async fn an_institution_admin_adds_an_instrument_through_the_form() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let cookie = page_login(&app, "admin").await;
    let new = get(&app, "/admin/instruments/new", &cookie).await;
    assert_eq!(new.status, StatusCode::OK);
    assert!(new.body.contains("新增仪器"), "{}", new.body);
    let csrf = session_csrf(&app, &cookie).await;

    let saved = form(
        &app,
        "/admin/instruments",
        &cookie,
        &instrument_form(&csrf, "LCMS-1", "0102"),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let records = backend.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].original_value_fen, 368_000_000);
    assert_eq!(records[0].fees[0].outside_academic.labour_fen, 12_050);

    let list = get(&app, "/admin/instruments?notice=saved", &cookie).await;
    assert!(
        list.body.contains("LCMS-1") && list.body.contains("已保存"),
        "{}",
        list.body
    );
    let edit = get(&app, "/admin/instruments/LCMS-1/edit", &cookie).await;
    assert!(edit.body.contains("value=\"3680000.00\""), "{}", edit.body);
}

#[tokio::test]
async fn the_form_shows_every_bad_field_and_keeps_what_was_typed() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let cookie = page_login(&app, "admin").await;
    let csrf = session_csrf(&app, &cookie).await;
    let mut fields = instrument_form(&csrf, "bad id", "0102");
    fields.push(("purchase_date", "2023-02-30"));
    fields.push(("email", "not-an-email"));
    fields.retain(|(k, _)| *k != "name_zh");
    let reply = form(&app, "/admin/instruments", &cookie, &fields).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "仪器编号为 1–64 个字母",
        "此项必填",
        "请按 2024-05-20 的格式",
        "请填写有效的电子邮箱",
    ] {
        assert!(
            reply.body.contains(message),
            "missing {message}: {}",
            reply.body
        );
    }
    assert!(reply.body.contains("value=\"not-an-email\""));
    assert!(backend.records().is_empty());

    // The node refuses an unknown category: shown next to the category field.
    let reply = form(
        &app,
        "/admin/instruments",
        &cookie,
        &instrument_form(&csrf, "X1", "9999"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("不是分类表中的分类代码"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn only_institution_admins_edit_and_every_form_needs_its_csrf_token() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let researcher = page_login(&app, "li").await;
    assert_eq!(
        get(&app, "/admin/instruments", &researcher).await.status,
        StatusCode::FORBIDDEN
    );
    let anonymous = get(&app, "/admin/instruments/new", "").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);

    let admin = page_login(&app, "admin").await;
    let reply = form(
        &app,
        "/admin/instruments",
        &admin,
        &instrument_form("forged", "A1", "0102"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(backend.records().is_empty());

    let api = send(
        &app,
        request(Method::GET, "/api/v1/own/instruments", &researcher)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_search_api_answers_json_and_names_bad_parameters() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let cookie = page_login(&app, "admin").await;
    let csrf = session_csrf(&app, &cookie).await;
    form(
        &app,
        "/admin/instruments",
        &cookie,
        &instrument_form(&csrf, "LCMS-1", "0102"),
    )
    .await;

    let reply = get(&app, "/api/v1/instruments?q=%E8%B4%A8%E8%B0%B1", "").await;
    assert_eq!(reply.status, StatusCode::OK);
    let json = reply.json();
    assert_eq!(json["total"], 1);
    let item = &json["items"][0];
    for key in ["id", "institution_id", "name_zh", "name_en", "category"] {
        assert!(item.get(key).is_some(), "missing {key}: {item}");
    }
    assert_eq!(item["id"], "dlut/LCMS-1");

    let bad = get(&app, "/api/v1/instruments?min_wan=lots&mode=teleport", "").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = bad.json();
    let fields: Vec<&str> = bad["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["min_wan", "mode"]);

    let detail = get(&app, "/api/v1/instruments/dlut/LCMS-1", "").await;
    assert_eq!(detail.json()["record"]["fees"][0]["unit"], "sample");
    let encoded = get(&app, "/api/v1/instruments/dlut%2FLCMS-1", "").await;
    assert_eq!(encoded.status, StatusCode::OK);
    assert_eq!(
        get(&app, "/api/v1/instruments/dlut/NOPE", "").await.status,
        StatusCode::NOT_FOUND
    );

    let page = get(&app, "/instruments?q=%E8%B4%A8%E8%B0%B1", "").await;
    assert!(page.body.contains("data-total=\"1\""), "{}", page.body);
    let detail_page = get(&app, "/instruments/dlut/LCMS-1", "").await;
    assert!(detail_page.body.contains("id=\"fee-table\""));
    assert!(
        detail_page.body.contains("160.50"),
        "total of the outside academic tier: 20 + 20 + 120.50"
    );
}

fn multipart(csrf: &str, file_name: &str, content: &str) -> (String, Vec<u8>) {
    let boundary = "XBOUNDARYX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

#[tokio::test]
async fn an_import_is_previewed_then_confirmed_once_by_its_uploader() {
    let backend = MemoryBackend::seeded().with(
        "admin2",
        AccountRole::InstitutionAdmin,
        AccountState::Active,
    );
    let app = app(&backend);
    let cookie = page_login(&app, "admin").await;
    let csrf = session_csrf(&app, &cookie).await;
    let (content_type, body) = multipart(&csrf, "list.csv", "A\nB");
    let preview = send(
        &app,
        request(Method::POST, "/admin/instruments/import", &cookie)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(
        preview.body.contains("id=\"good-count\">2<"),
        "{}",
        preview.body
    );
    let token = preview.hidden("token").unwrap();

    // Another admin cannot claim the upload.
    let other = page_login(&app, "admin2").await;
    let other_csrf = session_csrf(&app, &other).await;
    let stolen = form(
        &app,
        "/admin/instruments/import/confirm",
        &other,
        &[("csrf", &other_csrf), ("token", &token)],
    )
    .await;
    assert!(stolen.body.contains("已过期"), "{}", stolen.body);

    let done = form(
        &app,
        "/admin/instruments/import/confirm",
        &cookie,
        &[("csrf", &csrf), ("token", &token)],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        done.location(),
        Some("/admin/instruments?notice=imported&count=2")
    );
    let again = form(
        &app,
        "/admin/instruments/import/confirm",
        &cookie,
        &[("csrf", &csrf), ("token", &token)],
    )
    .await;
    assert!(again.body.contains("已过期"), "a token imports once");
    // The import is in the history (the check before it is not), with who and what.
    let history = get(&app, "/admin/instruments/import", &cookie).await;
    let rows = &history.body[history.body.find("id=\"history-rows\"").unwrap()..];
    assert_eq!(
        rows.matches("<tr>").count(),
        2,
        "the heading and one import: {rows}"
    );
    assert!(
        rows.contains("list.csv") && rows.contains("<code>admin</code>"),
        "{rows}"
    );

    let (content_type, body) = multipart(&csrf, "photo.jpg", "xx");
    let refused = send(
        &app,
        request(Method::POST, "/admin/instruments/import", &cookie)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("无法读取该文件"), "{}", refused.body);
}

#[tokio::test]
async fn the_province_reviews_and_a_correction_needs_a_comment() {
    let backend =
        MemoryBackend::seeded().with("province", AccountRole::ProvinceAdmin, AccountState::Active);
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
    assert_eq!(
        get(&app, "/province/reviews", &admin).await.status,
        StatusCode::FORBIDDEN
    );

    let province = page_login(&app, "province").await;
    let queue = get(&app, "/province/reviews", &province).await;
    assert!(queue.body.contains("dlut/LCMS-1"), "{}", queue.body);
    let csrf = session_csrf(&app, &province).await;
    let refused = form(
        &app,
        "/province/reviews",
        &province,
        &[
            ("csrf", &csrf),
            ("id", "dlut/LCMS-1"),
            ("verdict", "needs_correction"),
            ("comment", ""),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = form(
        &app,
        "/province/reviews",
        &province,
        &[
            ("csrf", &csrf),
            ("id", "dlut/LCMS-1"),
            ("verdict", "needs_correction"),
            ("comment", "请补充验收日期"),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        backend.reviews(),
        vec![(
            "dlut/LCMS-1".to_owned(),
            ReviewVerdict::NeedsCorrection,
            "请补充验收日期".to_owned()
        )]
    );
}

#[tokio::test]
async fn the_review_queue_pages_shows_what_changed_and_approves_the_ticked_at_once() {
    use alliance_web::{backend::CatalogueBackend, instrument_input::InstrumentInput};
    let backend =
        MemoryBackend::seeded().with("province", AccountRole::ProvinceAdmin, AccountState::Active);
    let app = app(&backend);
    let input = |i: usize, model: &str| InstrumentInput {
        local_id: format!("X-{i:02}"),
        name_zh: format!("仪器{i:02}"),
        model: model.into(),
        original_value: "3680000".into(),
        classification_code: "0102".into(),
        status: "in_service".into(),
        sharing_scope: "open_to_society".into(),
        service_modes: vec!["staff_run".into()],
        ..InstrumentInput::default()
    };
    for i in 0..25 {
        let record = input(i, "SU8010")
            .to_record(&"dlut".parse().unwrap())
            .unwrap();
        backend.save_instrument(record).await.unwrap();
    }
    let province = page_login(&app, "province").await;
    let csrf = session_csrf(&app, &province).await;
    // The menu's badge: the whole queue waiting, for the province only.
    let badges = get(&app, "/api/v1/me/badges", &province).await;
    assert_eq!(badges.status, StatusCode::OK, "{}", badges.body);
    let counts: serde_json::Value = serde_json::from_str(&badges.body).unwrap();
    assert_eq!(counts["reviews"], 25);
    let li = page_login(&app, "li").await;
    let counts: serde_json::Value =
        serde_json::from_str(&get(&app, "/api/v1/me/badges", &li).await.body).unwrap();
    assert_eq!(counts["reviews"], 0);
    assert_eq!(
        get(&app, "/api/v1/me/badges", "").await.status,
        StatusCode::UNAUTHORIZED
    );
    // The API pages the queue too, saying how many wait in all.
    let api = get(&app, "/api/v1/reviews?offset=20&limit=10", &province).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    assert_eq!(api.json().as_array().unwrap().len(), 5);
    assert_eq!(api.headers["x-total-count"], "25");
    let default = get(&app, "/api/v1/reviews", &province).await;
    assert_eq!(default.json().as_array().unwrap().len(), 25);
    for bad in ["limit=0", "limit=101", "offset=-1"] {
        let reply = get(&app, &format!("/api/v1/reviews?{bad}"), &province).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let first = get(&app, "/province/reviews", &province).await;
    assert!(first.body.contains("data-badges=\"/api/v1/me/badges\""));
    assert!(first.body.contains("data-badge=\"reviews\""));
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.matches("class=\"result card\"").count(), 20);
    assert!(first.body.contains("<span>1 / 2</span>"));
    assert!(first.body.contains("首次提交审核"), "none approved yet");
    let second = get(&app, "/province/reviews?page=2", &province).await;
    assert_eq!(second.body.matches("class=\"result card\"").count(), 5);
    // A page past the end is the last page.
    let beyond = get(&app, "/province/reviews?page=99999999999", &province).await;
    assert!(beyond.body.contains("<span>2 / 2</span>"));

    // Three ticked, approved at once; back on the same page, told how many.
    let ticked = [
        ("csrf", csrf.as_str()),
        ("page", "1"),
        ("selected", "dlut/X-00"),
        ("selected", "dlut/X-01"),
        ("selected", "dlut/X-02"),
    ];
    let done = form(
        &app,
        "/province/reviews/approve-selected",
        &province,
        &ticked,
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let back = get(&app, done.location().unwrap(), &province).await;
    assert!(back.body.contains("已批准 3 条记录。"), "{}", back.body);
    let approved: Vec<_> = backend
        .reviews()
        .into_iter()
        .filter(|(_, v, _)| *v == ReviewVerdict::Approved)
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(approved, ["dlut/X-00", "dlut/X-01", "dlut/X-02"]);
    // None ticked, or a forged token: nothing approved.
    let none = [("csrf", csrf.as_str()), ("page", "1")];
    let refused = form(&app, "/province/reviews/approve-selected", &province, &none).await;
    assert!(refused.body.contains("请勾选要批准的记录"));
    let forged = [("csrf", "0000"), ("selected", "dlut/X-03")];
    let refused = form(
        &app,
        "/province/reviews/approve-selected",
        &province,
        &forged,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(backend.reviews().len(), 3);

    // X-01 changes its model: the queue shows the field, before and after; X-00 unchanged.
    let changed = input(1, "SU8020")
        .to_record(&"dlut".parse().unwrap())
        .unwrap();
    backend.save_instrument(changed).await.unwrap();
    let page = get(&app, "/province/reviews", &province).await;
    let card = |id: &str| {
        let start = page.body.find(&format!("data-id=\"{id}\"")).unwrap();
        let end = page.body[start..].find("</li>").unwrap() + start;
        page.body[start..end].to_owned()
    };
    let x01 = card("dlut/X-01");
    assert!(x01.contains(">型号<"), "{x01}");
    assert!(
        x01.contains("<del>SU8010</del>") && x01.contains("<ins>SU8020</ins>"),
        "{x01}"
    );
    assert!(card("dlut/X-00").contains("与上次批准的版本相比没有变化"));

    // Filtered by kind and institution; the pages and the forms keep the filter.
    let cards = |body: &str| body.matches("class=\"result card\"").count();
    let again = get(&app, "/province/reviews?kind=resubmitted", &province).await;
    assert_eq!(cards(&again.body), 3, "the three reviewed before");
    assert!(again.body.contains("data-id=\"dlut/X-01\""));
    assert!(
        again
            .body
            .contains("<option value=\"resubmitted\" selected>")
    );
    assert!(again.body.contains("name=\"kind\" value=\"resubmitted\""));
    let new = get(
        &app,
        "/province/reviews?kind=new&institution=dlut",
        &province,
    )
    .await;
    assert_eq!(cards(&new.body), 20);
    assert!(
        new.body
            .contains("href=\"/province/reviews?institution=dlut&#38;kind=new&#38;page=2\""),
        "{}",
        new.body
    );
    let rest = get(
        &app,
        "/province/reviews?kind=new&institution=dlut&page=2",
        &province,
    )
    .await;
    assert_eq!(cards(&rest.body), 2, "22 never reviewed wait in all");
    let elsewhere = get(&app, "/province/reviews?institution=neu", &province).await;
    assert_eq!(cards(&elsewhere.body), 0);
    assert!(elsewhere.body.contains("没有待审核的仪器。"));
    // A verdict given from a filtered page comes back to it.
    let ticked = [
        ("csrf", csrf.as_str()),
        ("page", "1"),
        ("kind", "resubmitted"),
        ("selected", "dlut/X-01"),
    ];
    let done = form(
        &app,
        "/province/reviews/approve-selected",
        &province,
        &ticked,
    )
    .await;
    assert_eq!(
        done.location(),
        Some("/province/reviews?notice=approved&approved=1&kind=resubmitted&page=1")
    );
}

#[tokio::test]
async fn a_member_institution_has_its_page_with_instruments_and_contacts() {
    use alliance_web::{backend::CatalogueBackend, instrument_input::InstrumentInput};
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    for (id, name, contact) in [
        ("X-1", "扫描电子显微镜", "王工"),
        ("X-2", "透射电子显微镜", "王工"),
    ] {
        let input = InstrumentInput {
            local_id: id.into(),
            name_zh: name.into(),
            original_value: "3680000".into(),
            classification_code: "0102".into(),
            status: "in_service".into(),
            sharing_scope: "open_to_society".into(),
            service_modes: vec!["staff_run".into()],
            contact_name: contact.into(),
            phone: "0411-84708888".into(),
            ..InstrumentInput::default()
        };
        let record = input.to_record(&"dlut".parse().unwrap()).unwrap();
        backend.save_instrument(record).await.unwrap();
    }
    let page = get(&app, "/institutions/dlut", "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("data-institution=\"dlut\">大连理工大学</h1>")
    );
    assert!(page.body.contains("id=\"institution-instruments\">2<"));
    assert!(page.body.contains("扫描电子显微镜") && page.body.contains("透射电子显微镜"));
    // One contact for both, with a number to call.
    let contacts = &page.body[page.body.find("id=\"institution-contacts\"").unwrap()..];
    assert_eq!(
        contacts.matches("<strong>王工</strong>").count(),
        1,
        "{contacts}"
    );
    assert!(contacts.contains("href=\"tel:0411-84708888\""));
    assert!(contacts.contains("扫描电子显微镜、透射电子显微镜"));
    assert_eq!(
        get(&app, "/institutions/nope", "").await.status,
        StatusCode::NOT_FOUND
    );
    // Search cards lead to it.
    let search = get(&app, "/instruments?q=%E7%94%B5%E5%AD%90", "").await;
    assert!(
        search
            .body
            .contains("href=\"/institutions/dlut\">大连理工大学</a>")
    );
    let english = get(&app, "/institutions/dlut?lang=en", "").await;
    assert!(
        english
            .body
            .contains(">Dalian University of Technology</h1>")
    );
}
