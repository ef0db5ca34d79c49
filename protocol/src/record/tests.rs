use super::*;

fn tier(materials: i64, operating: i64, labour: i64) -> FeeComponents {
    FeeComponents {
        materials_fen: materials,
        operating_fen: operating,
        labour_fen: labour,
    }
}

pub(crate) fn sample() -> InstrumentRecord {
    InstrumentRecord {
        institution_id: "dlut".parse().unwrap(),
        local_id: "LCMS-2019-003".into(),
        revision: 12,
        deleted: false,
        name_zh: "液相色谱-质谱联用仪".into(),
        name_en: "Liquid chromatograph-mass spectrometer".into(),
        model: "Xevo TQ-XS".into(),
        specification: "三重四极杆".into(),
        original_value_fen: 368_000_000,
        country_of_origin: "美国".into(),
        manufacturer: "Waters".into(),
        manufacture_date: "2019-03-01".into(),
        purchase_date: "2019-05-20".into(),
        acceptance_date: "2019-09-12".into(),
        networked_date: "2019-10-08".into(),
        asset_number: "DUT20190512".into(),
        classification_code: "0102".into(),
        location: Location {
            city: "大连".into(),
            campus: "凌工路校区".into(),
            building: "化工实验楼".into(),
            room: "B203".into(),
        },
        main_specifications: "质量范围 2–2048 m/z".into(),
        main_functions: "小分子定量分析".into(),
        accessories: "UPLC I-Class".into(),
        contact: Contact {
            person_in_charge: "李教授".into(),
            contact_name: "王工".into(),
            phone: "0411-84700000".into(),
            email: "lcms@dlut.example.cn".into(),
        },
        fees: vec![FeeItem {
            item_zh: "样品测试".into(),
            item_en: "Sample test".into(),
            unit: FeeUnit::Sample,
            own_institution: tier(2_000, 1_000, 5_000),
            alliance_member: tier(2_000, 1_500, 8_000),
            outside_academic: tier(2_000, 2_000, 12_000),
            enterprise: tier(3_000, 3_000, 20_000),
        }],
        opening_hours: "周一至周五 8:30–17:00".into(),
        service_modes: vec![ServiceMode::StaffRun, ServiceMode::SelfOperated],
        required_training: "上机培训并考核".into(),
        certification: "CMA".into(),
        status: InstrumentStatus::InService,
        sharing_scope: SharingScope::OpenToSociety,
        photos: vec![InstrumentPhoto {
            sha256: [7; 32],
            size: 180_000,
            width: 1600,
            height: 1200,
            thumb_sha256: [8; 32],
            thumb_size: 14_000,
        }],
    }
}

#[test]
fn a_record_round_trips_through_its_signed_envelope() {
    let owner = SecretKey::generate();
    let record = sample();
    let opened = InstrumentRecord::open(&record.seal(&owner), &owner.public()).unwrap();
    assert_eq!(opened, record);
    assert_eq!(opened.id(), "dlut/LCMS-2019-003");
    assert_eq!(opened.fees[0].enterprise.total_fen(), 26_000);
}

#[test]
fn a_record_signed_by_another_key_is_refused() {
    let owner = SecretKey::generate();
    let other = SecretKey::generate();
    assert!(matches!(
        InstrumentRecord::open(&sample().seal(&other), &owner.public()),
        Err(RecordError::Envelope(EnvelopeError::WrongSigner { .. }))
    ));
}

#[test]
fn bad_fields_are_refused_with_their_name() {
    let owner = SecretKey::generate();
    let check = |edit: &dyn Fn(&mut InstrumentRecord), expected: &str| {
        let mut record = sample();
        edit(&mut record);
        match InstrumentRecord::open(&record.seal(&owner), &owner.public()) {
            Err(RecordError::Field { field, .. }) => assert_eq!(field, expected),
            other => panic!("{expected}: {other:?}"),
        }
    };
    check(&|r| r.local_id = "has space".into(), "local_id");
    check(
        &|r| r.acceptance_date = "2019-02-30".into(),
        "acceptance_date",
    );
    check(&|r| r.name_zh = "  ".into(), "name_zh");
    check(&|r| r.name_en = "x".repeat(MAX_SHORT_TEXT + 1), "name_en");
    check(&|r| r.original_value_fen = -1, "original_value_fen");
    check(&|r| r.fees[0].enterprise.labour_fen = -5, "fees");
    check(&|r| r.status = InstrumentStatus::Unspecified, "status");
    check(
        &|r| r.service_modes.push(ServiceMode::Unspecified),
        "service_modes",
    );
    check(&|r| r.photos.push(r.photos[0]), "photos");
    check(&|r| r.photos[0].width = MAX_PHOTO_SIDE + 1, "photos");
    check(&|r| r.photos[0].size = MAX_PHOTO_BYTES + 1, "photos");
    check(&|r| r.photos[0].thumb_size = 0, "photos");
    check(
        &|r| {
            r.photos = (0..=MAX_PHOTOS as u8)
                .map(|n| InstrumentPhoto {
                    sha256: [n; 32],
                    ..r.photos[0]
                })
                .collect()
        },
        "photos",
    );
}

#[test]
fn a_photo_fetch_is_signed_by_the_asker() {
    let asker = SecretKey::generate();
    let fetch = PhotoFetch { sha256: [3; 32] };
    let sealed = fetch.seal(&asker);
    assert_eq!(PhotoFetch::open(&sealed, &asker.public()).unwrap(), fetch);
    assert!(PhotoFetch::open(&sealed, &SecretKey::generate().public()).is_err());
}

#[test]
fn a_tombstone_needs_no_content() {
    let owner = SecretKey::generate();
    let mut tombstone = sample();
    tombstone.deleted = true;
    tombstone.revision = 13;
    tombstone.name_zh.clear();
    tombstone.status = InstrumentStatus::Unspecified;
    tombstone.sharing_scope = SharingScope::Unspecified;
    let opened = InstrumentRecord::open(&tombstone.seal(&owner), &owner.public()).unwrap();
    assert!(opened.deleted);
}

#[test]
fn dates_are_real_calendar_dates() {
    for good in ["", "2024-02-29", "2019-12-31"] {
        assert!(is_valid_date(good), "{good}");
    }
    for bad in [
        "2023-02-29",
        "2019-13-01",
        "2019-1-01",
        "19-01-01",
        "2019/01/01",
        "2019-01-00",
    ] {
        assert!(!is_valid_date(bad), "{bad}");
    }
}
