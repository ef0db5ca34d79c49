//! The province's published evaluation results (R14–R16): one row per institution and per
//! instrument, as the public results page, its CSV and JSON downloads and the API give them.

/// One published row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultRow {
    pub institution: String,
    pub institution_name: String,
    /// Empty on an institution's own row.
    pub instrument: String,
    pub instrument_name: String,
    pub effective_hours: f64,
    pub external_hours: f64,
    /// 0–1, `None` without data.
    pub sharing_rate: Option<f64>,
    pub utilisation: Option<f64>,
    pub revenue_internal_yuan: f64,
    pub revenue_external_yuan: f64,
    pub users_served: usize,
    pub institutions_served: usize,
    pub average_rating: Option<f64>,
    pub monitoring_uptime: Option<f64>,
    pub publications: u32,
    /// Mean hours from a booking request to the owner's decision.
    pub response_hours: Option<f64>,
    /// Share of answered requests the owner refused, 0–1.
    pub rejection_rate: Option<f64>,
    /// Share of instruments due to be reported that were reported on time, 0–1.
    pub reporting_on_time: Option<f64>,
    /// Out of 100.
    pub score: f64,
    /// 优秀 / 良好 / 合格 / 较差.
    pub grade: String,
    /// How many receipts in the province's log the figures come from: those the user's
    /// home confirmed.
    pub receipts: u32,
    /// Receipts in the period that count for nothing: signed by the owner alone, and
    /// disputed by the user's home.
    pub unconfirmed_receipts: u32,
    pub disputed_receipts: u32,
}

impl ResultRow {
    /// The columns of the results' CSV download, in Chinese for spreadsheets.
    pub const CSV_HEADERS: [&'static str; 23] = [
        "单位代码",
        "单位名称",
        "仪器编号",
        "仪器名称",
        "有效机时(小时)",
        "对外服务机时(小时)",
        "共享率",
        "使用率",
        "校内收入(元)",
        "对外收入(元)",
        "服务用户数",
        "服务单位数",
        "平均评分",
        "监控在线率",
        "成果数",
        "平均响应时间(小时)",
        "拒绝率",
        "按时上报率",
        "综合得分",
        "评价等级",
        "使用记录数",
        "未确认记录数",
        "有异议记录数",
    ];

    /// The row's cells under [`ResultRow::CSV_HEADERS`], as written (an empty cell for a
    /// figure without data; money to the fen). Text cells are as given: a writer must
    /// still keep them from running as spreadsheet formulas.
    pub fn csv_cells(&self) -> [String; 23] {
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        [
            self.institution.clone(),
            self.institution_name.clone(),
            self.instrument.clone(),
            self.instrument_name.clone(),
            self.effective_hours.to_string(),
            self.external_hours.to_string(),
            opt(self.sharing_rate),
            opt(self.utilisation),
            format!("{:.2}", self.revenue_internal_yuan),
            format!("{:.2}", self.revenue_external_yuan),
            self.users_served.to_string(),
            self.institutions_served.to_string(),
            opt(self.average_rating),
            opt(self.monitoring_uptime),
            self.publications.to_string(),
            opt(self.response_hours),
            opt(self.rejection_rate),
            opt(self.reporting_on_time),
            self.score.to_string(),
            self.grade.clone(),
            self.receipts.to_string(),
            self.unconfirmed_receipts.to_string(),
            self.disputed_receipts.to_string(),
        ]
    }
}
