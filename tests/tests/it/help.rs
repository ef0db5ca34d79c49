//! The help desk (R18) across real nodes, through the API: a firm asks in plain words;
//! only a service expert takes the request, and only that expert acts on it; the expert
//! writes to the firm and posts the need for it, referred to another member, whose
//! managers are told by mail; the firm sees every step and owns the need. Each message
//! to the firm goes out once through a real SMTP server, from the firm's home.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_protocol::NeedState;
use alliance_tests::{
    fixtures::{in_days, person, wait_connected},
    http::Signed,
    mail_catcher::MailCatcher,
    node_api::until,
    *,
};
use alliance_web::backend::{AccountRole, PriceCategory};
use serde_json::json;

fn with_mail(catcher: &MailCatcher) -> impl FnOnce(&mut alliance_node::Config) + use<> {
    let url = catcher.url();
    move |config| {
        config.notify.smtp_url = Some(url);
        config.notify.from = Some("仪器共享联盟 <noreply@alliance.example.cn>".into());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expert_takes_a_firms_plain_request_and_posts_its_need_referred_to_a_member() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let home_mail = MailCatcher::start(&dir.path().join("neu-mail"));
    let owner_mail = MailCatcher::start(&dir.path().join("dlut-mail"));
    let province = start_province(dir.path(), "lnsti").await;
    let home = start_member_with(dir.path(), &province, "neu", with_mail(&home_mail)).await;
    let owner = start_member_with(dir.path(), &province, "dlut", with_mail(&owner_mail)).await;
    person(
        &home,
        "firm1",
        AccountRole::ExternalUser,
        "firm1@example.cn",
    )
    .await;
    home.accounts()
        .set_price_category("firm1", PriceCategory::Individual)
        .await
        .unwrap();
    person(
        &home,
        "exp1",
        AccountRole::ServiceExpert,
        "exp1@neu.example.cn",
    )
    .await;
    person(
        &home,
        "exp2",
        AccountRole::ServiceExpert,
        "exp2@neu.example.cn",
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
        "mgr",
        AccountRole::InstrumentManager,
        "mgr@dlut.example.cn",
    )
    .await;
    wait_connected(&home, "dlut").await;

    // The firm asks in its own words; too short is refused.
    let firm = Signed::as_user(&home, "firm1").await;
    let (status, _) = firm.post("api/v1/help", json!({ "text": "测一下" })).await;
    assert_eq!(status, 400);
    // Asked through the page's form; the page then lists it, waiting for an expert.
    let (status, html) = firm
        .submit(
            "help",
            &[(
                "text",
                "我们的不锈钢零件镀了一层铬，客户说颜色不对，想知道镀层里铬是几价的。",
            )],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("等待受理") && html.contains("镀了一层铬"),
        "{html}"
    );
    let (_, mine) = firm.get("api/v1/help").await;
    assert_eq!(mine["total"], 1);
    let asked = &mine["items"][0];
    let id = asked["id"].as_str().unwrap().to_owned();
    assert_eq!(asked["state"], "open");

    // Outside their role: a researcher neither sees nor takes it, nor sees the queue.
    let researcher = Signed::as_user(&home, "res1").await;
    assert_eq!(researcher.get(&format!("api/v1/help/{id}")).await.0, 404);
    assert_eq!(
        researcher
            .post(&format!("api/v1/help/{id}/take"), json!({}))
            .await
            .0,
        403
    );
    assert_eq!(researcher.get("api/v1/help/queue").await.0, 403);
    // Nor does the firm take its own request.
    assert_eq!(
        firm.post(&format!("api/v1/help/{id}/take"), json!({}))
            .await
            .0,
        403
    );

    // An expert takes it; a second expert then may not take it, write or post on it.
    let expert = Signed::as_user(&home, "exp1").await;
    let (_, html) = expert.page("help").await;
    assert!(
        html.contains("待处理的咨询") && html.contains("受理"),
        "{html}"
    );
    let (status, queue) = expert.get("api/v1/help/queue").await;
    assert_eq!(status, 200);
    assert_eq!(queue["total"], 1);
    let (status, taken) = expert
        .post(&format!("api/v1/help/{id}/take"), json!({}))
        .await;
    assert_eq!(status, 200, "{taken}");
    assert_eq!(taken["state"], "taken");
    let rival = Signed::as_user(&home, "exp2").await;
    assert_eq!(
        rival
            .post(&format!("api/v1/help/{id}/take"), json!({}))
            .await
            .0,
        403
    );
    let (status, _) = rival
        .post(
            &format!("api/v1/help/{id}/messages"),
            json!({ "text": "我来吧" }),
        )
        .await;
    assert_eq!(status, 403);

    // The expert writes; the firm answers; the firm is told of the expert's steps.
    let (status, _) = expert
        .post(
            &format!("api/v1/help/{id}/messages"),
            json!({ "text": "这需要X射线光电子能谱（XPS）分析，请准备3片1厘米见方的样品。" }),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = firm
        .post(
            &format!("api/v1/help/{id}/messages"),
            json!({ "text": "好的，三片可以。" }),
        )
        .await;
    assert_eq!(status, 200);

    // A referral to an institution that is not a member is refused; to dlut it goes.
    let need = json!({
        "title": "镀铬层铬价态分析", "modes": ["staff_run"], "keywords": ["XPS"],
        "sample_kind": "镀铬钢片", "sample_count": 3, "deadline": in_days(20)
    });
    let rival_try = rival
        .post(
            &format!("api/v1/help/{id}/need"),
            json!({ "need": need, "referred_to": "dlut" }),
        )
        .await;
    assert_eq!(rival_try.0, 403);
    let (status, _) = expert
        .post(
            &format!("api/v1/help/{id}/need"),
            json!({ "need": need, "referred_to": "nowhere" }),
        )
        .await;
    assert_eq!(status, 400);
    let (status, done) = expert
        .post(
            &format!("api/v1/help/{id}/need"),
            json!({ "need": need, "referred_to": "dlut" }),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["state"], "closed");
    let posted = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "need_posted")
        .unwrap();
    assert_eq!(posted["referred_to"], "dlut");
    let need_id = posted["need_id"].as_str().unwrap().to_owned();

    // The firm sees every step, and owns the need.
    let (_, seen) = firm.get(&format!("api/v1/help/{id}")).await;
    let kinds: Vec<&str> = seen["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["asked", "taken", "message", "message", "need_posted"]
    );
    let (_, mine) = firm.get("api/v1/needs/mine").await;
    assert_eq!(mine[0]["need_id"], need_id.as_str());
    // The need is named by the request: posting it again, as after a crash before the
    // step was kept, gives back that need, not a second one.
    let again = home
        .board()
        .post_once(
            "firm1",
            alliance_protocol::UserTier::OutsideAcademic,
            alliance_node::board::NeedDraft {
                title: "再发一次".into(),
                deadline: in_days(20),
                ..Default::default()
            },
            format!("n_{id}"),
        )
        .await
        .unwrap();
    assert_eq!(again.id(), need_id);
    let (_, mine) = firm.get("api/v1/needs/mine").await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    // Closed: nothing more is written on it.
    let (status, _) = firm
        .post(
            &format!("api/v1/help/{id}/messages"),
            json!({ "text": "谢谢" }),
        )
        .await;
    assert_eq!(status, 409);

    // dlut holds the need, referred to it, and its managers are told at once.
    until("dlut holds the referred need", DEADLINE, || async {
        owner
            .catalogue()
            .board()
            .need(&need_id)
            .is_some_and(|n| n.state == NeedState::Open && n.referred_to.is_some())
    })
    .await;
    until(
        "dlut's managers hear of the referral",
        DEADLINE * 3,
        || async {
            owner_mail
                .messages()
                .iter()
                .any(|m| m.subject.contains("服务专家向本机构推荐了一项需求"))
        },
    )
    .await;
    let to_managers = owner_mail.messages();
    assert!(to_managers.iter().all(|m| m.to == ["mgr@dlut.example.cn"]));

    // The firm was mailed once for each of the expert's steps (taken, message, need
    // posted), and its own answer mailed nobody; nothing else left neu.
    until("every notice is sent", DEADLINE * 3, || async {
        home.notices().waiting().unwrap() == 0 && home_mail.messages().len() >= 3
    })
    .await;
    let to_firm = home_mail.messages();
    assert_eq!(to_firm.len(), 3, "{to_firm:?}");
    assert!(to_firm.iter().all(|m| m.to == ["firm1@example.cn"]));
    assert!(to_firm.iter().any(|m| m.body.contains("X射线光电子能谱")));
    assert!(to_firm.iter().any(|m| m.body.contains("镀铬层铬价态分析")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_experts_queue_and_ones_own_requests_come_in_pages_newest_first() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let home = start_member(dir.path(), &province, "neu").await;
    for firm in ["firm1", "firm2"] {
        person(
            &home,
            firm,
            AccountRole::ExternalUser,
            &format!("{firm}@example.cn"),
        )
        .await;
    }
    person(
        &home,
        "exp1",
        AccountRole::ServiceExpert,
        "exp1@neu.example.cn",
    )
    .await;
    for firm in ["firm1", "firm2"] {
        let asker = Signed::as_user(&home, firm).await;
        for n in 0..5 {
            let text = format!("{firm} 的第 {n} 个问题：想测一下涂层的成分和厚度。");
            let (status, body) = asker.post("api/v1/help", json!({ "text": text })).await;
            assert_eq!(status, 201, "{body}");
        }
    }

    let expert = Signed::as_user(&home, "exp1").await;
    let mut seen = Vec::new();
    for offset in [0, 4, 8] {
        let (status, page) = expert
            .get(&format!("api/v1/help/queue?offset={offset}&limit=4"))
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], 10);
        for item in page["items"].as_array().unwrap() {
            seen.push((
                item["created_at"].as_i64().unwrap(),
                item["id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert_eq!(seen.len(), 10);
    assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "{seen:?}");
    let distinct: std::collections::BTreeSet<_> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(distinct.len(), 10);

    // One's own, two at a time: all five, each once, only one's own.
    let firm = Signed::as_user(&home, "firm1").await;
    let mut mine = std::collections::BTreeSet::new();
    for offset in [0, 2, 4] {
        let (_, page) = firm
            .get(&format!("api/v1/help?offset={offset}&limit=2"))
            .await;
        assert_eq!(page["total"], 5);
        for item in page["items"].as_array().unwrap() {
            assert!(
                item["text"].as_str().unwrap().starts_with("firm1"),
                "{item}"
            );
            mine.insert(item["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(mine.len(), 5);
    // Offsets from outside, however large, give empty pages, not failures.
    let (status, _) = expert
        .page(&format!("help?offset={}&mine={}", usize::MAX, usize::MAX))
        .await;
    assert_eq!(status, 200);
}
