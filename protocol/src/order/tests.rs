use super::*;

fn placed() -> OrderPlaced {
    OrderPlaced {
        order_id: "n_0001".into(),
        home: "neu".parse().unwrap(),
        owner: "dlut".parse().unwrap(),
        offer_revision: 9,
        instrument_local_id: "XPS-1".into(),
        service_item: "样品测试".into(),
        price_fen: 78_000,
        samples: vec![SampleLine {
            label: "镀层钢片".into(),
            count: 3,
            note: "真空包装".into(),
        }],
        contact: OrderContact {
            user_id: "firm7".into(),
            name: "华信检测部".into(),
            organization: "大连华信新材料有限公司".into(),
            email: "firm7@example.cn".into(),
            phone: "0411-1234567".into(),
        },
        tier: UserTier::Enterprise,
        placed_at: UnixTime(1_796_000_000),
        title: "涂层表面元素价态分析".into(),
    }
}

#[test]
fn an_order_and_its_updates_open_with_their_signers_only() {
    let home = SecretKey::generate();
    let owner = SecretKey::generate();
    let bytes = placed().seal(&home);
    assert_eq!(OrderPlaced::open(&bytes, &home.public()).unwrap(), placed());
    assert!(OrderPlaced::open(&bytes, &owner.public()).is_err());
    assert_eq!(placed().sample_count(), 3);

    let update = OrderUpdate {
        order_id: "n_0001".into(),
        home: "neu".parse().unwrap(),
        owner: "dlut".parse().unwrap(),
        version: 4,
        state: OrderState::ReportIssued,
        note: String::new(),
        at: UnixTime(1_796_100_000),
        report: Some(ReportRef {
            name: "report.pdf".into(),
            media_type: "application/pdf".into(),
            size: 1234,
            sha256: [7; 32],
            receipt_id: "r-1".into(),
        }),
        photos: vec![crate::board::NeedAttachment {
            name: "收样.jpg".into(),
            media_type: "image/jpeg".into(),
            size: 5_000,
            sha256: [9; 32],
        }],
    };
    let sealed = update.seal(&owner);
    assert_eq!(OrderUpdate::open(&sealed, &owner.public()).unwrap(), update);
    // An issued report without its hash is refused.
    let bare = OrderUpdate {
        report: None,
        ..update
    };
    assert!(OrderUpdate::open(&bare.seal(&owner), &owner.public()).is_err());
}

#[test]
fn an_order_without_samples_is_refused() {
    let home = SecretKey::generate();
    let empty = OrderPlaced {
        samples: Vec::new(),
        ..placed()
    };
    assert!(matches!(
        OrderPlaced::open(&empty.seal(&home), &home.public()),
        Err(RecordError::Field {
            field: "samples",
            ..
        })
    ));
}

#[test]
fn states_move_forward_one_step_and_end() {
    use OrderState::*;
    assert!(Ordered.may_become(SamplesReceived));
    assert!(SamplesReceived.may_become(Testing));
    assert!(Testing.may_become(ReportIssued));
    assert!(ReportIssued.may_become(Closed));
    assert!(!Ordered.may_become(Testing), "no step skipped");
    assert!(!Testing.may_become(SamplesReceived), "no step back");
    assert!(
        !ReportIssued.may_become(Refused),
        "a report issued is not refused"
    );
    assert!(!SamplesReceived.may_become(Cancelled));
    for done in [Closed, Refused, Cancelled] {
        assert!(done.is_final());
        assert!(!done.may_become(Ordered));
    }
}
