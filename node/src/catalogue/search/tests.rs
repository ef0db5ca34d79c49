#![allow(clippy::unwrap_used)]

use super::*;

fn record(
    inst: &str,
    local: &str,
    zh: &str,
    en: &str,
    city: &str,
    value_wan: i64,
) -> InstrumentRecord {
    let mut r = InstrumentRecord::new(inst.parse().unwrap(), local.into(), zh.into());
    r.name_en = en.into();
    r.location.city = city.into();
    r.original_value_fen = value_wan * 1_000_000;
    r.service_modes = vec![ServiceMode::StaffRun];
    r
}

fn extras(code: &str) -> IndexExtras {
    IndexExtras {
        categories: vec![code.to_owned(), code[..2].to_owned()],
        ..IndexExtras::default()
    }
}

fn index() -> SearchIndex {
    let index = SearchIndex::new().unwrap();
    let mut lcms = record(
        "dlut",
        "LCMS",
        "液相色谱-质谱联用仪",
        "Liquid chromatograph-mass spectrometer",
        "大连市",
        368,
    );
    lcms.service_modes = vec![ServiceMode::StaffRun, ServiceMode::SelfOperated];
    index.upsert(&lcms, &extras("0102")).unwrap();
    let icp = record(
        "neu",
        "ICPMS",
        "电感耦合等离子体质谱仪",
        "Inductively coupled plasma mass spectrometer",
        "沈阳市",
        260,
    );
    index.upsert(&icp, &extras("0102")).unwrap();
    let tem = record(
        "imr",
        "TEM",
        "场发射透射电子显微镜",
        "Field emission transmission electron microscope",
        "沈阳市",
        1_180,
    );
    index.upsert(&tem, &extras("0101")).unwrap();
    let internal = record(
        "imr",
        "XRD",
        "X射线衍射仪",
        "X-ray diffractometer",
        "沈阳市",
        85,
    );
    let restricted = IndexExtras {
        visible_only_to: Some("imr".parse().unwrap()),
        ..extras("0103")
    };
    index.upsert(&internal, &restricted).unwrap();
    let mut alliance = record(
        "dlut",
        "NMR",
        "核磁共振波谱仪",
        "Nuclear magnetic resonance spectrometer",
        "大连市",
        640,
    );
    alliance.sharing_scope = alliance_protocol::SharingScope::AllianceOnly;
    index.upsert(&alliance, &extras("0106")).unwrap();
    index.commit().unwrap();
    index
}

fn ids(index: &SearchIndex, q: IndexQuery) -> Vec<String> {
    let (total, mut ids) = index.search(&q, 0, 100, None).unwrap();
    assert_eq!(total, ids.len());
    ids.sort();
    ids
}

fn text(t: &str) -> IndexQuery {
    IndexQuery {
        text: t.into(),
        ..IndexQuery::default()
    }
}

#[test]
fn chinese_substrings_find_records_without_spaces() {
    let index = index();
    assert_eq!(ids(&index, text("质谱")), ["dlut/LCMS", "neu/ICPMS"]);
    assert_eq!(ids(&index, text("色谱")), ["dlut/LCMS"]);
    assert_eq!(ids(&index, text("联用")), ["dlut/LCMS"]);
    assert_eq!(ids(&index, text("电子显微")), ["imr/TEM"]);
    assert!(
        ids(&index, text("谱质")).is_empty(),
        "order matters inside a word"
    );
}

#[test]
fn english_words_match_in_any_case_and_number() {
    let index = index();
    assert_eq!(
        ids(&index, text("Mass Spectrometers")),
        ["dlut/LCMS", "neu/ICPMS"]
    );
    assert_eq!(ids(&index, text("microscope")), ["imr/TEM"]);
    assert_eq!(ids(&index, text("plasma mass")), ["neu/ICPMS"]);
}

#[test]
fn a_name_match_ranks_above_a_description_match() {
    let index = SearchIndex::new().unwrap();
    let mut named = record("dlut", "A", "X射线光电子能谱仪", "", "大连市", 500);
    named.main_functions = "表面分析".into();
    let mut described = record("dlut", "B", "扫描电子显微镜", "", "大连市", 300);
    described.main_functions = "配备能谱仪，可做成分分析".into();
    index.upsert(&described, &extras("0101")).unwrap();
    index.upsert(&named, &extras("0104")).unwrap();
    index.commit().unwrap();
    let (_, hits) = index.search(&text("能谱仪"), 0, 10, None).unwrap();
    assert_eq!(hits, ["dlut/A", "dlut/B"]);
}

#[test]
fn each_filter_narrows_the_results() {
    let index = index();
    let all = |q: IndexQuery| ids(&index, q);
    let base = IndexQuery::default;
    assert_eq!(
        all(base()).len(),
        4,
        "internal records are hidden from other nodes"
    );
    assert_eq!(
        all(IndexQuery {
            category: Some("0102".into()),
            ..base()
        }),
        ["dlut/LCMS", "neu/ICPMS"]
    );
    assert_eq!(
        all(IndexQuery {
            category: Some("01".into()),
            ..base()
        })
        .len(),
        4
    );
    assert_eq!(
        all(IndexQuery {
            institution: Some("imr".parse().unwrap()),
            ..base()
        }),
        ["imr/TEM"]
    );
    assert_eq!(
        all(IndexQuery {
            city: Some("大连市".into()),
            ..base()
        }),
        ["dlut/LCMS", "dlut/NMR"]
    );
    assert_eq!(
        all(IndexQuery {
            min_value_fen: Some(300 * 1_000_000),
            max_value_fen: Some(700 * 1_000_000),
            ..base()
        }),
        ["dlut/LCMS", "dlut/NMR"]
    );
    assert_eq!(
        all(IndexQuery {
            mode: Some(ServiceMode::SelfOperated),
            ..base()
        }),
        ["dlut/LCMS"]
    );
    assert_eq!(
        all(IndexQuery {
            tier: Some(UserTier::Enterprise),
            ..base()
        }),
        ["dlut/LCMS", "imr/TEM", "neu/ICPMS"]
    );
    assert_eq!(
        all(IndexQuery {
            viewer: Some("imr".parse().unwrap()),
            institution: Some("imr".parse().unwrap()),
            ..base()
        }),
        ["imr/TEM", "imr/XRD"]
    );
    assert_eq!(
        all(IndexQuery {
            hidden: vec!["dlut".parse().unwrap()],
            ..base()
        }),
        ["imr/TEM", "neu/ICPMS"]
    );
}

#[test]
fn pages_cover_every_match_once_and_keep_filters_count() {
    let index = SearchIndex::new().unwrap();
    for i in 0..25 {
        let r = record(
            "dlut",
            &format!("M{i:02}"),
            "质谱仪",
            "mass spectrometer",
            "大连市",
            100,
        );
        index.upsert(&r, &extras("0102")).unwrap();
    }
    index.commit().unwrap();
    let mut seen = Vec::new();
    for page in 0..3 {
        let (total, hits) = index.search(&text("质谱"), page * 10, 10, None).unwrap();
        assert_eq!(total, 25);
        seen.extend(hits);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25);

    let even = |id: &str| id.ends_with(['0', '2', '4', '6', '8']);
    let (total, hits) = index.search(&text("质谱"), 10, 10, Some(&even)).unwrap();
    assert_eq!(total, 13);
    assert_eq!(hits.len(), 3);
}

#[test]
fn an_offset_past_every_document_returns_the_count_and_no_hits() {
    let index = index();
    let all = ids(&index, IndexQuery::default()).len();
    // Far past the end: the collector must not be sized by the offset (it overflowed, or
    // asked for terabytes, before).
    for offset in [all, 1_000_000_000_000, usize::MAX / 4, usize::MAX] {
        let (total, hits) = index
            .search(&IndexQuery::default(), offset, 100, None)
            .unwrap();
        assert_eq!((total, hits.len()), (all, 0), "offset {offset}");
    }
    let (total, hits) = index
        .search(&IndexQuery::default(), all - 1, 100, None)
        .unwrap();
    assert_eq!((total, hits.len()), (all, 1));
}

#[test]
fn replacing_and_deleting_update_the_index() {
    let index = index();
    let mut renamed = record(
        "neu",
        "ICPMS",
        "原子吸收光谱仪",
        "Atomic absorption spectrometer",
        "沈阳市",
        60,
    );
    renamed.revision = 2;
    index.upsert(&renamed, &extras("0104")).unwrap();
    index.commit().unwrap();
    assert!(
        ids(&index, text("等离子体")).is_empty(),
        "the old name is gone"
    );
    assert_eq!(ids(&index, text("原子吸收")), ["neu/ICPMS"]);
    index
        .upsert(&renamed.tombstone(3), &IndexExtras::default())
        .unwrap();
    index.commit().unwrap();
    assert!(ids(&index, text("原子吸收")).is_empty());
    assert_eq!(index.len(), 4);
}

#[test]
fn short_names_and_abbreviations_find_instruments_named_in_full() {
    let index = SearchIndex::new().unwrap();
    let named = [
        (
            "SEM",
            "场发射扫描电子显微镜",
            "Field emission scanning electron microscope",
        ),
        (
            "TEM",
            "双球差校正透射电子显微镜",
            "Aberration-corrected transmission electron microscope",
        ),
        (
            "LCMS",
            "超高效液相色谱-三重四极杆质谱联用仪",
            "UPLC–triple quadrupole mass spectrometer",
        ),
        (
            "GCMS",
            "气相色谱-质谱联用仪",
            "Gas chromatograph–mass spectrometer",
        ),
        (
            "ICPMS",
            "电感耦合等离子体质谱仪",
            "Inductively coupled plasma mass spectrometer",
        ),
        (
            "NMR",
            "600 MHz 超导核磁共振波谱仪",
            "600 MHz superconducting NMR spectrometer",
        ),
        (
            "SEMI",
            "半导体参数分析仪",
            "Semiconductor parameter analyser",
        ),
    ];
    for (id, zh, en) in named {
        index
            .upsert(&record("dlut", id, zh, en, "大连市", 100), &extras("0101"))
            .unwrap();
    }
    index.commit().unwrap();
    let found = |q: &str| ids(&index, text(q));
    assert_eq!(found("电镜"), ["dlut/SEM", "dlut/TEM"]);
    assert_eq!(found("扫描电镜"), ["dlut/SEM"]);
    assert_eq!(found("透射电镜"), ["dlut/TEM"]);
    assert_eq!(found("SEM"), ["dlut/SEM"], "not the semiconductor analyser");
    assert_eq!(found("tem"), ["dlut/TEM"]);
    assert_eq!(found("液质"), ["dlut/LCMS"]);
    assert_eq!(found("气质联用"), ["dlut/GCMS"]);
    assert_eq!(found("LC-MS"), ["dlut/LCMS"]);
    assert_eq!(found("mass spec"), ["dlut/GCMS", "dlut/ICPMS", "dlut/LCMS"]);
    assert_eq!(found("NMR"), ["dlut/NMR"]);
    assert_eq!(found("核磁"), ["dlut/NMR"]);
    // The rest of the query still narrows: a field-emission electron microscope.
    assert_eq!(found("场发射 电镜"), ["dlut/SEM"]);
}

#[test]
fn every_term_of_the_synonyms_file_finds_its_groups_instrument() {
    let synonyms = Synonyms::builtin();
    let index = SearchIndex::new().unwrap();
    let terms: Vec<(String, String)> = synonyms
        .terms()
        .map(|(term, alternatives)| {
            // The instrument named by the group's longest Chinese name, as records are.
            let name = alternatives
                .iter()
                .filter(|a| !a.is_ascii())
                .max_by_key(|a| a.chars().count())
                .unwrap_or(&alternatives[0])
                .clone();
            (term.to_owned(), name)
        })
        .collect();
    assert!(terms.len() > 40, "{}", terms.len());
    for (n, (_, name)) in terms.iter().enumerate() {
        index
            .upsert(
                &record("dlut", &format!("t{n}"), name, "", "大连市", 100),
                &extras("0101"),
            )
            .unwrap();
    }
    index.commit().unwrap();
    for (n, (term, name)) in terms.iter().enumerate() {
        assert!(
            ids(&index, text(term)).contains(&format!("dlut/t{n}")),
            "{term:?} does not find {name:?}"
        );
    }
}

#[test]
fn retired_instruments_are_hidden_unless_asked_for() {
    let index = index();
    let mut retired = record("neu", "OLD-SEM", "扫描电子显微镜", "SEM", "沈阳市", 90);
    retired.status = alliance_protocol::InstrumentStatus::Retired;
    index.upsert(&retired, &extras("0101")).unwrap();
    index.commit().unwrap();
    assert!(ids(&index, text("扫描电镜")).is_empty());
    let with_retired = IndexQuery {
        include_retired: true,
        ..text("扫描电镜")
    };
    assert_eq!(ids(&index, with_retired), ["neu/OLD-SEM"]);
}
