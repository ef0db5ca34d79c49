//! The catalogue over real nodes' HTTP API: an institution admin imports a spreadsheet
//! (bad rows reported exactly, the rest imported, a re-import is a no-op), the province
//! approves what needs approval, and a researcher on another node finds the instruments
//! by a Chinese keyword; every search filter and pagination over the API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use alliance_node::NodeHandle;
use alliance_tests::{http::client, *};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Signs in; returns the client (with the session cookie) and the CSRF token.
async fn sign_in(base: &str, user: &str) -> (reqwest::Client, String) {
    let client = client();
    let reply: Value = client
        .post(format!("{base}api/v1/session"))
        .json(&json!({ "username": user, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = reply["csrf_token"].as_str().expect("signed in").to_owned();
    (client, csrf)
}

/// The template's header and example row, by header.
async fn template(base: &str) -> (Vec<String>, HashMap<String, String>) {
    let bytes = reqwest::get(format!("{base}api/v1/catalogue/template?format=csv"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let example = reader.records().next().unwrap().unwrap();
    let row = headers
        .iter()
        .cloned()
        .zip(example.iter().map(str::to_owned))
        .collect();
    (headers, row)
}

fn csv_file(headers: &[String], rows: &[HashMap<String, String>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(headers).unwrap();
    for row in rows {
        writer
            .write_record(
                headers
                    .iter()
                    .map(|h| row.get(h).cloned().unwrap_or_default()),
            )
            .unwrap();
    }
    writer.into_inner().unwrap()
}

async fn import(
    client: &reqwest::Client,
    csrf: &str,
    base: &str,
    bytes: Vec<u8>,
    dry_run: bool,
) -> (StatusCode, Value) {
    let reply = client
        .post(format!(
            "{base}api/v1/own/instruments/import?file_name=instruments.csv&dry_run={dry_run}"
        ))
        .header("X-CSRF-Token", csrf)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = reply.status();
    (status, reply.json().await.unwrap())
}

async fn search(node: &NodeHandle, query: &str) -> Value {
    reqwest::get(format!("{}api/v1/instruments?{query}", node.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_spreadsheet_is_found_on_another_node_after_review() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let dlut = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    let base = dlut.url();
    let (admin, csrf) = sign_in(&base, "admin").await;

    let (headers, example) = template(&base).await;
    let good = |id: &str, name: &str, value: &str| {
        let mut row = example.clone();
        row.insert("仪器编号".into(), id.into());
        row.insert("中文名称".into(), name.into());
        row.insert("原值（元）".into(), value.into());
        row
    };
    let bad = |id: &str, column: &str, value: &str| {
        let mut row = good(id, "坏行", "500000");
        row.insert(column.into(), value.into());
        row
    };
    let rows = vec![
        good("G1", "液相色谱-质谱联用仪", "3680000"),    // row 2
        bad("B1", "中文名称", ""),                       // row 3: missing required field
        good("G2", "气相色谱-质谱联用仪", "1250000"),    // row 4
        bad("B2", "出厂日期", "2023-02-30"),             // row 5: bad date
        bad("B3", "分类代码", "9999"),                   // row 6: unknown category
        bad("B4", "原值（元）", "-5"),                   // row 7: negative value
        good("G3", "电感耦合等离子体质谱仪", "2600000"), // row 8
        bad("B5", "状态", "坏了"),                       // row 9: unknown status
        bad("B6", "电子邮箱", "nobody"),                 // row 10: bad e-mail
        bad("B7", "企业-人工费", "1.234"),               // row 11: price too precise
        good("G4", "台式质谱仪", "120000"),              // row 12: voluntary (< 300,000)
        bad("G1", "型号", "duplicate id"),               // row 13: duplicate id
        bad("B8", "服务方式", "远程操作"),               // row 14: unknown service mode
        bad("B9", "计费单位", "天"),                     // row 15: unknown fee unit
    ];
    let file = csv_file(&headers, &rows);

    let (status, preview) = import(&admin, &csrf, &base, file.clone(), true).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let bad_rows: Vec<u64> = preview["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["errors"].as_array().unwrap().is_empty())
        .map(|r| r["row"].as_u64().unwrap())
        .collect();
    assert_eq!(bad_rows, [3, 5, 6, 7, 9, 10, 11, 13, 14, 15], "{preview:#}");
    assert_eq!(preview["good"], 4);
    assert_eq!(preview["imported"], 0, "a dry run writes nothing");
    assert!(dlut.catalogue().records().is_empty());

    let (_, done) = import(&admin, &csrf, &base, file.clone(), false).await;
    assert_eq!(done["imported"], 4, "{done:#}");
    let revision = dlut.catalogue().own_revision();
    let (_, again) = import(&admin, &csrf, &base, file, false).await;
    assert_eq!(
        again["imported"], 0,
        "re-importing the same file changes nothing"
    );
    assert_eq!(dlut.catalogue().own_revision(), revision);
    // Both imports are in the history, newest first; the dry run is not.
    let history = admin
        .get(format!("{base}admin/instruments/import"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let table = &history[history.find("id=\"history-rows\"").unwrap()..];
    assert_eq!(table.matches("instruments.csv").count(), 2, "{table}");
    let newest = &table[table.find("<tbody>").unwrap()..];
    let newest = &newest[..newest.find("</tr>").unwrap()];
    assert!(
        newest.contains(">0</td>"),
        "the re-import wrote nothing: {newest}"
    );

    // A wrong sheet layout is refused as a whole.
    let mut wrong = headers.clone();
    wrong.retain(|h| h != "中文名称");
    let (status, refused) = import(&admin, &csrf, &base, csv_file(&wrong, &rows[..1]), true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("中文名称"),
        "{refused}"
    );

    // A researcher at another node finds them by a Chinese keyword — all but the
    // voluntary one, until the province approves it.
    wait_catalogue(&neu, "imported records reach neu", |c| {
        c.records().len() == 3
    })
    .await;
    let found = search(&neu, "q=%E8%B4%A8%E8%B0%B1").await; // 质谱
    assert_eq!(ids(&found), ["dlut/G1", "dlut/G2", "dlut/G3"]);

    let province_base = province.url();
    let (reviewer, review_csrf) = sign_in(&province_base, "admin").await;
    let queue: Value = reviewer
        .get(format!("{province_base}api/v1/reviews"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        queue[0]["id"], "dlut/G4",
        "voluntary records come first: {queue:#}"
    );
    let approved = reviewer
        .post(format!("{province_base}api/v1/reviews"))
        .header("X-CSRF-Token", &review_csrf)
        .json(&json!({ "id": "dlut/G4", "verdict": "approved", "comment": "同意自愿入网" }))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::NO_CONTENT);
    // The province keeps the version it approved (the review queue's diff base); not the
    // ones it only asked to correct.
    let kept = province.catalogue().approved_record("dlut/G4").unwrap();
    assert_eq!(kept["local_id"], "G4");
    assert!(province.catalogue().approved_record("dlut/G1").is_none());
    wait_catalogue(&neu, "approval reaches neu", |c| c.records().len() == 4).await;
    let found = search(&neu, "q=%E8%B4%A8%E8%B0%B1").await;
    assert_eq!(found["total"], 4);
    // Each result says what it costs a member at least, and when it is next free.
    for item in found["items"].as_array().unwrap() {
        assert_eq!(item["price_from"]["tier"], "alliance_member", "{item:#}");
        assert!(item["price_from"]["fen"].as_i64().unwrap() > 0, "{item:#}");
        assert!(item.get("next_free_day").is_some(), "{item:#}");
    }
    let detail: Value = reqwest::get(format!("{}api/v1/instruments/dlut/G4", neu.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["review_state"], "approved");
    assert_eq!(detail["review"]["comment"], "同意自愿入网");
    assert_eq!(
        detail["availability"].as_array().unwrap().len(),
        56,
        "eight weeks of days"
    );

    // The owner sees a correction request with its comment.
    reviewer
        .post(format!("{province_base}api/v1/reviews"))
        .header("X-CSRF-Token", &review_csrf)
        .json(
            &json!({ "id": "dlut/G1", "verdict": "needs_correction", "comment": "请补充验收日期" }),
        )
        .send()
        .await
        .unwrap();
    wait_catalogue(&dlut, "correction reaches the owner", |c| {
        c.instrument("dlut/G1")
            .is_some_and(|v| v.review.is_some_and(|r| r.comment == "请补充验收日期"))
    })
    .await;

    for node in [neu, dlut, province] {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_search_filter_and_pages_work_over_the_api() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let dlut = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    let make = |inst: &str, id: &str, zh: &str, en: &str, code: &str, city: &str, wan: i64| {
        let mut r = sample_record(inst, id, zh);
        r.name_en = en.into();
        r.classification_code = code.into();
        r.location.city = city.into();
        r.original_value_fen = wan * 1_000_000;
        r.opening_hours = "周一至周五 9:00-17:00".into();
        r
    };
    let mut lcms = make(
        "dlut",
        "LCMS",
        "液相色谱-质谱联用仪",
        "Liquid chromatograph mass spectrometer",
        "0102",
        "大连市",
        368,
    );
    lcms.service_modes = vec![alliance_protocol::ServiceMode::SelfOperated];
    let mut nmr = make(
        "dlut",
        "NMR",
        "核磁共振波谱仪",
        "NMR spectrometer",
        "0106",
        "大连市",
        640,
    );
    nmr.sharing_scope = alliance_protocol::SharingScope::AllianceOnly;
    let mut tem = make(
        "neu",
        "TEM",
        "透射电子显微镜",
        "Transmission electron microscope",
        "0101",
        "沈阳市",
        1180,
    );
    tem.status = alliance_protocol::InstrumentStatus::Retired;
    let icp = make(
        "neu",
        "ICP",
        "电感耦合等离子体质谱仪",
        "ICP mass spectrometer",
        "0102",
        "沈阳市",
        260,
    );
    for r in [lcms, nmr] {
        dlut.catalogue().save_record(r).await.unwrap();
    }
    for r in [tem, icp] {
        neu.catalogue().save_record(r).await.unwrap();
    }
    wait_catalogue(&neu, "all four on neu", |c| c.records().len() == 4).await;

    let q = |s: &'static str| search(&neu, s);
    assert_eq!(
        ids(&q("q=%E8%B4%A8%E8%B0%B1").await),
        ["dlut/LCMS", "neu/ICP"]
    ); // 质谱
    assert_eq!(
        ids(&q("q=mass%20spectrometers").await),
        ["dlut/LCMS", "neu/ICP"]
    );
    // The retired TEM is found only when asked for.
    assert!(ids(&q("q=microscope").await).is_empty());
    assert_eq!(ids(&q("q=microscope&retired=1").await), ["neu/TEM"]);
    assert_eq!(ids(&q("category=0102").await), ["dlut/LCMS", "neu/ICP"]);
    assert_eq!(ids(&q("category=01&retired=1").await).len(), 4);
    assert_eq!(ids(&q("institution=dlut").await), ["dlut/LCMS", "dlut/NMR"]);
    assert_eq!(
        ids(&q("city=%E6%B2%88%E9%98%B3%E5%B8%82&retired=1").await),
        ["neu/ICP", "neu/TEM"]
    );
    assert_eq!(
        ids(&q("min_wan=300&max_wan=700").await),
        ["dlut/LCMS", "dlut/NMR"]
    );
    assert_eq!(ids(&q("mode=self_operated").await), ["dlut/LCMS"]);
    assert_eq!(
        ids(&q("tier=enterprise&retired=1").await),
        ["dlut/LCMS", "neu/ICP", "neu/TEM"]
    );
    // A retired instrument has no free time; the others are open on weekdays.
    let monday = alliance_node::catalogue::digest::this_monday(chrono::Utc::now());
    let wednesday = (monday + chrono::Duration::days(9))
        .format("%Y-%m-%d")
        .to_string();
    let free = search(&neu, &format!("free_from={wednesday}&free_to={wednesday}")).await;
    assert_eq!(ids(&free), ["dlut/LCMS", "dlut/NMR", "neu/ICP"]);
    let sunday = (monday + chrono::Duration::days(13))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        search(&neu, &format!("free_from={sunday}")).await["total"],
        0
    );

    let first = q("per_page=3&page=1&retired=1").await;
    let second = q("per_page=3&page=2&retired=1").await;
    assert_eq!(
        (first["total"].as_u64(), second["total"].as_u64()),
        (Some(4), Some(4))
    );
    let mut all = ids(&first);
    all.extend(ids(&second));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4, "pages cover every result once");

    let bad = reqwest::get(format!(
        "{}api/v1/instruments?free_from=2026-02-30",
        neu.url()
    ))
    .await
    .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    for node in [neu, dlut, province] {
        node.shutdown().await;
    }
}

/// An institution whose entries fill every slot a member has (10,000 instruments and
/// their digests: 20,000 slots, here filled with records handed back by its peers) is
/// told so through the API when it adds one more, with the limit; nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instrument_past_a_members_share_is_refused_naming_the_limit() {
    use alliance_protocol::{Entry, EntryBody, limits::MAX_SLOTS_PER_MEMBER};
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let dlut = start_member(dir.path(), &province, "dlut").await;
    let key = alliance_node::keyfile::read(&dlut.config().node_key_path()).unwrap();
    let full: Vec<Entry> = (1..=MAX_SLOTS_PER_MEMBER as u64)
        .map(|n| {
            let mut record = sample_record("dlut", &format!("X{n}"), "能谱仪");
            record.revision = n;
            Entry {
                bytes: record.seal(&key),
                body: EntryBody::Instrument(Box::new(record)),
            }
        })
        .collect();
    let stored = dlut.catalogue().receive(full).await.unwrap();
    assert_eq!(stored, MAX_SLOTS_PER_MEMBER);

    let base = dlut.url();
    let (client, csrf) = sign_in(&base, "admin").await;
    let put = |local_id: &str, name: &str| {
        let record = sample_record("dlut", local_id, name);
        let input = alliance_web::instrument_input::InstrumentInput::from_record(&record);
        client
            .put(format!("{base}api/v1/own/instruments/{local_id}"))
            .header("X-CSRF-Token", &csrf)
            .json(&input)
            .send()
    };
    let refused = put("ONE-TOO-MANY", "能谱仪").await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["field"], "local_id", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("10000")),
        "{body}"
    );
    assert!(
        !dlut.catalogue().has_instrument("dlut/ONE-TOO-MANY"),
        "nothing of it is stored"
    );
}
