//! UI strings of publications (R13): the papers, patents and reports a user registers as
//! having used alliance instruments, with their acknowledgement — one struct per language
//! (`zh.rs`, `en.rs`).

mod en;
mod zh;

pub(crate) use en::EN;
pub(crate) use zh::ZH;

/// Strings of the publications page.
#[derive(Debug)]
pub(crate) struct PublicationStrings {
    pub nav_publications: &'static str,
    /// The link from the receipts page.
    pub to_publications: &'static str,

    // My publications.
    pub my_title: &'static str,
    pub my_intro: &'static str,
    pub my_empty: &'static str,
    pub list_title: &'static str,
    pub to_form: &'static str,
    pub kind_paper: &'static str,
    pub kind_patent: &'static str,
    pub kind_report: &'static str,
    pub doi: &'static str,
    pub patent_number: &'static str,
    pub report_number: &'static str,
    pub authors: &'static str,
    pub instruments: &'static str,
    pub published_on: &'static str,
    pub acknowledgement: &'static str,
    pub registered_at: &'static str,
    pub province: &'static str,
    pub delivered: &'static str,
    pub not_delivered: &'static str,
    pub not_delivered_hint: &'static str,

    // The form.
    pub form_title: &'static str,
    pub f_kind: &'static str,
    pub f_title: &'static str,
    pub title_hint: &'static str,
    pub f_authors: &'static str,
    pub authors_hint: &'static str,
    pub f_identifier: &'static str,
    pub identifier_hint: &'static str,
    pub f_acknowledgement: &'static str,
    pub acknowledgement_hint: &'static str,
    pub f_instruments: &'static str,
    /// Before the number of an instrument input: `第 2 台仪器`, `Instrument 2`.
    pub instrument_n: &'static str,
    pub instruments_hint: &'static str,
    pub add_instrument: &'static str,
    pub f_published_on: &'static str,
    pub published_on_hint: &'static str,
    pub submit: &'static str,
    pub registered_notice: &'static str,

    // Problems.
    pub err_title: &'static str,
    pub err_authors: &'static str,
    pub err_doi: &'static str,
    pub err_number: &'static str,
    pub err_acknowledgement: &'static str,
    pub err_instruments_none: &'static str,
    pub err_instruments_many: &'static str,
    /// After the instrument as typed.
    pub err_instrument_form: &'static str,
    /// After the instrument as typed.
    pub err_instrument_unknown: &'static str,
    pub err_future: &'static str,
}

impl PublicationStrings {
    /// The name of a kind (`paper`, `patent`, `report`); the value itself if unknown.
    pub(crate) fn kind<'a>(&self, kind: &'a str) -> &'a str {
        match kind {
            "paper" => self.kind_paper,
            "patent" => self.kind_patent,
            "report" => self.kind_report,
            other => other,
        }
    }

    /// What a kind's identifier is called: DOI, patent number, report number.
    pub(crate) fn identifier_name(&self, kind: &str) -> &'static str {
        match kind {
            "paper" => self.doi,
            "patent" => self.patent_number,
            "report" => self.report_number,
            _ => self.f_identifier,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_names_in_both_languages() {
        assert_eq!(ZH.kind("paper"), "论文");
        assert_eq!(ZH.kind("patent"), "专利");
        assert_eq!(ZH.kind("report"), "报告");
        assert_eq!(EN.kind("report"), "Report");
        assert_eq!(EN.kind("book"), "book");
        assert_eq!(EN.identifier_name("paper"), "DOI");
    }
}
