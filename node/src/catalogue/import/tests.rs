//! Specifications of catalogue import and export, on real CSV and XLSX bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use alliance_protocol::{
    ids::InstitutionId,
    keys::SecretKey,
    record::{
        Contact, FeeComponents, FeeItem, FeeUnit, InstrumentRecord, InstrumentStatus, Location,
        MAX_FEE_ITEMS, MAX_LONG_TEXT, ServiceMode, SharingScope,
    },
};
use calamine::{Reader, Xlsx};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::*;
use crate::catalogue::classification::Classification;

// ---------------------------------------------------------------- fixtures

fn institution() -> InstitutionId {
    "dlut".parse().unwrap()
}

fn classification() -> Classification {
    Classification::default_set().unwrap()
}

fn import_csv(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    parse_csv(bytes, &institution(), &classification())
}

fn import_xlsx(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    parse_xlsx(bytes, &institution(), &classification())
}

/// A CSV file from its lines.
fn csv(lines: &[&str]) -> Vec<u8> {
    lines.join("\n").into_bytes()
}

fn fee(i: usize) -> FeeItem {
    let units = [FeeUnit::Hour, FeeUnit::Sample, FeeUnit::Session];
    let fen = i as i64;
    FeeItem {
        item_zh: format!("测试项目{i}"),
        item_en: format!("Test {i}, \"quoted\""),
        unit: units[i % 3],
        own_institution: FeeComponents {
            materials_fen: 1,
            operating_fen: 99 + fen,
            labour_fen: 0,
        },
        alliance_member: FeeComponents {
            materials_fen: 12_345,
            operating_fen: 10,
            labour_fen: 1_000_000_000,
        },
        outside_academic: FeeComponents::default(),
        enterprise: FeeComponents {
            materials_fen: 30_000,
            operating_fen: 45_050,
            labour_fen: 7,
        },
    }
}

/// A record with every field set, awkward characters included.
fn full_record(local_id: &str, fees: usize) -> InstrumentRecord {
    let mut r = InstrumentRecord::new(
        institution(),
        local_id.to_owned(),
        "场发射扫描电子显微镜".to_owned(),
    );
    r.name_en = "Field emission SEM, \"Gemini\"".to_owned();
    r.model = "SU8010".to_owned();
    r.specification = "1.0 nm @ 15 kV".to_owned();
    r.original_value_fen = 99_999_999_999_999;
    r.country_of_origin = "日本".to_owned();
    r.manufacturer = "日立高新技术公司".to_owned();
    r.manufacture_date = "2016-02-29".to_owned();
    r.purchase_date = "2016-05-01".to_owned();
    r.acceptance_date = "2016-12-31".to_owned();
    r.networked_date = "2017-01-01".to_owned();
    r.asset_number = "007".to_owned();
    r.classification_code = "0101".to_owned();
    r.location = Location {
        city: "大连".to_owned(),
        campus: "凌水校区".to_owned(),
        building: "分析测试中心".to_owned(),
        room: "B215".to_owned(),
    };
    r.main_specifications = "分辨率：1.0 nm\n放大倍数：20–800,000×".to_owned();
    r.main_functions = "形貌观察；能谱分析".to_owned();
    r.accessories = "能谱仪（EDS）".to_owned();
    r.contact = Contact {
        person_in_charge: "张明".to_owned(),
        contact_name: "李华".to_owned(),
        phone: "+86 411 8470 8888".to_owned(),
        email: "li.hua@example.edu.cn".to_owned(),
    };
    r.opening_hours = "周一至周五 8:30–17:00\n周末预约".to_owned();
    r.service_modes = vec![ServiceMode::StaffRun, ServiceMode::SelfOperated];
    r.required_training = "须通过上机培训".to_owned();
    r.certification = "CMA, CNAS".to_owned();
    r.status = InstrumentStatus::UnderMaintenance;
    r.sharing_scope = SharingScope::AllianceOnly;
    r.fees = (0..fees).map(fee).collect();
    r
}

/// A record with only what is required.
fn minimal_record(local_id: &str) -> InstrumentRecord {
    let mut r = InstrumentRecord::new(institution(), local_id.to_owned(), "离心机".to_owned());
    r.classification_code = "01".to_owned();
    r
}

fn good_records(report: &ImportReport) -> Vec<InstrumentRecord> {
    report.good().cloned().collect()
}

fn good_rows(report: &ImportReport) -> Vec<usize> {
    report
        .rows
        .iter()
        .filter(|o| matches!(o, RowOutcome::Good { .. }))
        .map(RowOutcome::row)
        .collect()
}

/// The errors of the bad row numbered `row`.
fn errors_of(report: &ImportReport, row: usize) -> Vec<CellError> {
    report
        .rows
        .iter()
        .find_map(|o| match o {
            RowOutcome::Bad { row: r, errors, .. } if *r == row => Some(errors.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("row {row} is not a bad row: {report:#?}"))
}

/// The columns of the bad row's errors.
fn error_columns(report: &ImportReport, row: usize) -> Vec<String> {
    errors_of(report, row)
        .into_iter()
        .map(|e| e.column)
        .collect()
}

/// A cell for [`xlsx`].
enum X {
    S(&'static str),
    N(f64),
    Date(u16, u8, u8),
}

/// An XLSX workbook with the given sheets, written by rust_xlsxwriter.
fn xlsx(sheets: &[(&str, Vec<Vec<X>>)]) -> Vec<u8> {
    let mut book = Workbook::new();
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    for (name, rows) in sheets {
        let sheet = book.add_worksheet().set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    X::S("") => {}
                    X::S(s) => {
                        sheet.write_string(r, c, *s).unwrap();
                    }
                    X::N(n) => {
                        sheet.write_number(r, c, *n).unwrap();
                    }
                    X::Date(y, m, d) => {
                        let date = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        sheet
                            .write_datetime_with_format(r, c, &date, &date_format)
                            .unwrap();
                    }
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn headers(names: &[&'static str]) -> Vec<X> {
    names.iter().map(|n| X::S(n)).collect()
}

// ---------------------------------------------------------------- round trips

#[test]
fn an_xlsx_export_imports_back_to_the_same_records_including_extra_fee_items() {
    let records = vec![
        full_record("SEM-01", 3),
        minimal_record("007-A"),
        full_record("x.y_z", 1),
        full_record("NO-FEES", 0),
    ];
    let bytes = export_xlsx(&records).unwrap();
    let report = import_xlsx(&bytes).unwrap();
    assert_eq!(report.bad_rows(), Vec::<usize>::new(), "{report:#?}");
    assert_eq!(good_rows(&report), vec![2, 3, 4, 5]);
    assert_eq!(good_records(&report), records);
}

#[test]
fn a_csv_export_imports_back_to_the_same_records() {
    let records = vec![
        full_record("SEM-01", 1),
        minimal_record("007-A"),
        full_record("NO-FEES", 0),
    ];
    let report = import_csv(&export_csv(&records)).unwrap();
    assert_eq!(report.bad_rows(), Vec::<usize>::new(), "{report:#?}");
    assert_eq!(good_records(&report), records);
}

#[test]
fn formula_like_text_is_exported_inert_and_imports_back_unchanged() {
    let mut record = full_record("SEM-01", 1);
    record.contact.phone = "+86 411 8470 6213".into();
    record.accessories = "=HYPERLINK(\"http://evil.example\",\"点击\")".into();
    record.main_functions = "-20 ℃ 低温样品台".into();
    let csv = export_csv(std::slice::from_ref(&record));
    let text = String::from_utf8_lossy(&csv);
    assert!(text.contains("'+86 411"), "{text}");
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(!text.contains(",=HYPERLINK") && !text.contains("\"=HYPERLINK"));
    let report = import_csv(&csv).unwrap();
    assert_eq!(good_records(&report), vec![record]);
}

#[test]
fn a_csv_export_has_room_for_the_first_fee_item_only() {
    let report = import_csv(&export_csv(&[full_record("SEM-01", 3)])).unwrap();
    let back = good_records(&report);
    assert_eq!(back[0].fees, vec![fee(0)]);
}

#[test]
fn imported_records_are_records_the_protocol_accepts() {
    let key = SecretKey::from_seed(&[7; 32]).unwrap();
    let records = vec![full_record("SEM-01", 3), minimal_record("M-1")];
    let report = import_xlsx(&export_xlsx(&records).unwrap()).unwrap();
    for record in report.good() {
        assert_eq!(record.revision, 0);
        let opened = InstrumentRecord::open(&record.seal(&key), &key.public()).unwrap();
        assert_eq!(&opened, record);
    }
}

// ---------------------------------------------------------------- templates

#[test]
fn the_xlsx_template_holds_one_good_example_and_explains_every_column_and_code() {
    let bytes = template_xlsx().unwrap();
    let report = import_xlsx(&bytes).unwrap();
    assert_eq!(report.rows.len(), 1, "{report:#?}");
    let example = report.good().next().unwrap();
    assert_eq!(example.fees.len(), 2, "the second fee item is in 收费标准");

    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), vec![MAIN_SHEET, FEE_SHEET, HELP_SHEET]);
    let help = book.worksheet_range(HELP_SHEET).unwrap();
    let text: Vec<String> = help.cells().map(|(_, _, c)| c.to_string()).collect();
    for expected in [
        "仪器编号",
        "企业-人工费",
        "在用、维修 或 报废",
        "0102",
        "质谱仪器",
        "14",
    ] {
        assert!(
            text.iter().any(|t| t.contains(expected)),
            "说明 lacks {expected}"
        );
    }
}

#[test]
fn the_csv_template_starts_with_a_bom_and_holds_one_good_example() {
    let bytes = template_csv();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let report = import_csv(&bytes).unwrap();
    assert_eq!(report.rows.len(), 1);
    assert_eq!(good_rows(&report), vec![2]);
}

// ---------------------------------------------------------------- row errors

#[test]
fn a_csv_reports_each_bad_row_with_its_row_number_and_column_and_keeps_the_good_ones() {
    let file = csv(&[
        "仪器编号,中文名称,原值（元）,出厂日期,分类代码,电子邮箱,服务方式,状态,共享范围,收费项目,计费单位,本单位-材料费",
        "A-1,透射电镜,2500000,2015-03-01,0101,a@example.edu.cn,自主上机,在用,对社会开放,,,",
        "A-2,,100,,0101,,,在用,对社会开放,,,",
        "A-3,X射线衍射仪,100,2023-02-30,0103,,,在用,对社会开放,,,",
        "A-4,未知仪器,100,,9999,,,在用,对社会开放,,,",
        "A-5,液相色谱仪,\"1,234.50\",,0105,,送样检测,维修,联盟内共享,样品分析,样品,12.3",
        "A-6,气相色谱仪,-5,,0105,,,在用,对社会开放,,,",
        "A-7,核磁共振波谱仪,100,,0106,,,使用中,对社会开放,,,",
        "A-8,电化学工作站,100,,0107,not-an-email,,在用,对社会开放,,,",
        "A-9,热重分析仪,100,,0109,,,在用,对社会开放,测试,小时,12.345",
        "A-1,另一台透射电镜,100,,0101,,,在用,对社会开放,,,",
        "A-10,激光粒度仪,100,,01,,上门服务,在用,对社会开放,,,",
        "A-11,紫外分光光度计,100,,0104,,,在用,对社会开放,,,50",
        "A-12,体视显微镜,0,2023/2/28,0108,,\"自主上机,送样检测\",报废,仅本单位,,,",
    ]);
    let report = import_csv(&file).unwrap();

    assert_eq!(good_rows(&report), vec![2, 6, 14]);
    assert_eq!(report.bad_rows(), vec![3, 4, 5, 7, 8, 9, 10, 11, 12, 13]);
    let expected = [
        (3, "中文名称"),
        (4, "出厂日期"),
        (5, "分类代码"),
        (7, "原值（元）"),
        (8, "状态"),
        (9, "电子邮箱"),
        (10, "本单位-材料费"),
        (11, "仪器编号"),
        (12, "服务方式"),
        (13, "本单位-材料费"),
    ];
    for (row, column) in expected {
        assert_eq!(error_columns(&report, row), vec![column], "row {row}");
    }
    assert!(errors_of(&report, 4)[0].message.contains("2023-02-30"));
    assert!(errors_of(&report, 5)[0].message.contains("9999"));
    assert!(errors_of(&report, 10)[0].message.contains("两位小数"));
    assert!(errors_of(&report, 11)[0].message.contains("第 2 行"));
    assert!(errors_of(&report, 12)[0].message.contains("上门服务"));
    match &report.rows[1] {
        RowOutcome::Bad { local_id, .. } => assert_eq!(local_id, "A-2"),
        other => panic!("{other:?}"),
    }

    let good = good_records(&report);
    assert_eq!(good[0].local_id, "A-1");
    assert_eq!(good[0].original_value_fen, 250_000_000);
    assert_eq!(good[0].institution_id, institution());
    assert_eq!(good[0].revision, 0);
    assert_eq!(good[1].original_value_fen, 123_450);
    assert_eq!(good[1].status, InstrumentStatus::UnderMaintenance);
    assert_eq!(good[1].fees.len(), 1);
    assert_eq!(good[1].fees[0].unit, FeeUnit::Sample);
    assert_eq!(good[1].fees[0].own_institution.materials_fen, 1230);
    assert_eq!(good[2].manufacture_date, "2023-02-28");
    assert_eq!(
        good[2].service_modes,
        vec![ServiceMode::SelfOperated, ServiceMode::StaffRun]
    );
    assert_eq!(good[2].sharing_scope, SharingScope::Internal);
}

#[test]
fn every_problem_of_a_row_is_reported_not_just_the_first() {
    let file = csv(&[
        "仪器编号,中文名称,原值（元）,分类代码,状态,共享范围,电子邮箱",
        "bad id!,,abc,77,坏了,全世界,nobody",
    ]);
    let report = import_csv(&file).unwrap();
    assert_eq!(
        error_columns(&report, 2),
        vec![
            "仪器编号",
            "中文名称",
            "原值（元）",
            "分类代码",
            "电子邮箱",
            "状态",
            "共享范围"
        ]
    );
}

#[test]
fn a_fee_item_needs_a_unit_and_one_without_a_name_needs_empty_prices() {
    let file = csv(&[
        "仪器编号,中文名称,原值（元）,分类代码,状态,共享范围,收费项目,收费项目（英文）,计费单位,企业-人工费",
        "A-1,离心机,0,01,在用,对社会开放,离心,,,10",
        "A-2,离心机,0,01,在用,对社会开放,,Centrifuging,小时,",
    ]);
    let report = import_csv(&file).unwrap();
    assert_eq!(error_columns(&report, 2), vec!["计费单位"]);
    assert_eq!(
        error_columns(&report, 3),
        vec!["收费项目（英文）", "计费单位"]
    );
}

#[test]
fn text_over_the_record_limits_is_refused() {
    let long = "测".repeat(100); // 300 bytes, over the 256 of a short field
    let line = format!("A-1,{long},0,01,在用,对社会开放");
    let file = csv(&["仪器编号,中文名称,原值（元）,分类代码,状态,共享范围", &line]);
    let report = import_csv(&file).unwrap();
    assert_eq!(error_columns(&report, 2), vec!["中文名称"]);
    assert!(errors_of(&report, 2)[0].message.contains("256"));
}

#[test]
fn a_record_too_large_to_sign_is_a_bad_row_as_a_whole() {
    let mut big = full_record("BIG", 31);
    let text = "a".repeat(MAX_LONG_TEXT);
    big.main_specifications = text.clone();
    big.main_functions = text.clone();
    big.accessories = text.clone();
    big.opening_hours = text.clone();
    big.required_training = text.clone();
    big.certification = text;
    for fee in &mut big.fees {
        fee.item_zh = "项".repeat(85);
        fee.item_en = "x".repeat(256);
    }
    let report = import_xlsx(&export_xlsx(&[big]).unwrap()).unwrap();
    let errors = errors_of(&report, 2);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].column, "");
    assert!(errors[0].message.contains("65536"), "{}", errors[0].message);
}

#[test]
fn more_fee_items_than_a_record_may_hold_is_a_bad_row() {
    let report = import_xlsx(&export_xlsx(&[full_record("A-1", MAX_FEE_ITEMS + 1)]).unwrap());
    assert_eq!(error_columns(&report.unwrap(), 2), vec![FEE_SHEET]);
}

// ---------------------------------------------------------------- the 收费标准 sheet

#[test]
fn fee_sheet_rows_join_their_instrument_and_their_errors_name_the_sheet() {
    let main = vec![
        headers(&[
            "仪器编号",
            "中文名称",
            "原值（元）",
            "分类代码",
            "状态",
            "共享范围",
        ]),
        vec![
            X::S("A-1"),
            X::S("离心机"),
            X::N(0.0),
            X::S("01"),
            X::S("在用"),
            X::S("对社会开放"),
        ],
        vec![
            X::S("A-2"),
            X::S("烘箱"),
            X::N(0.0),
            X::S("01"),
            X::S("在用"),
            X::S("对社会开放"),
        ],
    ];
    let fees = vec![
        headers(&["仪器编号", "收费项目", "计费单位", "企业-材料费"]),
        vec![X::S("A-1"), X::S("离心"), X::S("小时"), X::N(25.5)],
        vec![X::S("A-2"), X::S("烘干"), X::S("每天"), X::N(1.0)],
        vec![X::S("A-9"), X::S("孤儿"), X::S("小时"), X::N(1.0)],
    ];
    let report = import_xlsx(&xlsx(&[(MAIN_SHEET, main), (FEE_SHEET, fees)])).unwrap();

    let good = good_records(&report);
    assert_eq!(good.len(), 1);
    assert_eq!(good[0].fees.len(), 1);
    assert_eq!(good[0].fees[0].enterprise.materials_fen, 2550);

    // A-2 is bad because of its fee row (row 3 of 收费标准).
    let a2 = errors_of(&report, 3);
    assert_eq!(a2.len(), 1);
    assert_eq!(a2[0].column, "收费标准/计费单位");
    assert!(
        a2[0].message.starts_with("收费标准第 3 行"),
        "{}",
        a2[0].message
    );

    // A-9 is in no row of 仪器: the bad row is row 4 of 收费标准.
    let orphan = errors_of(&report, 4);
    assert_eq!(orphan[0].column, "收费标准/仪器编号");
    assert!(orphan[0].message.contains("A-9"));
    assert_eq!(report.bad_rows(), vec![3, 4]);
}

// ---------------------------------------------------------------- XLSX cells

#[test]
fn xlsx_date_cells_serial_numbers_and_numbers_in_text_columns_are_read_as_shown() {
    let main = vec![
        headers(&[
            "仪器编号",
            "中文名称",
            "原值（元）",
            "出厂日期",
            "购置日期",
            "验收日期",
            "分类代码",
            "联系电话",
            "状态",
            "共享范围",
        ]),
        vec![
            X::N(1001.0),
            X::S("离心机"),
            X::N(2_150_000.5),
            X::Date(2019, 6, 1),
            X::N(43_617.0),
            X::S("2019/6/1"),
            X::N(102.0),
            X::N(13_800_138_000.0),
            X::S("在用"),
            X::S("对社会开放"),
        ],
    ];
    let report = import_xlsx(&xlsx(&[(MAIN_SHEET, main)])).unwrap();
    let r = &good_records(&report)[0];
    assert_eq!(r.local_id, "1001");
    assert_eq!(r.original_value_fen, 215_000_050);
    assert_eq!(r.manufacture_date, "2019-06-01");
    assert_eq!(r.purchase_date, "2019-06-01");
    assert_eq!(r.acceptance_date, "2019-06-01");
    assert_eq!(
        r.classification_code, "0102",
        "Excel dropped the leading zero"
    );
    assert_eq!(r.contact.phone, "13800138000");
}

#[test]
fn xlsx_amounts_with_a_third_decimal_are_refused_not_rounded() {
    let main = vec![
        headers(&[
            "仪器编号",
            "中文名称",
            "原值（元）",
            "分类代码",
            "状态",
            "共享范围",
        ]),
        vec![
            X::S("A-1"),
            X::S("离心机"),
            X::N(12.345),
            X::S("01"),
            X::S("在用"),
            X::S("对社会开放"),
        ],
    ];
    let report = import_xlsx(&xlsx(&[(MAIN_SHEET, main)])).unwrap();
    assert_eq!(error_columns(&report, 2), vec!["原值（元）"]);
}

#[test]
fn without_a_sheet_named_yiqi_the_first_sheet_is_read() {
    let rows = vec![
        headers(&[
            "仪器编号",
            "中文名称",
            "原值（元）",
            "分类代码",
            "状态",
            "共享范围",
        ]),
        vec![
            X::S("A-1"),
            X::S("离心机"),
            X::N(1.0),
            X::S("01"),
            X::S("在用"),
            X::S("对社会开放"),
        ],
    ];
    let report = import_xlsx(&xlsx(&[("Sheet1", rows), ("Sheet2", Vec::new())])).unwrap();
    assert_eq!(good_rows(&report), vec![2]);
}

// ---------------------------------------------------------------- values

#[test]
fn amounts_are_read_exactly_to_the_fen() {
    use super::money::{MAX_PRICE_FEN, MAX_VALUE_FEN, MoneyError, from_number, parse_text};
    assert_eq!(parse_text("12.3", MAX_VALUE_FEN), Ok(1230));
    assert_eq!(parse_text("1,234.50", MAX_VALUE_FEN), Ok(123_450));
    assert_eq!(parse_text("¥ 0.07", MAX_VALUE_FEN), Ok(7));
    assert_eq!(parse_text("12.300", MAX_VALUE_FEN), Ok(1230));
    assert_eq!(
        parse_text("12.345", MAX_VALUE_FEN),
        Err(MoneyError::TooPrecise)
    );
    assert_eq!(parse_text("-5", MAX_VALUE_FEN), Err(MoneyError::Negative));
    assert_eq!(
        parse_text("12,34", MAX_VALUE_FEN),
        Err(MoneyError::NotANumber)
    );
    assert_eq!(
        parse_text("1e5", MAX_VALUE_FEN),
        Err(MoneyError::NotANumber)
    );
    assert_eq!(
        parse_text("10000000.01", MAX_PRICE_FEN),
        Err(MoneyError::TooLarge {
            max_fen: MAX_PRICE_FEN
        })
    );
    assert_eq!(
        parse_text("99999999999999999999999", MAX_VALUE_FEN),
        Err(MoneyError::TooLarge {
            max_fen: MAX_VALUE_FEN
        })
    );

    assert_eq!(from_number(12.3, MAX_VALUE_FEN), Ok(1230));
    assert_eq!(
        from_number(0.1 + 0.2, MAX_VALUE_FEN),
        Ok(30),
        "formula noise is not a decimal"
    );
    assert_eq!(
        from_number(999_999_999_999.99, MAX_VALUE_FEN),
        Ok(99_999_999_999_999)
    );
    assert_eq!(
        from_number(12.345, MAX_VALUE_FEN),
        Err(MoneyError::TooPrecise)
    );
    assert_eq!(
        from_number(0.001, MAX_VALUE_FEN),
        Err(MoneyError::TooPrecise)
    );
    assert_eq!(from_number(-0.01, MAX_VALUE_FEN), Err(MoneyError::Negative));
    assert_eq!(
        from_number(f64::NAN, MAX_VALUE_FEN),
        Err(MoneyError::NotANumber)
    );
    assert_eq!(
        from_number(1e300, MAX_VALUE_FEN),
        Err(MoneyError::TooLarge {
            max_fen: MAX_VALUE_FEN
        })
    );
}

#[test]
fn dates_are_read_in_the_spellings_people_type() {
    use super::dates::{from_serial, from_text};
    for written in [
        "2019-06-01",
        "2019/6/1",
        "2019.06.01",
        "2019年6月1日",
        "2019-06-01 00:00:00",
        "43617",
    ] {
        assert_eq!(
            from_text(written, false).as_deref(),
            Ok("2019-06-01"),
            "{written}"
        );
    }
    for wrong in [
        "2023-02-30",
        "19-6-1",
        "2019-13-01",
        "1899-12-31",
        "昨天",
        "2019-06-01 noon",
    ] {
        assert!(from_text(wrong, false).is_err(), "{wrong}");
    }
    assert_eq!(from_serial(43_617.75, false).as_deref(), Ok("2019-06-01"));
    assert_eq!(
        from_serial(42_155.0, true).as_deref(),
        Ok("2019-06-01"),
        "1904 date system"
    );
    assert!(
        from_serial(60.0, false).is_err(),
        "Excel's phantom 1900-02-29"
    );
}

// ---------------------------------------------------------------- layout

#[test]
fn a_missing_required_header_refuses_the_file_and_names_it() {
    let file = csv(&[
        "仪器编号,中文名称,原值（元）,状态,共享范围",
        "A-1,离心机,0,在用,对社会开放",
    ]);
    let error = import_csv(&file).unwrap_err();
    let ImportError::WrongLayout {
        missing, unknown, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(missing, &vec!["分类代码".to_owned()]);
    assert!(unknown.is_empty());
    assert!(error.to_string().contains("分类代码"));
}

#[test]
fn an_unknown_header_refuses_the_file_and_names_it() {
    let file = csv(&[
        "仪器编号,中文名称,原值（元）,分类代码,状态,共享范围,备注",
        "A-1,离心机,0,01,在用,对社会开放,",
    ]);
    let error = import_csv(&file).unwrap_err();
    let ImportError::WrongLayout {
        unknown, missing, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(unknown, &vec!["备注".to_owned()]);
    assert!(missing.is_empty());
    assert!(error.to_string().contains("备注"));
}

#[test]
fn headers_match_after_trimming_in_any_order_with_either_kind_of_parentheses() {
    let file = csv(&[
        " 状态 ,共享范围,原值(元),分类代码*,中文名称,仪器编号",
        "在用,对社会开放,5,01,离心机,A-1",
    ]);
    let report = import_csv(&file).unwrap();
    assert_eq!(good_records(&report)[0].original_value_fen, 500);
}

#[test]
fn a_repeated_header_refuses_the_file() {
    let file = csv(&["仪器编号,中文名称,原值（元）,分类代码,状态,共享范围,状态"]);
    let error = import_csv(&file).unwrap_err();
    assert!(matches!(&error, ImportError::WrongLayout { repeated, .. } if repeated == &["状态"]));
}

#[test]
fn content_under_no_header_refuses_the_file() {
    let file = csv(&[
        "仪器编号,中文名称,原值（元）,分类代码,状态,共享范围",
        "A-1,离心机,0,01,在用,对社会开放,备用",
    ]);
    assert_eq!(
        import_csv(&file).unwrap_err(),
        ImportError::UnnamedColumn {
            sheet: MAIN_SHEET.to_owned(),
            column: "G".to_owned()
        }
    );
}

// ---------------------------------------------------------------- CSV rows

#[test]
fn a_bom_prefixed_csv_parses() {
    let mut file = b"\xEF\xBB\xBF".to_vec();
    file.extend(csv(&[
        "仪器编号,中文名称,原值（元）,分类代码,状态,共享范围",
        "A-1,离心机,0,01,在用,对社会开放",
    ]));
    assert_eq!(good_rows(&import_csv(&file).unwrap()), vec![2]);
}

#[test]
fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
    // Row 3 is a blank line, row 4 only commas, row 5 has a cell over two lines.
    let file = "仪器编号,中文名称,原值（元）,分类代码,状态,共享范围\r\n\
                A-1,离心机,0,01,在用,对社会开放\r\n\
                \r\n\
                ,,,,,\r\n\
                A-2,\"两行\n的名称\",0,01,在用,对社会开放\r\n\
                A-3,,0,01,在用,对社会开放\r\n";
    let report = import_csv(file.as_bytes()).unwrap();
    assert_eq!(good_rows(&report), vec![2, 5]);
    assert_eq!(report.bad_rows(), vec![6]);
    assert_eq!(good_records(&report)[1].name_zh, "两行\n的名称");
}

// ---------------------------------------------------------------- whole-file refusals

#[test]
fn a_file_that_is_not_a_spreadsheet_is_refused() {
    assert!(matches!(
        import_xlsx(b"%PDF-1.7 not a workbook"),
        Err(ImportError::NotXlsx { .. })
    ));
    let gbk = b"\xd2\xc7\xc6\xf7\xb1\xe0\xba\xc5\n"; // "仪器编号" in GBK
    assert_eq!(import_csv(gbk).unwrap_err(), ImportError::NotUtf8Csv);
    let error = parse("目录.pdf", b"%PDF", &institution(), &classification()).unwrap_err();
    assert!(matches!(error, ImportError::UnsupportedType { .. }));
}

#[test]
fn parse_chooses_the_format_by_extension_whatever_its_case() {
    let (id, c) = (institution(), classification());
    assert_eq!(
        parse("A.XLSX", &template_xlsx().unwrap(), &id, &c)
            .unwrap()
            .rows
            .len(),
        1
    );
    assert_eq!(
        parse("b.Csv", &template_csv(), &id, &c).unwrap().rows.len(),
        1
    );
    assert!(matches!(
        parse("c.xls", &template_xlsx().unwrap(), &id, &c),
        Err(ImportError::UnsupportedType { .. })
    ));
}

#[test]
fn a_file_over_10_mib_is_refused() {
    let big = vec![b' '; MAX_FILE_BYTES + 1];
    assert_eq!(
        import_csv(&big).unwrap_err(),
        ImportError::TooLarge {
            size: MAX_FILE_BYTES + 1
        }
    );
    assert!(matches!(
        import_xlsx(&big),
        Err(ImportError::TooLarge { .. })
    ));
}

#[test]
fn more_than_5000_instruments_is_refused() {
    let mut lines = vec!["仪器编号,中文名称,原值（元）,分类代码,状态,共享范围".to_owned()];
    lines.extend((0..=MAX_ROWS).map(|i| format!("A-{i},离心机,0,01,在用,对社会开放")));
    let file = lines.join("\n");
    assert!(matches!(
        import_csv(file.as_bytes()),
        Err(ImportError::TooManyRows {
            limit: MAX_ROWS,
            ..
        })
    ));
}

#[test]
fn a_zip_declaring_more_than_it_may_unpack_is_refused_before_unpacking() {
    // One central-directory header (deflate) that claims 200 MiB.
    let mut bomb = vec![0u8; 46];
    bomb[..4].copy_from_slice(b"PK\x01\x02");
    bomb[10] = 8;
    bomb[24..28].copy_from_slice(&(200u32 << 20).to_le_bytes());
    assert_eq!(
        import_xlsx(&bomb).unwrap_err(),
        ImportError::TooLargeUnpacked
    );
    assert!(zip_limit::check(&template_xlsx().unwrap()).is_ok());
}

/// `bytes` repacked (stored, uncompressed) with `edit` applied to each part's content.
fn repack(bytes: &[u8], edit: impl Fn(&str, String) -> String) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).unwrap();
        let name = part.name().unwrap().into_owned();
        let mut content = String::new();
        part.read_to_string(&mut content).unwrap();
        out.start_file(name.as_str(), options).unwrap();
        out.write_all(edit(&name, content).as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn a_cell_reference_the_reader_cannot_count_is_refused_not_panicking() {
    // Found by fuzzing (fuzz/corpus/import_xlsx/crash-cell-reference-overflow): the XLSX
    // reader's column arithmetic overflowed on a reference of seven letters or more.
    let book = xlsx(&[(MAIN_SHEET, vec![headers(&["仪器编号", "仪器名称"])])]);
    let bad = repack(&book, |name, xml| {
        if name.ends_with("sheet1.xml") {
            xml.replacen(r#"r="A1""#, r#"r="ABCDEFGHIJ1""#, 1)
        } else {
            xml
        }
    });
    assert_ne!(bad, book);
    assert!(matches!(
        import_xlsx(&bad),
        Err(ImportError::NotXlsx { .. })
    ));
}

#[test]
fn a_workbook_declaring_more_shared_strings_than_it_may_is_refused_before_reading() {
    // The XLSX reader reserves room for the declared count first: ten billion strings
    // would be 240 GB, and a failed allocation aborts the process.
    let book = template_xlsx().unwrap();
    let declaring = |count: u64| {
        repack(&book, move |name, xml| {
            if name.ends_with("sharedStrings.xml") {
                // uniqueCount="2" → uniqueCount = '<count>'
                let at = xml.find("uniqueCount=\"").unwrap();
                let value = at + "uniqueCount=\"".len();
                let end = value + xml[value..].find('"').unwrap();
                format!("{}uniqueCount = '{count}'{}", &xml[..at], &xml[end + 1..])
            } else {
                xml
            }
        })
    };
    let err = import_xlsx(&declaring(10_000_000_000)).unwrap_err();
    assert!(
        matches!(&err, ImportError::NotXlsx { detail } if detail.contains("shared strings")),
        "{err:?}"
    );
    let report = import_xlsx(&declaring(xlsx::MAX_SHARED_STRINGS)).unwrap();
    assert_eq!(report.good().count(), 1);
}

#[test]
fn a_full_5000_row_catalogue_round_trips() {
    let records: Vec<InstrumentRecord> = (0..MAX_ROWS)
        .map(|i| full_record(&format!("I-{i}"), 2))
        .collect();
    let bytes = export_xlsx(&records).unwrap();
    assert!(bytes.len() <= MAX_FILE_BYTES, "{} bytes", bytes.len());
    let report = import_xlsx(&bytes).unwrap();
    assert_eq!(good_records(&report), records);
}

#[test]
fn damaged_files_are_refused_without_panicking() {
    let workbook = export_xlsx(&[full_record("SEM-01", 3), minimal_record("M-1")]).unwrap();
    // A cheap deterministic generator, so a failure can be replayed.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..300 {
        let mut damaged = workbook.clone();
        let at = next() as usize % damaged.len();
        match next() % 3 {
            0 => damaged.truncate(at),
            1 => damaged[at] ^= 1 << (next() % 8),
            _ => damaged[at..].rotate_left(1),
        }
        let _ = import_xlsx(&damaged);
        let _ = import_csv(&damaged);
    }
    let text = export_csv(&[full_record("SEM-01", 1)]);
    for cut in 0..text.len() {
        let _ = import_csv(&text[..cut]);
    }
}
