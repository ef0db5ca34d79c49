//! Matching events (R17) across real nodes, through the API: the province announces an
//! event in a field; every member holds it; its page at any node lists the open needs of
//! the field and the offers made for them; firms and members' staff register at their
//! own node, the organiser keeps the list (names and organisations, no addresses) and
//! holds to the capacity; a registration forged by another member is refused; a called-
//! off event takes no registration.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::board::{NeedDraft, OfferDraft};
use alliance_protocol::{
    ServiceMode, UnixTime, UserTier,
    event::{EventRegistration, RegistrantKind},
};
use alliance_tests::{
    fixtures::{in_days, node_key, person, xps_by_sample},
    http::Signed,
    node_api::until,
    *,
};
use alliance_web::backend::AccountRole;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_lists_its_fields_needs_and_offers_and_takes_registrations_up_to_its_capacity() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let home = start_member(dir.path(), &province, "neu").await;
    xps_by_sample(&owner, [4_000; 4]).await;
    person(
        &province,
        "padmin",
        AccountRole::ProvinceAdmin,
        "admin@lnsti.example.cn",
    )
    .await;
    person(
        &home,
        "firm1",
        AccountRole::ExternalUser,
        "firm1@example.cn",
    )
    .await;
    person(
        &home,
        "res1",
        AccountRole::Researcher,
        "res1@neu.example.cn",
    )
    .await;
    person(
        &owner,
        "res2",
        AccountRole::Researcher,
        "res2@dlut.example.cn",
    )
    .await;

    // Only an administrator announces; the times and the link are checked.
    let day = in_days(3);
    let event = json!({
        "title": "表面分析供需对接会", "description": "XPS 与表面分析服务",
        "field": "01", "starts_at": format!("{day}T09:00"), "ends_at": format!("{day}T17:00"),
        "place": "沈阳市和平区文化路", "link": "https://meeting.example.cn/surface",
        "capacity": 1
    });
    let researcher = Signed::as_user(&home, "res1").await;
    assert_eq!(researcher.post("api/v1/events", event.clone()).await.0, 403);
    let admin = Signed::as_user(&province, "padmin").await;
    let mut bad = event.clone();
    bad["link"] = json!("http://meeting.example.cn/surface");
    assert_eq!(admin.post("api/v1/events", bad).await.0, 400);
    let mut bad = event.clone();
    bad["ends_at"] = json!(format!("{day}T08:00"));
    assert_eq!(admin.post("api/v1/events", bad).await.0, 400);
    let (status, announced) = admin.post("api/v1/events", event).await;
    assert_eq!(status, 201, "{announced}");
    let id = announced["event_id"].as_str().unwrap().to_owned();
    for node in [&owner, &home] {
        wait_catalogue(node, "the event reaches the member", |c| {
            c.board().event(&id).is_some()
        })
        .await;
    }

    // A need of the field, and dlut's offer for it.
    wait_catalogue(&home, "XPS-1 arrives", |c| {
        c.instrument("dlut/XPS-1").is_some()
    })
    .await;
    let need = home
        .board()
        .post(
            "firm1",
            UserTier::Enterprise,
            NeedDraft {
                title: "镀层元素价态".into(),
                categories: vec!["0102".into()],
                modes: vec![ServiceMode::StaffRun],
                keywords: vec!["XPS".into()],
                sample_count: 2,
                deadline: in_days(20),
                ..NeedDraft::default()
            },
        )
        .await
        .unwrap();
    let need_id = need.id();
    wait_catalogue(&owner, "the need reaches dlut", |c| {
        c.board().need(&need_id).is_some()
    })
    .await;
    owner
        .board()
        .offer(OfferDraft {
            need_id: need_id.clone(),
            instrument_local_id: "XPS-1".into(),
            mode: Some(ServiceMode::StaffRun),
            earliest_date: in_days(1),
            turnaround_days: 5,
            ..OfferDraft::default()
        })
        .await
        .unwrap();
    wait_catalogue(&home, "the offer reaches neu", |c| {
        c.board()
            .offer(&need_id, &"dlut".parse().unwrap())
            .is_some()
    })
    .await;

    // The event's page: for a visitor the need and how many offered; for someone signed
    // in at a member's node, who offered with which instrument — never at what price.
    let (status, page) = alliance_tests::http::get_json_status(
        &alliance_tests::http::client(),
        &format!("{}api/v1/events/{id}", home.url()),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["needs"][0]["need_id"], need_id.as_str());
    assert_eq!(page["needs"][0]["offers"], 1);
    assert_eq!(page["offers"], json!([]));
    let (_, page) = researcher.get(&format!("api/v1/events/{id}")).await;
    assert_eq!(page["offers"][0]["institution_id"], "dlut");
    assert_eq!(page["offers"][0]["instrument_id"], "dlut/XPS-1");
    assert!(!page.to_string().contains("price"), "{page}");
    let (_, listed) = researcher.get("api/v1/events").await;
    assert_eq!(listed["total"], 1);

    // The firm registers at its home; the one place is taken, dlut's researcher is
    // turned away; the organiser keeps the firm's name and organisation, no address.
    // Through the pages: the list and the event's page show it, in Chinese by default;
    // the firm registers with the page's form.
    let firm = Signed::as_user(&home, "firm1").await;
    let (status, list) = firm.page("events").await;
    assert_eq!(status, 200);
    assert!(list.contains("表面分析供需对接会"), "{list}");
    let (status, html) = firm.page(&format!("events/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("镀层元素价态") && html.contains("报名参加"),
        "{html}"
    );
    let (status, html) = firm.submit(&format!("events/{id}/register"), &[]).await;
    assert_eq!(status, 200);
    assert!(html.contains("已报名"), "{html}");
    let path = format!("api/v1/events/{id}/registration");
    let (_, seen) = firm.get(&format!("api/v1/events/{id}")).await;
    assert_eq!(seen["event"]["registered"], true);
    let staff = Signed::as_user(&owner, "res2").await;
    let (status, full) = staff.post(&path, json!({})).await;
    assert_eq!(status, 409, "{full}");
    let (_, at_organiser) = admin.get(&format!("api/v1/events/{id}")).await;
    assert_eq!(at_organiser["registration_count"], 1);
    let listed = &at_organiser["registrations"][0];
    assert_eq!(listed["kind"], "firm");
    assert_eq!(listed["organization"], "大连华信新材料有限公司");
    assert!(!at_organiser.to_string().contains("firm1@example.cn"));
    let (_, html) = admin.page(&format!("events/{id}")).await;
    assert!(
        html.contains("报名名单") && html.contains("大连华信新材料有限公司"),
        "{html}"
    );
    // Others see no list.
    let (_, at_member) = staff.get(&format!("api/v1/events/{id}")).await;
    assert_eq!(at_member["registrations"], json!([]));

    // A member cannot register someone of another home: dlut signs one naming neu.
    let forged = EventRegistration {
        organiser: "lnsti".parse().unwrap(),
        event_id: id.split_once('/').unwrap().1.into(),
        home: "neu".parse().unwrap(),
        registrant_id: "ghost".into(),
        name: "冒名者".into(),
        organization: "某公司".into(),
        kind: RegistrantKind::Firm,
        registered_at: UnixTime::now(),
        withdrawn: true,
    };
    let refused = owner
        .net()
        .send_mail(&"lnsti".parse().unwrap(), forged.seal(&node_key(&owner)))
        .await;
    assert!(
        matches!(
            &refused,
            Err(alliance_node::net::NetError::Refused(
                alliance_node::net::Refusal::NotYours(_)
            ))
        ),
        "{refused:?}"
    );

    // The firm takes its place back; dlut's researcher then has it.
    assert_eq!(firm.delete(&path).await.0, 200);
    let (status, _) = staff.post(&path, json!({})).await;
    assert_eq!(status, 200);
    let (_, at_organiser) = admin.get(&format!("api/v1/events/{id}")).await;
    assert_eq!(at_organiser["registrations"][0]["kind"], "member");

    // Called off (with a reason): every member hears, and no one registers.
    assert_eq!(
        admin
            .post(
                &format!("api/v1/events/{id}/cancel"),
                json!({ "reason": " " })
            )
            .await
            .0,
        400
    );
    let (status, cancelled) = admin
        .post(
            &format!("api/v1/events/{id}/cancel"),
            json!({ "reason": "场地临时不可用" }),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    until("neu holds the event called off", DEADLINE, || async {
        home.catalogue()
            .board()
            .event(&id)
            .is_some_and(|e| e.cancelled.is_some())
    })
    .await;
    assert_eq!(researcher.post(&path, json!({})).await.0, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_member_takes_no_more_than_its_share_of_an_events_places() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let home = start_member(dir.path(), &province, "neu").await;
    let starts = UnixTime::now().0 + 3 * 86_400;
    let event = province
        .events()
        .announce(alliance_node::events::EventDraft {
            title: "分析测试供需对接会".into(),
            description: String::new(),
            field: "01".into(),
            starts_at: UnixTime(starts),
            ends_at: UnixTime(starts + 8 * 3_600),
            place: "沈阳".into(),
            link: String::new(),
            capacity: 0,
        })
        .await
        .unwrap();
    let lnsti: alliance_protocol::InstitutionId = "lnsti".parse().unwrap();
    let registration = |home: &str, who: usize| EventRegistration {
        organiser: lnsti.clone(),
        event_id: event.local_id.clone(),
        home: home.parse().unwrap(),
        registrant_id: format!("person{who}"),
        name: format!("参会者{who}"),
        organization: home.into(),
        kind: RegistrantKind::Member,
        registered_at: UnixTime::now(),
        withdrawn: false,
    };
    // dlut signs registrations for 200 of its people: taken; the 201st is refused.
    let key = node_key(&owner);
    for who in 0..alliance_node::events::MAX_REGISTRATIONS_PER_HOME {
        owner
            .net()
            .send_mail(&lnsti, registration("dlut", who).seal(&key))
            .await
            .unwrap();
    }
    let refused = owner
        .net()
        .send_mail(&lnsti, registration("dlut", 1_000).seal(&key))
        .await;
    assert!(
        matches!(
            &refused,
            Err(alliance_node::net::NetError::Refused(
                alliance_node::net::Refusal::BadRequest(why)
            )) if why.contains("at most")
        ),
        "{refused:?}"
    );
    // Another member's people still find places.
    home.net()
        .send_mail(&lnsti, registration("neu", 0).seal(&node_key(&home)))
        .await
        .unwrap();
    let kept = province.events().registrations(&event.local_id).unwrap();
    assert_eq!(
        kept.len(),
        alliance_node::events::MAX_REGISTRATIONS_PER_HOME + 1
    );
}
