//! The province's published evaluation results (R14–R16): one row per institution and per
//! instrument, as the public results page, its CSV and JSON downloads and the API give them.

/// One published row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
    /// Out of 100.
    pub score: f64,
    /// 优秀 / 良好 / 合格 / 较差.
    pub grade: String,
    /// How many receipts in the province's log the figures come from.
    pub receipts: usize,
}

impl ResultRow {
    /// The columns of the results' CSV download, in Chinese for spreadsheets.
    pub const CSV_HEADERS: [&'static str; 18] = [
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
        "综合得分",
        "评价等级",
        "使用记录数",
    ];

    /// The row's cells under [`ResultRow::CSV_HEADERS`], as written (an empty cell for a
    /// figure without data; money to the fen). Text cells are as given: a writer must
    /// still keep them from running as spreadsheet formulas.
    pub fn csv_cells(&self) -> [String; 18] {
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
            self.score.to_string(),
            self.grade.clone(),
            self.receipts.to_string(),
        ]
    }
}
