//! The Chinese words a sheet uses for statuses, sharing scopes, fee units and service
//! modes, both ways. The same tables feed the parser, the export and the 说明 sheet.

use alliance_protocol::record::{FeeUnit, InstrumentStatus, ServiceMode, SharingScope};

pub(super) const STATUSES: &[(InstrumentStatus, &str)] = &[
    (InstrumentStatus::InService, "在用"),
    (InstrumentStatus::UnderMaintenance, "维修"),
    (InstrumentStatus::Retired, "报废"),
];

pub(super) const SCOPES: &[(SharingScope, &str)] = &[
    (SharingScope::OpenToSociety, "对社会开放"),
    (SharingScope::AllianceOnly, "联盟内共享"),
    (SharingScope::Internal, "仅本单位"),
];

pub(super) const UNITS: &[(FeeUnit, &str)] = &[
    (FeeUnit::Hour, "小时"),
    (FeeUnit::Sample, "样品"),
    (FeeUnit::Session, "机次"),
];

pub(super) const SERVICE_MODES: &[(ServiceMode, &str)] = &[
    (ServiceMode::SelfOperated, "自主上机"),
    (ServiceMode::StaffRun, "送样检测"),
];

/// What may separate several service modes in one cell.
const SEPARATORS: [char; 5] = ['、', ',', '，', ';', '；'];

/// The value named `word` in `table`.
pub(super) fn parse<T: Copy>(table: &[(T, &str)], word: &str) -> Option<T> {
    table
        .iter()
        .find(|(_, w)| *w == word.trim())
        .map(|(v, _)| *v)
}

/// The word for `value` in `table`, or "" for a value the sheet has no word for.
pub(super) fn word<T: PartialEq>(table: &[(T, &'static str)], value: &T) -> &'static str {
    table
        .iter()
        .find(|(v, _)| v == value)
        .map_or("", |(_, w)| *w)
}

/// The allowed words of `table`, for messages: `在用、维修、报废`.
pub(super) fn allowed<T>(table: &[(T, &str)]) -> String {
    table.iter().map(|(_, w)| *w).collect::<Vec<_>>().join("、")
}

/// Service modes separated by 、 , ， ; or ；, each once, in the order written; or the
/// parts that are not service modes.
pub(super) fn parse_service_modes(text: &str) -> Result<Vec<ServiceMode>, Vec<String>> {
    let mut modes = Vec::new();
    let mut unknown = Vec::new();
    for part in text
        .split(SEPARATORS)
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match parse(SERVICE_MODES, part) {
            Some(mode) if modes.contains(&mode) => {}
            Some(mode) => modes.push(mode),
            None => unknown.push(part.to_owned()),
        }
    }
    if unknown.is_empty() {
        Ok(modes)
    } else {
        Err(unknown)
    }
}

/// Service modes as one cell: `自主上机、送样检测`.
pub(super) fn format_service_modes(modes: &[ServiceMode]) -> String {
    modes
        .iter()
        .map(|m| word(SERVICE_MODES, m))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("、")
}
