//! The board the demo starts with, made over the network like any other: each member's
//! firm posts a need that the next member's instruments can do, and that member offers by
//! its fee schedule. The first need's offer is accepted and its order is in testing; the
//! second's went all the way to a closed order with its report; the rest stay open with
//! their offers, and one more need waits for its first offer. So the needs board, the
//! offers, "my orders" and the managers' orders page have something to show, and the
//! demo's mail page the messages each step sent.

use std::time::Duration;

use alliance_protocol::{
    FeeUnit, InstitutionId, InstrumentRecord, InstrumentStatus, Need, ServiceMode, UnixTime,
    UserTier,
    event::RegistrantKind,
    order::{OrderContact, OrderState},
};

use crate::{
    board::{Board, NeedDraft, OfferDraft},
    catalogue::Catalogue,
    events::{EventDraft, Events, Registrant},
    help::{Actor, HelpDesk},
    net::NetClient,
    orders::Orders,
};

/// How long to wait for an entry or an order to reach another node.
const REACH: Duration = Duration::from_secs(180);
/// How long to wait for gossip before pulling by anti-entropy instead (gossip sent while
/// the nodes were still meeting is lost; the pull gets it).
const NUDGE: Duration = Duration::from_secs(3);

/// A member as the seeding sees it.
#[derive(Debug, Clone)]
pub(super) struct Member {
    pub id: &'static str,
    pub catalogue: Catalogue,
    pub net: NetClient,
    pub board: Board,
    pub orders: Orders,
    pub help: HelpDesk,
    pub events: Events,
    /// Its firm's account, as the order names it.
    pub firm: OrderContact,
}

/// Days from today, `YYYY-MM-DD` in Beijing.
fn in_days(days: u64) -> String {
    (chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        + chrono::Days::new(days))
    .format("%Y-%m-%d")
    .to_string()
}

/// An instrument of `owner` a firm's samples can be sent to, priced by the sample.
fn testable(owner: &Member) -> Option<InstrumentRecord> {
    let id: InstitutionId = owner.id.parse().ok()?;
    owner
        .catalogue
        .institution_views(&id)
        .into_iter()
        .map(|v| (*v.record).clone())
        .find(|r| {
            r.status == InstrumentStatus::InService
                && r.service_modes.contains(&ServiceMode::StaffRun)
                && r.sharing_scope.admits(UserTier::Enterprise)
                && r.fees.iter().any(|f| f.unit == FeeUnit::Sample)
        })
}

/// Waits until `check` holds for `member`'s catalogue, as it changes, pulling from its
/// peers whenever nothing came for a while; false after [`REACH`].
async fn reached(member: &Member, check: impl Fn(&Catalogue) -> bool) -> bool {
    let catalogue = &member.catalogue;
    let mut changes = catalogue.changes();
    tokio::time::timeout(REACH, async {
        while !check(catalogue) {
            match tokio::time::timeout(NUDGE, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return false,
                Err(_) => {
                    if let Err(e) = member.net.sync_now().await {
                        tracing::debug!(error = %e, "no sync for the demo board");
                    }
                }
            }
        }
        true
    })
    .await
    .unwrap_or(false)
}

/// Posts, offers, accepts and runs orders; logs what it did. Runs in the background.
pub(super) async fn seed(members: Vec<Member>, province: Events) {
    let count = members.len();
    let mut needs = 0;
    for (i, home) in members.iter().enumerate() {
        let owner = &members[(i + 1) % count];
        match seed_pair(home, owner, i).await {
            Ok(()) => needs += 1,
            Err(why) => tracing::warn!(
                home = home.id,
                owner = owner.id,
                why,
                "a demo need was not seeded"
            ),
        }
    }
    if let Some(first) = members.first() {
        let draft = NeedDraft {
            title: "高分子薄膜热稳定性测试".into(),
            description: "聚酰亚胺薄膜，需要 TGA 与 DSC 数据".into(),
            modes: vec![ServiceMode::StaffRun],
            keywords: vec!["热分析".into(), "TGA".into()],
            sample_kind: "薄膜".into(),
            sample_count: 4,
            deadline: in_days(30),
            budget_max_fen: 300_000,
            ..NeedDraft::default()
        };
        if first
            .board
            .post(&first.firm.user_id, UserTier::Enterprise, draft)
            .await
            .is_ok()
        {
            needs += 1;
        }
    }
    tracing::info!(needs, "demo needs posted");
    // The help desk first: it is each node's own, and the event waits for gossip.
    for (i, member) in members.iter().enumerate() {
        if let Err(e) = seed_help(member, i == 0).await {
            tracing::warn!(member = member.id, error = %e, "a demo request for help was not seeded");
        }
    }
    if let Err(e) = seed_event(&members, &province).await {
        tracing::warn!(error = %e, "the demo's matching event was not seeded");
    }
}

/// The province's matching event in the field of the first firm's need, ten days from
/// now; the next member's firm has registered.
async fn seed_event(members: &[Member], province: &Events) -> Result<(), String> {
    let field = members
        .first()
        .and_then(|m| m.board.needs_of(&m.firm.user_id).ok())
        .and_then(|needs| needs.iter().find_map(|n| n.categories.first().cloned()))
        .and_then(|code| code.get(..2).map(str::to_owned))
        .ok_or("no need to hold an event about")?;
    let day = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        + chrono::Days::new(10);
    let at = |hour: u32| {
        day.and_hms_opt(hour, 0, 0)
            .and_then(|t| t.and_local_timezone(chrono_tz::Asia::Shanghai).single())
            .map_or(UnixTime::now(), |t| UnixTime(t.timestamp()))
    };
    let event = province
        .announce(EventDraft {
            title: "辽宁省大型科研仪器开放共享供需对接会".into(),
            description: "联盟成员单位介绍仪器与检测服务，企业现场提出检测需求，专家一对一对接。"
                .into(),
            field,
            starts_at: at(9),
            ends_at: at(17),
            place: "沈阳市和平区文化路3号巷11号 省科技厅报告厅".into(),
            link: "https://meeting.alliance.demo/duijiehui".into(),
            capacity: 200,
        })
        .await
        .map_err(|e| e.to_string())?;
    let Some(member) = members.get(1) else {
        return Ok(());
    };
    // The member must hold the event before its firm can register.
    let id = event.id();
    if !reached(member, |c| c.board().event(&id).is_some()).await {
        return Err("the member never held the event".into());
    }
    member
        .events
        .register(
            Registrant {
                user_id: member.firm.user_id.clone(),
                name: member.firm.name.clone(),
                organization: member.firm.organization.clone(),
                kind: RegistrantKind::Firm,
            },
            &id,
            false,
        )
        .await
        .map_err(|e| e.to_string())
}

/// A firm's request for help in plain words; at the first member, taken by its service
/// expert, who has written back.
async fn seed_help(member: &Member, answered: bool) -> Result<(), crate::help::HelpError> {
    let firm = Actor {
        username: &member.firm.user_id,
        name: &member.firm.name,
        expert: false,
    };
    let request = member
        .help
        .ask(
            firm,
            "我们是做锂电池正极材料的小企业，想知道一批粉末里有没有杂相、颗粒大概多大，\
             不知道该找哪种仪器、哪家单位。",
            "",
        )
        .await?;
    if !answered {
        return Ok(());
    }
    let expert_name = format!("{}服务专家", member.firm.name.trim_end_matches("企业用户"));
    let expert_username = format!("{}-expert", member.id);
    let expert = Actor {
        username: &expert_username,
        name: &expert_name,
        expert: true,
    };
    member.help.take(expert, &request.id).await?;
    member
        .help
        .write(
            expert,
            &request.id,
            "杂相可用X射线衍射（XRD）物相分析，颗粒大小可用激光粒度仪或扫描电镜。\
             请告诉我们样品数量和希望的完成日期，我们替您发布需求。",
        )
        .await?;
    Ok(())
}

async fn seed_pair(home: &Member, owner: &Member, n: usize) -> Result<(), String> {
    let record = testable(owner).ok_or("no instrument for entrusted testing")?;
    // The two have met once the home holds the owner's instrument.
    if !reached(home, |c| c.instrument_unfiltered(&record.id()).is_some()).await {
        return Err("the home never held the owner's instrument".into());
    }
    let draft = NeedDraft {
        title: format!("{}委托检测", record.name_zh),
        description: format!(
            "我公司需要对一批样品进行检测，希望使用{}，请报价并说明周期。",
            record.name_zh
        ),
        categories: vec![record.classification_code.clone()],
        modes: vec![ServiceMode::StaffRun],
        keywords: vec![record.name_zh.clone()],
        sample_kind: "样品".into(),
        sample_count: 3 + n as u32,
        deadline: in_days(21),
        budget_min_fen: 0,
        budget_max_fen: 500_000,
        results_public: n.is_multiple_of(2),
        referred_to: None,
    };
    let need = home
        .board
        .post(&home.firm.user_id, UserTier::Enterprise, draft)
        .await
        .map_err(|e| e.to_string())?;
    let id = need.id();
    if !reached(owner, |c| c.board().need(&id).is_some()).await {
        return Err("the need did not reach the owner".into());
    }
    let item = record
        .fees
        .iter()
        .find(|f| f.unit == FeeUnit::Sample)
        .map(|f| f.item_zh.clone())
        .unwrap_or_default();
    owner
        .board
        .offer(OfferDraft {
            need_id: id.clone(),
            instrument_local_id: record.local_id.clone(),
            mode: Some(ServiceMode::StaffRun),
            service_item: item,
            quoted: None,
            earliest_date: in_days(2),
            turnaround_days: 5 + n as u32,
            conditions: "样品请干燥密封寄送，注明编号".into(),
        })
        .await
        .map_err(|e| e.to_string())?;
    let owner_id: InstitutionId = owner.id.parse().map_err(|_| "owner id")?;
    if n > 1 {
        return Ok(());
    }
    if !reached(home, |c| c.board().offer(&id, &owner_id).is_some()).await {
        return Err("the offer did not reach the home".into());
    }
    accept_and_run(home, owner, &need, &owner_id, n == 1).await
}

/// The firm accepts; the owner records the intake and starts testing, and with `finish`
/// issues the report and closes the order.
async fn accept_and_run(
    home: &Member,
    owner: &Member,
    need: &Need,
    owner_id: &InstitutionId,
    finish: bool,
) -> Result<(), String> {
    let offer = home
        .catalogue
        .board()
        .offer(&need.id(), owner_id)
        .ok_or("no offer")?;
    home.orders
        .place_for(need, &offer, home.firm.clone())
        .await
        .map_err(|e| e.to_string())?;
    home.board
        .accept(&home.firm.user_id, &need.local_id, owner_id)
        .await
        .map_err(|e| e.to_string())?;
    let home_id = need.home.clone();
    let arrived = tokio::time::timeout(REACH, async {
        loop {
            if matches!(
                owner.orders.managed_order(&home_id, &need.local_id),
                Ok(Some(_))
            ) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    if arrived.is_err() {
        return Err("the order did not reach the owner".into());
    }
    let step = |state, note: &'static str| {
        let orders = owner.orders.clone();
        let home_id = home_id.clone();
        let local = need.local_id.clone();
        async move {
            orders
                .advance(&home_id, &local, state, note)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    };
    step(
        OrderState::SamplesReceived,
        "样品已收到，包装完好，编号与清单一致",
    )
    .await?;
    step(OrderState::Testing, "").await?;
    if !finish {
        return Ok(());
    }
    let now = UnixTime::now().0;
    let report = format!(
        "%PDF-1.4\n% 检测报告 {}\n% 样品 {} 件，结果见附表\n%%EOF\n",
        need.title, need.sample_count
    );
    owner
        .orders
        .issue_report(
            &home_id,
            &need.local_id,
            "检测报告.pdf",
            report.into_bytes(),
            (UnixTime(now - 50 * 60), UnixTime(now - 20 * 60)),
        )
        .await
        .map_err(|e| e.to_string())?;
    step(OrderState::Closed, "费用已结清").await
}
