//! The catalogue side of [`Backend`](super::Backend): search, instrument pages, the
//! institution's own records, import and export, and the province's review.

use std::future::Future;

use alliance_protocol::{
    BookingWindow, HourState, InstrumentRecord, ReviewAttestation, ReviewVerdict, ServiceMode,
    UserTier,
};
use serde::Serialize;

/// A parsed search: what `GET /api/v1/instruments` and the search page ask.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchParams {
    pub q: String,
    pub category: Option<String>,
    pub institution: Option<String>,
    pub city: Option<String>,
    /// Original value bounds in fen, inclusive.
    pub min_value_fen: Option<i64>,
    pub max_value_fen: Option<i64>,
    pub mode: Option<ServiceMode>,
    pub tier: Option<UserTier>,
    /// A free hour on some day in this range (`YYYY-MM-DD`, inclusive).
    pub free_between: Option<(String, String)>,
    /// Also instruments retired for good (报废), which are hidden unless asked for.
    pub include_retired: bool,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
}

/// Where a record stands with the province.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// In scope by rule and not reviewed yet.
    Unreviewed,
    /// Below 300,000 RMB and not approved yet: only its institution sees it.
    AwaitingApproval,
    Approved,
    NeedsCorrection,
}

/// An instrument in a result list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InstrumentSummary {
    /// `institution/local_id`.
    pub id: String,
    pub institution_id: String,
    pub institution_name_zh: String,
    pub institution_name_en: String,
    pub local_id: String,
    pub revision: u64,
    pub name_zh: String,
    pub name_en: String,
    pub model: String,
    pub manufacturer: String,
    /// The classification code.
    pub category: String,
    pub category_name_zh: String,
    pub category_name_en: String,
    pub city: String,
    pub original_value_fen: i64,
    pub service_modes: Vec<ServiceMode>,
    pub status: alliance_protocol::InstrumentStatus,
    pub sharing_scope: alliance_protocol::SharingScope,
    pub review_state: ReviewState,
    /// The cheapest service for an alliance member, and its unit (`None`: no fees).
    pub price_from: Option<PriceFrom>,
    /// The first day a request could still take a free hour (`YYYY-MM-DD`, Shanghai).
    pub next_free_day: Option<String>,
    /// The SHA-256 (hex) of its first photo's thumbnail, for result cards.
    pub thumbnail: Option<String>,
}

/// The lowest price of an instrument's services for one user category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PriceFrom {
    pub tier: UserTier,
    pub fen: i64,
    pub unit: alliance_protocol::FeeUnit,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InstrumentPage {
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub items: Vec<InstrumentSummary>,
}

/// One day of an availability digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AvailabilityDay {
    /// `YYYY-MM-DD`, Asia/Shanghai.
    pub date: String,
    /// 24 hour states from 00:00.
    pub hours: Vec<HourState>,
    /// A holiday the instrument keeps closed (a public holiday or the owner's own).
    pub holiday: bool,
}

/// Everything about one instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InstrumentDetail {
    #[serde(flatten)]
    pub summary: InstrumentSummary,
    /// The signed record as published.
    #[schema(value_type = Object)]
    pub record: InstrumentRecord,
    /// The province's latest review, if any.
    #[schema(value_type = Option<Object>)]
    pub review: Option<ReviewAttestation>,
    /// The owner's free/busy digest, day by day.
    pub availability: Vec<AvailabilityDay>,
    /// What a booking may be, as the owner publishes it with the digest.
    pub window: Option<BookingWindow>,
}

/// A category for filters and grouping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CategoryOption {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// 1 for top-level categories, 2 for subcategories.
    pub level: u8,
}

/// A member institution, for filters and the overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InstitutionOption {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub region: String,
}

/// Values the search filters offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Facets {
    pub categories: Vec<CategoryOption>,
    pub institutions: Vec<InstitutionOption>,
    pub cities: Vec<String>,
}

/// A count under a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Tally {
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    pub instruments: usize,
    pub value_fen: i64,
}

/// The alliance at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub instruments: usize,
    pub value_fen: i64,
    pub by_institution: Vec<Tally>,
    /// By top-level category.
    pub by_category: Vec<Tally>,
    pub by_city: Vec<Tally>,
}

/// One row of an import preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportRow {
    /// The spreadsheet row number (the header is row 1).
    pub row: usize,
    pub local_id: String,
    pub name_zh: String,
    /// Empty for a good row.
    pub errors: Vec<ImportCellError>,
    /// For a good row: `new`, `changed` or `unchanged`.
    pub change: String,
}

/// A problem in one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportCellError {
    pub column: String,
    pub message: String,
}

/// The result of checking (and, unless a dry run, importing) a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub dry_run: bool,
    pub rows: Vec<ImportRow>,
    pub good: usize,
    pub bad: usize,
    /// Records written (new or changed); 0 on a dry run.
    pub imported: usize,
}

/// One import of a spreadsheet, as the history lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportRecordView {
    /// Unix seconds.
    pub at: i64,
    /// Who imported it.
    pub by: String,
    pub file_name: String,
    pub good: usize,
    pub bad: usize,
    /// Records written (new or changed).
    pub imported: usize,
}

/// A page of the import history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportHistoryPage {
    pub total: usize,
    pub offset: usize,
    pub items: Vec<ImportRecordView>,
}

/// A file to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Spreadsheet formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    Xlsx,
    Csv,
}

/// Why a catalogue operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueFailure {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The whole file was refused (not a spreadsheet, wrong layout…).
    #[error("{0}")]
    BadFile(String),
    #[error("no such instrument")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    /// What was asked is held elsewhere and no member could give it now.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

/// The catalogue operations the web layer asks of the node. Callers check roles; the
/// node checks that an institution only writes its own records.
pub trait CatalogueBackend: Clone + Send + Sync + 'static {
    /// Searches the catalogue as this node shows it.
    fn search_instruments(
        &self,
        params: SearchParams,
    ) -> impl Future<Output = Result<InstrumentPage, CatalogueFailure>> + Send;
    /// One instrument, if it exists and is visible here.
    fn instrument(&self, id: &str) -> impl Future<Output = Option<InstrumentDetail>> + Send;
    /// The values the search filters offer.
    fn facets(&self) -> impl Future<Output = Facets> + Send;
    /// Institutions, categories and cities with their counts and values.
    fn overview(&self) -> impl Future<Output = Overview> + Send;
    /// This institution's records, including those others cannot see yet.
    fn own_instruments(&self) -> impl Future<Output = Vec<InstrumentDetail>> + Send;
    /// One of this institution's records, visible or not.
    fn own_instrument(
        &self,
        local_id: &str,
    ) -> impl Future<Output = Option<InstrumentDetail>> + Send;
    /// Signs and publishes a new version of one of this institution's records.
    fn save_instrument(
        &self,
        record: InstrumentRecord,
    ) -> impl Future<Output = Result<InstrumentRecord, CatalogueFailure>> + Send;
    /// Adds a photo (JPEG or PNG, as uploaded) to one of this institution's records:
    /// resized, and named in a new signed version of the record.
    fn add_instrument_photo(
        &self,
        local_id: &str,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<(), CatalogueFailure>> + Send;
    /// Takes photo `sha256` (hex) off one of this institution's records.
    fn remove_instrument_photo(
        &self,
        local_id: &str,
        sha256: &str,
    ) -> impl Future<Output = Result<(), CatalogueFailure>> + Send;
    /// The JPEG bytes of a photo or thumbnail (`sha256`, hex) of instrument `id`, if the
    /// instrument is visible here and its record names it.
    fn instrument_photo(
        &self,
        id: &str,
        sha256: &str,
    ) -> impl Future<Output = Result<Vec<u8>, CatalogueFailure>> + Send;
    /// Deletes one of this institution's records.
    fn delete_instrument(
        &self,
        local_id: &str,
    ) -> impl Future<Output = Result<(), CatalogueFailure>> + Send;
    /// Checks a spreadsheet and, unless `dry_run`, imports its good rows (and keeps the
    /// import, by `by`, in the history).
    fn import_instruments(
        &self,
        by: &str,
        file_name: &str,
        bytes: Vec<u8>,
        dry_run: bool,
    ) -> impl Future<Output = Result<ImportSummary, CatalogueFailure>> + Send;
    /// `limit` imports of the history after the newest `offset`, and how many there are.
    fn import_history(
        &self,
        offset: usize,
        limit: usize,
    ) -> impl Future<Output = Result<ImportHistoryPage, CatalogueFailure>> + Send;
    /// This institution's catalogue in the import template's layout.
    fn export_instruments(
        &self,
        format: SheetFormat,
    ) -> impl Future<Output = Result<Download, CatalogueFailure>> + Send;
    /// The empty import template.
    fn import_template(
        &self,
        format: SheetFormat,
    ) -> impl Future<Output = Result<Download, CatalogueFailure>> + Send;
    /// Records waiting for the province's review (province node).
    fn review_queue(&self) -> impl Future<Output = Vec<InstrumentDetail>> + Send;
    /// A record as the province last approved it, as JSON (province node; `None` when
    /// never approved here, or approved before approved versions were kept).
    fn approved_record(&self, id: &str) -> impl Future<Output = Option<serde_json::Value>> + Send;
    /// The province's verdict on the current version of a record (province node).
    fn review_instrument(
        &self,
        id: &str,
        verdict: ReviewVerdict,
        comment: String,
        reviewer: String,
    ) -> impl Future<Output = Result<(), CatalogueFailure>> + Send;
}
