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
