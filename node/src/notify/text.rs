//! What a notice says, in Chinese or English. Times are Beijing time.

use alliance_protocol::{UnixTime, booking::BookingState};

use super::{
    notice::{Facts, NoticeKind},
    prefs::Language,
};

/// A notice's subject line and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Text {
    pub subject: String,
    pub body: String,
}

fn beijing(at: UnixTime) -> String {
    chrono::DateTime::from_timestamp(at.0, 0)
        .map(|t| {
            t.with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn when(facts: &Facts) -> String {
    match (facts.start, facts.end) {
        (Some(start), Some(end)) => format!("{} – {}", beijing(start), beijing(end)),
        (Some(start), None) => beijing(start),
        _ => String::new(),
    }
}

fn state(state: Option<BookingState>, language: Language) -> &'static str {
    use BookingState::*;
    match (state, language) {
        (Some(Requested), Language::Zh) => "已提交",
        (Some(Held), Language::Zh) => "待审批",
        (Some(Confirmed), Language::Zh) => "已确认",
        (Some(Rejected), Language::Zh) => "未获批准",
        (Some(Cancelled), Language::Zh) => "已取消",
        (Some(NoShow), Language::Zh) => "记为未到场",
        (Some(InUse), Language::Zh) => "使用中",
        (Some(Completed), Language::Zh) => "已完成",
        (Some(Requested), Language::En) => "sent",
        (Some(Held), Language::En) => "waiting for approval",
        (Some(Confirmed), Language::En) => "confirmed",
        (Some(Rejected), Language::En) => "not approved",
        (Some(Cancelled), Language::En) => "cancelled",
        (Some(NoShow), Language::En) => "marked a no-show",
        (Some(InUse), Language::En) => "in use",
        (Some(Completed), Language::En) => "completed",
        (None, Language::Zh) => "已更新",
        (None, Language::En) => "updated",
    }
}

/// The text of a notice of `kind` about `facts`, for a page at `site` (the node's URL).
pub(super) fn render(kind: NoticeKind, facts: &Facts, language: Language, site: &str) -> Text {
    let name = match language {
        Language::En if !facts.instrument_name_en.is_empty() => &facts.instrument_name_en,
        _ => &facts.instrument_name,
    };
    let instrument = if name.is_empty() {
        facts.instrument_id.clone()
    } else {
        format!("{name}（{}）", facts.instrument_id)
    };
    let when = when(facts);
    let note = if facts.note.is_empty() {
        String::new()
    } else {
        match language {
            Language::Zh => format!("\n备注：{}", facts.note),
            Language::En => format!("\nNote: {}", facts.note),
        }
    };
    let (subject, body) = match (kind, language) {
        (NoticeKind::BookingRequest, Language::Zh) => (
            format!("预约待审批：{instrument}"),
            format!(
                "{} 申请预约 {instrument}，时间 {when}，等待您审批。\n请登录处理：{site}manage/bookings{note}",
                facts.about_user
            ),
        ),
        (NoticeKind::BookingRequest, Language::En) => (
            format!("Booking waiting for approval: {instrument}"),
            format!(
                "{} asks to book {instrument} for {when} (Beijing time); it waits for your decision.\nDecide at {site}manage/bookings{note}",
                facts.about_user
            ),
        ),
        (NoticeKind::BookingDecision, Language::Zh) => (
            format!("您的预约{}：{instrument}", state(facts.state, language)),
            format!(
                "您预约的 {instrument}（{when}）{}。\n详情：{site}bookings{note}",
                state(facts.state, language)
            ),
        ),
        (NoticeKind::BookingDecision, Language::En) => (
            format!(
                "Your booking is {}: {instrument}",
                state(facts.state, language)
            ),
            format!(
                "Your booking of {instrument} for {when} (Beijing time) is {}.\nDetails: {site}bookings{note}",
                state(facts.state, language)
            ),
        ),
        (NoticeKind::HoldLapsing, Language::Zh) => (
            format!("待审批预约即将失效：{instrument}"),
            format!(
                "{} 对 {instrument}（{when}）的预约申请仍待审批，将于 {} 自动失效。\n请尽快处理：{site}manage/bookings",
                facts.about_user,
                facts.deadline.map(beijing).unwrap_or_default()
            ),
        ),
        (NoticeKind::HoldLapsing, Language::En) => (
            format!("Booking about to lapse: {instrument}"),
            format!(
                "{} asked to book {instrument} for {when} (Beijing time); unless decided, the request lapses at {}.\nDecide at {site}manage/bookings",
                facts.about_user,
                facts.deadline.map(beijing).unwrap_or_default()
            ),
        ),
        (NoticeKind::BookingTomorrow, Language::Zh) => (
            format!("预约提醒：{instrument}"),
            format!(
                "您预约的 {instrument} 将于 {when} 使用，请按时到场；如需取消，请在取消期限前操作。\n详情：{site}bookings"
            ),
        ),
        (NoticeKind::BookingTomorrow, Language::En) => (
            format!("Reminder: {instrument}"),
            format!(
                "Your booking of {instrument} is for {when} (Beijing time). Please be on time; to cancel, do so before the cancellation deadline.\nDetails: {site}bookings"
            ),
        ),
        (NoticeKind::ReceiptToConfirm, Language::Zh) => (
            format!("请确认使用凭证：{instrument}"),
            format!(
                "您使用 {instrument}（{when}）的凭证已签发，请确认并评价。\n前往：{site}receipts{note}"
            ),
        ),
        (NoticeKind::ReceiptToConfirm, Language::En) => (
            format!("Please confirm your receipt: {instrument}"),
            format!(
                "The receipt of your use of {instrument} for {when} (Beijing time) is issued; please confirm and rate it.\nGo to {site}receipts{note}"
            ),
        ),
        (NoticeKind::NeedMatched, Language::Zh) => (
            format!("新需求与本机构仪器匹配：{}", facts.need_title),
            format!(
                "联盟中有用户发布需求「{}」，截止 {}，本机构的 {instrument} 可能满足。\n查看并报价：{site}needs/{}",
                facts.need_title, facts.need_deadline, facts.need_id
            ),
        ),
        (NoticeKind::NeedMatched, Language::En) => (
            format!("A need our instruments could do: {}", facts.need_title),
            format!(
                "A user of the alliance needs \"{}\" by {}; our {instrument} could do it.\nSee it and make an offer: {site}needs/{}",
                facts.need_title, facts.need_deadline, facts.need_id
            ),
        ),
        (NoticeKind::OfferReceived, Language::Zh) => (
            format!("您的需求收到报价：{}", facts.need_title),
            format!(
                "{} 对您的需求「{}」提出了报价（{instrument}）。\n比较并接受：{site}needs/{}",
                facts.institution_name, facts.need_title, facts.need_id
            ),
        ),
        (NoticeKind::OfferReceived, Language::En) => (
            format!("An offer for your need: {}", facts.need_title),
            format!(
                "{} offered to do your need \"{}\" ({instrument}).\nCompare and accept: {site}needs/{}",
                english_or(&facts.institution_name_en, &facts.institution_name),
                facts.need_title,
                facts.need_id
            ),
        ),
        (NoticeKind::OfferAccepted, Language::Zh) => (
            format!("我方报价已被接受：{}", facts.need_title),
            format!(
                "用户接受了本机构对需求「{}」的报价（{instrument}）。\n详情：{site}needs/{}",
                facts.need_title, facts.need_id
            ),
        ),
        (NoticeKind::OfferAccepted, Language::En) => (
            format!("Our offer was accepted: {}", facts.need_title),
            format!(
                "The user accepted our offer for the need \"{}\" ({instrument}).\nDetails: {site}needs/{}",
                facts.need_title, facts.need_id
            ),
        ),
        (NoticeKind::NeedReferred, Language::Zh) => (
            format!("服务专家向本机构推荐了一项需求：{}", facts.need_title),
            format!(
                "联盟服务专家将需求「{}」（截止 {}）推荐给本机构。\n查看并报价：{site}needs/{}",
                facts.need_title, facts.need_deadline, facts.need_id
            ),
        ),
        (NoticeKind::NeedReferred, Language::En) => (
            format!(
                "A service expert referred a need to us: {}",
                facts.need_title
            ),
            format!(
                "A service expert of the alliance referred the need \"{}\" (by {}) to us.\nSee it and make an offer: {site}needs/{}",
                facts.need_title, facts.need_deadline, facts.need_id
            ),
        ),
        (NoticeKind::HelpUpdate, Language::Zh) => (
            "您的咨询有新进展".to_owned(),
            format!("{}\n详情：{site}help", facts.note),
        ),
        (NoticeKind::HelpUpdate, Language::En) => (
            "News on your request for help".to_owned(),
            format!("{}\nDetails: {site}help", facts.note),
        ),
        (NoticeKind::OrderState, language) => {
            let state = order_state(facts.order_state, language);
            match language {
                Language::Zh => (
                    format!("委托检测{state}：{}", facts.need_title),
                    format!(
                        "您的委托检测「{}」（{instrument}）{state}。\n详情：{site}orders{note}",
                        facts.need_title
                    ),
                ),
                Language::En => (
                    format!("Testing order {state}: {}", facts.need_title),
                    format!(
                        "Your testing order \"{}\" ({instrument}): {state}.\nDetails: {site}orders{note}",
                        facts.need_title
                    ),
                ),
            }
        }
    };
    Text { subject, body }
}

fn order_state(
    state: Option<alliance_protocol::order::OrderState>,
    language: Language,
) -> &'static str {
    use alliance_protocol::order::OrderState::*;
    match (state, language) {
        (Some(Ordered), Language::Zh) => "已下单",
        (Some(SamplesReceived), Language::Zh) => "样品已接收",
        (Some(Testing), Language::Zh) => "检测中",
        (Some(ReportIssued), Language::Zh) => "报告已出具",
        (Some(Closed), Language::Zh) => "已完成",
        (Some(Refused), Language::Zh) => "被拒绝",
        (Some(Cancelled), Language::Zh) => "已取消",
        (Some(Ordered), Language::En) => "ordered",
        (Some(SamplesReceived), Language::En) => "samples received",
        (Some(Testing), Language::En) => "in testing",
        (Some(ReportIssued), Language::En) => "report issued",
        (Some(Closed), Language::En) => "closed",
        (Some(Refused), Language::En) => "refused",
        (Some(Cancelled), Language::En) => "cancelled",
        (None, Language::Zh) => "已更新",
        (None, Language::En) => "updated",
    }
}

/// The English name when there is one, else the Chinese.
fn english_or<'a>(en: &'a str, zh: &'a str) -> &'a str {
    if en.is_empty() { zh } else { en }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_reads_in_beijing_time_in_either_language() {
        let facts = Facts {
            instrument_id: "dlut/XPS-1".into(),
            instrument_name: "X射线光电子能谱仪".into(),
            state: Some(BookingState::Confirmed),
            // 2026-12-01 01:00 UTC is 09:00 in Beijing.
            start: Some(UnixTime(1_796_086_800)),
            end: Some(UnixTime(1_796_090_400)),
            ..Facts::default()
        };
        let zh = render(
            NoticeKind::BookingDecision,
            &facts,
            Language::Zh,
            "http://n/",
        );
        assert_eq!(
            zh.subject,
            "您的预约已确认：X射线光电子能谱仪（dlut/XPS-1）"
        );
        assert!(
            zh.body.contains("2026-12-01 09:00 – 2026-12-01 10:00"),
            "{}",
            zh.body
        );
        let en = render(
            NoticeKind::BookingDecision,
            &facts,
            Language::En,
            "http://n/",
        );
        assert!(en.subject.starts_with("Your booking is confirmed"));
        assert!(en.body.contains("http://n/bookings"));
    }

    #[test]
    fn an_order_step_names_its_state_and_note_in_either_language() {
        let facts = Facts {
            instrument_id: "dlut/XPS-1".into(),
            instrument_name: "X射线光电子能谱仪".into(),
            need_title: "涂层价态分析".into(),
            note: "样品三片已收到，外观完好".into(),
            order_state: Some(alliance_protocol::order::OrderState::SamplesReceived),
            ..Facts::default()
        };
        let zh = render(NoticeKind::OrderState, &facts, Language::Zh, "http://n/");
        assert_eq!(zh.subject, "委托检测样品已接收：涂层价态分析");
        assert!(zh.body.contains("样品三片已收到"), "{}", zh.body);
        assert!(zh.body.contains("http://n/orders"), "{}", zh.body);
        let en = render(NoticeKind::OrderState, &facts, Language::En, "http://n/");
        assert_eq!(en.subject, "Testing order samples received: 涂层价态分析");
        let referred = render(
            NoticeKind::NeedReferred,
            &Facts {
                need_id: "neu/n_1".into(),
                ..facts
            },
            Language::Zh,
            "http://n/",
        );
        assert!(
            referred.body.contains("http://n/needs/neu/n_1"),
            "{}",
            referred.body
        );
    }
}
