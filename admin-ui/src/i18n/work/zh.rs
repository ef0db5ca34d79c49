//! Simplified Chinese strings of the work page.

use super::WorkStrings;

pub(crate) static ZH: WorkStrings = WorkStrings {
    nav_work: "工作台",
    title: "我的工作台",
    upcoming: "即将开始的预约",
    upcoming_none: "近期没有预约。",
    all_bookings: "全部预约",
    to_confirm: "待您确认并评价的使用记录",
    open_needs: "我发布的、仍在征集报价的需求",
    offers_received: "收到的报价",
    orders_open: "进行中的委托检测订单",
    to_approve: "待审批的预约申请",
    to_approve_none: "没有待审批的预约。",
    manage_queue: "去审批",
    orders_to_act: "本单位进行中的委托检测订单",
    own_instruments: "本单位仪器",
    awaiting_review: "待省级审核",
    accounts_pending: "待审核的注册账户",
    review_queue: "待审核的仪器记录",
    help_open: "等待受理的咨询",
};
