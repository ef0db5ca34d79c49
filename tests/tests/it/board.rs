//! The board across real nodes: a need posted at one member reaches every member, the
//! owning institution's managers are told, an offer from another member reaches the
//! person who posted it, who accepts it; a closed need takes no offer. Each
//! notice is mailed once, through a real SMTP server, from the right node.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::{
    NodeHandle,
    board::{BoardError, NeedDraft, OfferDraft},
};
use alliance_protocol::{NeedState, ServiceMode, UserTier};
use alliance_tests::{
    fixtures::{self, in_days, person, xps_by_sample},
    http::Signed,
    mail_catcher::{Caught, MailCatcher},
    node_api::until,
    *,
};
use alliance_web::backend::AccountRole;

const MANAGER: &str = "mgr@dlut.example.cn";
const FIRM: &str = "firm7@neu.example.cn";

fn with_mail(catcher: &MailCatcher) -> impl FnOnce(&mut alliance_node::Config) + use<> {
    let url = catcher.url();
    move |config| {
        config.notify.smtp_url = Some(url);
        config.notify.from = Some("仪器共享联盟 <noreply@alliance.example.cn>".into());
    }
}

fn draft(deadline_days: i64) -> NeedDraft {
    NeedDraft {
        title: "涂层表面元素价态分析".into(),
        description: "不锈钢表面镀层，需测定Cr、Ni价态".into(),
        categories: vec!["0102".into()],
        modes: vec![ServiceMode::StaffRun],
        keywords: vec!["XPS".into()],
        sample_kind: "金属片 1×1 cm".into(),
        sample_count: 3,
        deadline: in_days(deadline_days as u64),
        budget_min_fen: 0,
        budget_max_fen: 200_000,
        results_public: false,
        referred_to: None,
    }
}

fn offer_for(need_id: &str) -> OfferDraft {
    OfferDraft {
        need_id: need_id.into(),
        instrument_local_id: "XPS-1".into(),
        mode: Some(ServiceMode::StaffRun),
        service_item: String::new(),
        quoted: None,
        earliest_date: draft(1).deadline,
        turnaround_days: 5,
        conditions: "样品请真空包装".into(),
    }
}

async fn caught(catcher: &MailCatcher, what: &str, count: usize) -> Vec<Caught> {
    until(what, DEADLINE * 3, || async {
        catcher.messages().len() >= count
    })
    .await;
    catcher.messages()
}

/// Waits until `node` holds need `id` in a state `ok` accepts.
async fn holds_need(node: &NodeHandle, id: &str, ok: impl Fn(&NeedState) -> bool) {
    let label = format!("{} holds {id}", node.config().node.institution_id);
    wait_catalogue(node, &label, |c| {
        c.board().need(id).is_some_and(|n| ok(&n.state))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_need_reaches_every_member_is_offered_for_and_accepted_with_a_mail_at_each_step() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let owner_mail = MailCatcher::start(&dir.path().join("dlut-mail"));
    let home_mail = MailCatcher::start(&dir.path().join("neu-mail"));
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member_with(dir.path(), &province, "dlut", with_mail(&owner_mail)).await;
    let home = start_member_with(dir.path(), &province, "neu", with_mail(&home_mail)).await;
    let third = start_member(dir.path(), &province, "lnu").await;
    xps_by_sample(&owner, [5_000, 8_000, 12_000, 20_000]).await;
    for node in [&home, &third] {
        wait_catalogue(node, "XPS-1 arrives", |c| {
            c.instrument("dlut/XPS-1").is_some()
        })
        .await;
    }
    person(&owner, "mgr", AccountRole::InstrumentManager, MANAGER).await;
    person(&home, "firm7", AccountRole::ExternalUser, FIRM).await;

    // Posted at neu: every member holds it (how fast is a benchmark's to measure).
    let need = home
        .board()
        .post("firm7", UserTier::Enterprise, draft(30))
        .await
        .unwrap();
    let id = need.id();
    for node in [&owner, &third, &province] {
        holds_need(node, &id, |s| *s == NeedState::Open).await;
    }
    // The owner of a matching instrument is told; the need names no one.
    let to_owner = caught(&owner_mail, "the owner's managers hear of the need", 1).await;
    assert_eq!(to_owner[0].to, [MANAGER]);
    assert!(
        to_owner[0].subject.contains("涂层表面元素价态分析"),
        "{:?}",
        to_owner[0]
    );
    assert!(
        to_owner[0].body.contains("X射线光电子能谱仪"),
        "{}",
        to_owner[0].body
    );
    assert!(
        to_owner[0].body.contains(&format!("needs/{id}")),
        "{}",
        to_owner[0].body
    );
    let held = owner.catalogue().board().need(&id).unwrap();
    assert!(
        !format!("{held:?}").contains("firm7"),
        "the need names its poster"
    );

    // dlut offers by its fee schedule: three samples at a firm's price.
    let offer = owner.board().offer(offer_for(&id)).await.unwrap();
    assert_eq!(offer.price_fen, 3 * 26_000);
    assert!(!offer.quoted);
    until("neu holds the offer", DEADLINE, || async {
        home.catalogue()
            .board()
            .offer(&id, &"dlut".parse().unwrap())
            .is_some()
    })
    .await;
    let to_firm = caught(&home_mail, "the firm hears of the offer", 1).await;
    assert_eq!(to_firm[0].to, [FIRM]);
    assert!(
        to_firm[0].subject.starts_with("您的需求收到报价"),
        "{:?}",
        to_firm[0]
    );

    // Only the person who posted it accepts it.
    let local = need.local_id.clone();
    let dlut = "dlut".parse().unwrap();
    assert!(matches!(
        home.board().accept("someone-else", &local, &dlut).await,
        Err(BoardError::NotYours)
    ));
    let (accepted, _) = home.board().accept("firm7", &local, &dlut).await.unwrap();
    assert!(
        matches!(accepted.state, NeedState::Accepted { ref institution, .. } if *institution == dlut)
    );
    holds_need(&owner, &id, |s| matches!(s, NeedState::Accepted { .. })).await;
    let to_owner = caught(&owner_mail, "the owner hears its offer was accepted", 2).await;
    assert!(
        to_owner[1].subject.starts_with("我方报价已被接受"),
        "{:?}",
        to_owner[1]
    );

    // How institutions answer, as the province saw it: dlut offered once, accepted once,
    // timed by the province's own sightings.
    until("the province holds the offer", DEADLINE, || async {
        province.catalogue().board().offer(&id, &dlut).is_some()
    })
    .await;
    let stats = alliance_node::board::stats::response_stats(
        province.catalogue().board(),
        province.catalogue(),
    );
    let answered = &stats[&dlut];
    assert_eq!((answered.offers, answered.accepted), (1, 1));
    assert!(
        answered.median_hours.is_some_and(|h| h < 1.0),
        "{answered:?}"
    );
    // The province counts the answer towards dlut's response indicator, and states it
    // as its own word in the evidence, from which anyone recomputes the same figures.
    let root = province.config().alliance.root_public_key;
    let base = province.url().trim_end_matches('/').to_owned();
    let fetched = alliance_node::verify::fetch(&base, "", Some(root), &|_| {})
        .await
        .unwrap();
    let figures: alliance_protocol::statement::StatedFigures =
        serde_json::from_str(&fetched.figures).unwrap();
    let xps = figures
        .rows
        .iter()
        .find(|r| r.institution == "dlut" && r.instrument.ends_with("XPS-1"))
        .expect("a row of dlut's XPS");
    assert_eq!((xps.offers, xps.offers_accepted), (1, 1), "{xps:?}");
    assert!(xps.response_hours.is_some_and(|h| h < 1.0), "{xps:?}");
    let answers = fetched
        .evidence
        .iter()
        .filter(|item| {
            serde_json::from_slice::<serde_json::Value>(item).unwrap()["kind"] == "answer"
        })
        .count();
    assert_eq!(answers, 1);
    let report = fixtures::verify_results(&province, "").await;
    assert!(report.agrees(), "{:?}", report.differences);

    // Closed: no more offers, no second acceptance, no withdrawal.
    assert!(matches!(
        owner.board().offer(offer_for(&id)).await,
        Err(BoardError::Closed("accepted"))
    ));
    assert!(matches!(
        home.board().withdraw("firm7", &local).await,
        Err(BoardError::Closed("accepted"))
    ));

    // Each event was mailed once, to its own person, from its own node.
    until("every notice is sent", DEADLINE, || async {
        owner.notices().waiting().unwrap() + home.notices().waiting().unwrap() == 0
    })
    .await;
    assert_eq!(
        owner_mail.messages().len(),
        2,
        "{:?}",
        owner_mail.messages()
    );
    assert_eq!(home_mail.messages().len(), 1, "{:?}", home_mail.messages());
    assert!(owner_mail.messages().iter().all(|m| m.to == [MANAGER]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_need_takes_no_offer_and_an_unknown_instrument_is_refused() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let home = start_member(dir.path(), &province, "neu").await;
    xps_by_sample(&owner, [5_000, 8_000, 12_000, 20_000]).await;
    let need = home
        .board()
        .post("firm7", UserTier::Enterprise, draft(10))
        .await
        .unwrap();
    let id = need.id();
    holds_need(&owner, &id, |s| *s == NeedState::Open).await;
    let mut unknown = offer_for(&id);
    unknown.instrument_local_id = "NMR-9".into();
    assert!(matches!(
        owner.board().offer(unknown).await,
        Err(BoardError::Invalid {
            field: "instrument_local_id",
            ..
        })
    ));
    let mut self_operated = offer_for(&id);
    self_operated.mode = Some(ServiceMode::SelfOperated);
    assert!(matches!(
        owner.board().offer(self_operated).await,
        Err(BoardError::Invalid { field: "mode", .. })
    ));
    let mut bad_date = offer_for(&id);
    bad_date.earliest_date = "soon".into();
    assert!(matches!(
        owner.board().offer(bad_date).await,
        Err(BoardError::Invalid {
            field: "earliest_date",
            ..
        })
    ));

    // An offer taken back reaches the home as withdrawn, and cannot be accepted.
    owner.board().offer(offer_for(&id)).await.unwrap();
    let withdrawn = owner.board().withdraw_offer(&id).await.unwrap();
    assert!(withdrawn.withdrawn);
    let dlut = "dlut".parse().unwrap();
    until("neu holds the offer withdrawn", DEADLINE, || async {
        home.catalogue()
            .board()
            .offer(&id, &dlut)
            .is_some_and(|o| o.withdrawn)
    })
    .await;
    assert!(matches!(
        home.board().accept("firm7", &need.local_id, &dlut).await,
        Err(BoardError::OfferWithdrawn)
    ));

    home.board()
        .withdraw("firm7", &need.local_id)
        .await
        .unwrap();
    holds_need(&owner, &id, |s| matches!(s, NeedState::Withdrawn { .. })).await;
    assert!(matches!(
        owner.board().offer(offer_for(&id)).await,
        Err(BoardError::Closed("withdrawn"))
    ));
    // A deadline already past is refused at the home.
    let mut late = draft(0);
    late.deadline = "2020-01-01".into();
    assert!(matches!(
        home.board().post("firm7", UserTier::Enterprise, late).await,
        Err(BoardError::Invalid {
            field: "deadline",
            ..
        })
    ));
    // One person keeps at most 20 needs open; withdrawing one makes room.
    let mut open = Vec::new();
    for _ in 0..alliance_node::board::MAX_OPEN_NEEDS_PER_USER {
        open.push(
            home.board()
                .post("firm8", UserTier::Enterprise, draft(10))
                .await
                .unwrap(),
        );
    }
    assert!(matches!(
        home.board()
            .post("firm8", UserTier::Enterprise, draft(10))
            .await,
        Err(BoardError::Full(_))
    ));
    home.board()
        .withdraw("firm8", &open[0].local_id)
        .await
        .unwrap();
    home.board()
        .post("firm8", UserTier::Enterprise, draft(10))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_a_self_operated_offer_leads_to_booking_the_offered_instrument() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let home = start_member(dir.path(), &province, "neu").await;
    let mut record = sample_record("dlut", "SEM-1", "扫描电子显微镜");
    record.service_modes = vec![ServiceMode::SelfOperated];
    record.opening_hours = "每天 全天".into();
    owner.catalogue().save_record(record).await.unwrap();
    person(
        &home,
        "res1",
        AccountRole::Researcher,
        "res1@neu.example.cn",
    )
    .await;
    let need = home
        .board()
        .post(
            "res1",
            UserTier::OwnInstitution,
            NeedDraft {
                title: "断口形貌观察".into(),
                modes: vec![ServiceMode::SelfOperated],
                keywords: vec!["SEM".into()],
                sample_count: 1,
                deadline: in_days(20),
                ..NeedDraft::default()
            },
        )
        .await
        .unwrap();
    let id = need.id();
    holds_need(&owner, &id, |s| *s == NeedState::Open).await;
    owner
        .board()
        .offer(OfferDraft {
            need_id: id.clone(),
            instrument_local_id: "SEM-1".into(),
            mode: Some(ServiceMode::SelfOperated),
            service_item: "自主上机".into(),
            quoted: Some((50_000, "机时按4小时计".into())),
            earliest_date: in_days(2),
            turnaround_days: 1,
            ..OfferDraft::default()
        })
        .await
        .unwrap();
    until("neu holds the offer", DEADLINE, || async {
        home.catalogue()
            .board()
            .offer(&id, &"dlut".parse().unwrap())
            .is_some()
    })
    .await;

    // Accepting on the need's page leads to the instrument's booking form, from the
    // offer's earliest day; no entrusted-testing order is placed.
    let researcher = Signed::as_user(&home, "res1").await;
    let (status, html) = researcher
        .submit(&format!("needs/{id}/accept"), &[("institution", "dlut")])
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("扫描电子显微镜") && html.contains(&format!("{}T09:00", in_days(2))),
        "{html}"
    );
    assert!(home.orders().orders_of("res1").unwrap().is_empty());
    holds_need(&owner, &id, |s| matches!(s, NeedState::Accepted { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_attached_to_a_need_is_fetched_by_members_through_its_home() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let home = start_member(dir.path(), &province, "neu").await;
    person(&home, "firm7", AccountRole::ExternalUser, FIRM).await;
    person(&owner, "mgr", AccountRole::InstrumentManager, MANAGER).await;
    let need = home
        .board()
        .post("firm7", UserTier::Enterprise, draft(30))
        .await
        .unwrap();
    let id = need.id();
    let firm = Signed::as_user(&home, "firm7").await;
    let attach = format!("api/v1/needs/{id}/attachments?file_name=%E6%A0%B7%E5%93%81.jpg");

    // Refused: a type read from the bytes that is not allowed, a file over 2 MiB.
    let (status, _) = firm
        .post_bytes(&attach, b"MZ\x90\x00\x03\x00".to_vec())
        .await;
    assert_eq!(status, 400);
    let big = vec![b'a'; alliance_protocol::board::MAX_NEED_FILE_BYTES + 1];
    assert_eq!(firm.post_bytes(&attach, big).await.0, 400);
    // Only its poster attaches.
    let manager = Signed::as_user(&owner, "mgr").await;
    assert_eq!(
        manager
            .post_bytes(&attach, b"\xFF\xD8\xFF\xE0photo".to_vec())
            .await
            .0,
        404
    );

    // A photo: kept at neu, its SHA-256 signed into the need every member holds.
    let photo = b"\xFF\xD8\xFF\xE0 a sample photo".to_vec();
    let (status, view) = firm.post_bytes(&attach, photo.clone()).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["attachments"][0]["media_type"], "image/jpeg");
    until("dlut holds the need with its file", DEADLINE, || async {
        owner
            .catalogue()
            .board()
            .need(&id)
            .is_some_and(|n| n.attachments.len() == 1)
    })
    .await;

    // dlut's manager downloads it at dlut, which fetched it from neu and checked it.
    let (status, media, bytes) = manager
        .get_bytes(&format!("api/v1/needs/{id}/attachments/0"))
        .await;
    assert_eq!((status, media.as_str()), (200, "image/jpeg"));
    assert_eq!(bytes, photo);
    // A visitor who is not signed in gets nothing; a file that does not exist, 404.
    let (status, _) = alliance_tests::http::get_json_status(
        &alliance_tests::http::client(),
        &format!("{}api/v1/needs/{id}/attachments/0", owner.url()),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        manager
            .get_bytes(&format!("api/v1/needs/{id}/attachments/1"))
            .await
            .0,
        404
    );
    // At most three.
    for _ in 0..2 {
        assert_eq!(firm.post_bytes(&attach, photo.clone()).await.0, 200);
    }
    assert_eq!(firm.post_bytes(&attach, photo).await.0, 409);
}
