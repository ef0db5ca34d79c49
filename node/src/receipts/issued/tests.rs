#![allow(clippy::unwrap_used)]

use alliance_protocol::{FeeComponents, receipt::receipt_hash};

use super::*;

const T: i64 = 1_800_000_000;
const DAY: u64 = 86_400;

fn receipt(id: &str) -> UsageReceipt {
    UsageReceipt {
        receipt_id: id.into(),
        start: UnixTime(T - 7_200),
        end: UnixTime(T),
        fees: FeeComponents {
            materials_fen: 500,
            operating_fen: 6_000,
            labour_fen: 4_000,
        },
        issued_at: UnixTime(T),
        ..alliance_protocol::fixtures::receipt()
    }
}

fn confirmation(signed: &[u8], r: &UsageReceipt, rating: u8) -> ReceiptConfirmation {
    ReceiptConfirmation {
        receipt_hash: receipt_hash(signed),
        receipt_id: r.receipt_id.clone(),
        institution_id: r.institution_id.clone(),
        user_id: r.user_id.clone(),
        verdict: Verdict::Confirmed {
            rating,
            comment: String::new(),
        },
        confirmed_at: UnixTime(T + 3_600),
    }
}

fn book(dir: &std::path::Path, owner: &SecretKey) -> (ReceiptBook, ReceiptOutbox) {
    let store = Store::open(dir).unwrap();
    let outbox = ReceiptOutbox::new(store.clone(), SecretKey::generate().public());
    let home = ReceivedReceipts::new(store.clone(), owner.clone(), "dlut".parse().unwrap());
    (
        ReceiptBook::new(
            store,
            owner.clone(),
            outbox.clone(),
            home,
            Duration::from_secs(7 * DAY),
            30,
        ),
        outbox,
    )
}

#[tokio::test]
async fn a_confirmed_receipt_goes_to_the_outbox_countersigned_once() {
    let dir = tempfile::tempdir().unwrap();
    let (owner, home) = (SecretKey::generate(), SecretKey::generate());
    let (book, outbox) = book(dir.path(), &owner);
    let r = receipt("r1");
    let signed = book.issue(r.clone(), UnixTime(T)).await.unwrap();
    // Issuing again gives the same bytes; another receipt under the id is refused.
    assert_eq!(book.issue(r.clone(), UnixTime(T)).await.unwrap(), signed);
    let mut other = receipt("r1");
    other.samples = 9;
    assert!(matches!(
        book.issue(other, UnixTime(T)).await,
        Err(IssueError::IdReused(_))
    ));
    assert_eq!(
        outbox.waiting().unwrap(),
        0,
        "nothing is submitted before confirmation"
    );
    // The signed receipt waits, durably, for delivery to the user's home.
    let to_home = messages::pending(&book.store).unwrap();
    assert_eq!(to_home.len(), 1);
    assert_eq!(to_home[0].to.as_str(), "neu");
    assert_eq!(to_home[0].message, signed);

    // A confirmation signed by another node, or of other bytes, does not hold.
    let by_stranger = confirmation(&signed, &r, 5).seal(&SecretKey::generate());
    assert!(
        book.confirmed(&by_stranger, &home.public(), UnixTime(T))
            .await
            .is_err()
    );
    let of_other_bytes = confirmation(b"other", &r, 5).seal(&home);
    assert!(matches!(
        book.confirmed(&of_other_bytes, &home.public(), UnixTime(T))
            .await,
        Err(IssueError::BadConfirmation(_))
    ));

    let good = confirmation(&signed, &r, 4).seal(&home);
    assert_eq!(
        book.confirmed(&good, &home.public(), UnixTime(T))
            .await
            .unwrap()
            .rating(),
        Some(4)
    );
    assert_eq!(
        book.get("r1").unwrap().unwrap().standing,
        Standing::Confirmed { rating: 4 }
    );
    let due = outbox.due(UnixTime(T)).unwrap();
    assert_eq!(due.len(), 1);
    let submission = ReceiptSubmission::decode(&due[0].1).unwrap();
    let (read, confirmed) = submission.open(&owner.public(), &home.public()).unwrap();
    assert_eq!(read, r);
    assert_eq!(confirmed.unwrap().verdict.rating(), Some(4));
    // A second confirmation changes nothing.
    assert!(matches!(
        book.confirmed(&good, &home.public(), UnixTime(T)).await,
        Err(IssueError::NotAwaiting(_))
    ));
    assert_eq!(outbox.waiting().unwrap(), 1);
}

#[tokio::test]
async fn an_unconfirmed_receipt_goes_single_signed_after_the_grace_period_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let owner = SecretKey::generate();
    {
        let (book, _) = book(dir.path(), &owner);
        book.issue(receipt("r2"), UnixTime(T)).await.unwrap();
        assert_eq!(book.lapse(UnixTime(T + 6 * DAY as i64)).await.unwrap(), 0);
    }
    let (book, outbox) = book(dir.path(), &owner);
    assert_eq!(book.lapse(UnixTime(T + 7 * DAY as i64)).await.unwrap(), 1);
    assert_eq!(
        book.get("r2").unwrap().unwrap().standing,
        Standing::SingleSigned
    );
    let due = outbox.due(UnixTime(T + 7 * DAY as i64)).unwrap();
    let submission = ReceiptSubmission::decode(&due[0].1).unwrap();
    assert!(submission.confirmation.is_none());
    // Lapsing again does nothing more.
    assert_eq!(book.lapse(UnixTime(T + 8 * DAY as i64)).await.unwrap(), 0);
    assert_eq!(outbox.waiting().unwrap(), 1);
}

#[tokio::test]
async fn an_invalid_receipt_is_not_issued() {
    let dir = tempfile::tempdir().unwrap();
    let (book, _) = book(dir.path(), &SecretKey::generate());
    let mut bad = receipt("r3");
    bad.end = bad.start;
    assert!(matches!(
        book.issue(bad, UnixTime(T)).await,
        Err(IssueError::Invalid(_))
    ));
    assert!(book.get("r3").unwrap().is_none());
}

#[tokio::test]
async fn an_owner_issues_no_inflated_or_overlapping_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let owner = SecretKey::generate();
    let (book, _) = book(dir.path(), &owner);
    // 44,640 minutes stated for a 30-minute session.
    let inflated = UsageReceipt {
        start: UnixTime(T - 1_800),
        test_minutes: 44_640 - 20,
        ..receipt("inflated")
    };
    assert!(matches!(
        book.issue(inflated, UnixTime(T)).await,
        Err(IssueError::ExceedsWallTime(30))
    ));
    book.issue(receipt("r1"), UnixTime(T)).await.unwrap();
    // The same session recorded again under another id.
    let again = book.issue(receipt("r1-again"), UnixTime(T)).await;
    assert!(
        matches!(&again, Err(IssueError::Overlapping(other)) if other == "r1"),
        "{again:?}"
    );
    // The hour after it is free.
    let next = UsageReceipt {
        start: UnixTime(T),
        end: UnixTime(T + 3_600),
        preparation_minutes: 0,
        test_minutes: 60,
        post_processing_minutes: 0,
        issued_at: UnixTime(T + 3_600),
        ..receipt("r2")
    };
    book.issue(next, UnixTime(T + 3_600)).await.unwrap();
    assert_eq!(book.all().unwrap().len(), 2);
}

#[tokio::test]
async fn receipts_issued_before_uses_were_indexed_are_indexed_at_the_next_issue() {
    let dir = tempfile::tempdir().unwrap();
    let owner = SecretKey::generate();
    {
        let (book, _) = book(dir.path(), &owner);
        book.issue(receipt("r1"), UnixTime(T)).await.unwrap();
        // As an older version left it: the receipt, but no index of uses and no mark.
        let mut batch = Batch::new();
        for (key, _) in book.store.scan_prefix(Space::IssuedUses, b"").unwrap() {
            batch.delete(Space::IssuedUses, key);
        }
        batch.delete(Space::Meta, USES_INDEXED.to_vec());
        book.store.commit(batch).await.unwrap();
    }
    let (book, _) = book(dir.path(), &owner);
    let again = book.issue(receipt("r1-again"), UnixTime(T)).await;
    assert!(
        matches!(&again, Err(IssueError::Overlapping(other)) if other == "r1"),
        "{again:?}"
    );
}

#[tokio::test]
async fn an_own_users_answer_and_the_receipts_standing_land_together_once() {
    let dir = tempfile::tempdir().unwrap();
    let owner = SecretKey::generate();
    let (book, outbox) = book(dir.path(), &owner);
    let mut r = receipt("r9");
    r.home_institution = "dlut".parse().unwrap();
    r.tier = alliance_protocol::UserTier::OwnInstitution;
    book.issue(r.clone(), UnixTime(T)).await.unwrap();
    let answer = |rating: u8| {
        book.confirm_own(
            &r.user_id,
            "r9",
            Verdict::Confirmed {
                rating,
                comment: String::new(),
            },
            UnixTime(T + 60),
        )
    };
    // Two answers at once: one is taken, the other refused as already given.
    let (five, one) = tokio::join!(answer(5), answer(1));
    let taken = match (&five, &one) {
        (Ok(()), Err(IssueError::Home(ReceivedError::AlreadyConfirmed(_)))) => 5,
        (Err(IssueError::Home(ReceivedError::AlreadyConfirmed(_))), Ok(())) => 1,
        other => panic!("{other:?}"),
    };
    // The user's answer, the receipt's standing and its countersigned submission agree.
    let received = book.home.of_user(&r.user_id).unwrap();
    assert_eq!(received[0].answer.as_ref().unwrap().rating, taken);
    let issued = book.get("r9").unwrap().unwrap();
    assert_eq!(issued.standing, Standing::Confirmed { rating: taken });
    let due = outbox.due(UnixTime(T + 60)).unwrap();
    assert_eq!(due.len(), 1);
    let submission = ReceiptSubmission::decode(&due[0].1).unwrap();
    let confirmation =
        ReceiptConfirmation::open(&submission.confirmation.unwrap(), &owner.public()).unwrap();
    assert_eq!(confirmation.verdict.rating(), Some(taken));
}

#[tokio::test]
async fn the_months_figures_follow_issues_and_disputes_and_are_rebuilt_for_older_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let (owner, home) = (SecretKey::generate(), SecretKey::generate());
    let month = month_of(UnixTime(T));
    let figures = |book: &ReceiptBook| {
        let book = book.clone();
        let month = month.clone();
        async move { book.monthly(&month, &month).await.unwrap() }
    };
    {
        let (book, _) = book(dir.path(), &owner);
        let external = receipt("r1");
        let signed = book.issue(external.clone(), UnixTime(T)).await.unwrap();
        let own = UsageReceipt {
            start: UnixTime(T),
            end: UnixTime(T + 7_200),
            tier: alliance_protocol::UserTier::OwnInstitution,
            home_institution: "dlut".parse().unwrap(),
            ..receipt("r2")
        };
        book.issue(own, UnixTime(T)).await.unwrap();
        let rows = figures(&book).await;
        assert_eq!(rows.len(), 1);
        let (m, instrument, f) = &rows[0];
        assert_eq!((m.as_str(), instrument.as_str()), (month.as_str(), "XPS-1"));
        assert_eq!(
            (f.receipts, f.effective_minutes, f.external_minutes),
            (2, 240, 120)
        );
        assert_eq!((f.revenue_fen, f.external_revenue_fen), (21_000, 10_500));
        // Other months hold nothing.
        assert!(book.monthly("2026-01", "2026-12").await.unwrap().is_empty());

        // The user's home disputes the external one: it counts for nothing.
        let mut disputed = confirmation(&signed, &external, 1);
        disputed.verdict = Verdict::Disputed {
            reason: "不是我".into(),
        };
        book.confirmed(&disputed.seal(&home), &home.public(), UnixTime(T))
            .await
            .unwrap();
        let f = &figures(&book).await[0].2;
        assert_eq!(
            (f.receipts, f.effective_minutes, f.external_minutes),
            (1, 120, 0)
        );
        assert_eq!((f.revenue_fen, f.external_revenue_fen), (10_500, 0));

        // As an older version left it: receipts, but no figures by month and no mark.
        let mut batch = Batch::new();
        for key in book
            .store
            .keys_with_prefix(Space::IssuedMonths, b"")
            .unwrap()
        {
            batch.delete(Space::IssuedMonths, key);
        }
        batch.delete(Space::Meta, MONTHS_INDEXED.to_vec());
        book.store.commit(batch).await.unwrap();
    }
    let (book, _) = book(dir.path(), &owner);
    let f = &figures(&book).await[0].2;
    assert_eq!(
        (f.receipts, f.effective_minutes, f.revenue_fen),
        (1, 120, 10_500)
    );
}

#[tokio::test]
async fn receipts_page_newest_first_by_standing_and_dates_from_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let (owner, home) = (SecretKey::generate(), SecretKey::generate());
    let hour = 3_600;
    {
        let (book, _) = book(dir.path(), &owner);
        // Ten uses an hour apart, each issued at its end.
        for n in 0..10 {
            let r = UsageReceipt {
                start: UnixTime(T + n * hour),
                end: UnixTime(T + n * hour + 1_800),
                preparation_minutes: 0,
                test_minutes: 30,
                post_processing_minutes: 0,
                issued_at: UnixTime(T + n * hour + 1_800),
                ..receipt(&format!("r{n}"))
            };
            let signed = book.issue(r.clone(), r.issued_at).await.unwrap();
            if n % 2 == 0 {
                let ok = confirmation(&signed, &r, 5).seal(&home);
                book.confirmed(&ok, &home.public(), r.issued_at)
                    .await
                    .unwrap();
            }
        }
        let all = book.page(None, (None, None), 0, 4).await.unwrap();
        assert_eq!((all.total, all.counts), (10, [5, 5, 0, 0]));
        let ids: Vec<&str> = all
            .items
            .iter()
            .map(|i| i.receipt.receipt_id.as_str())
            .collect();
        assert_eq!(ids, ["r9", "r8", "r7", "r6"]);
        let confirmed = book.page(Some(1), (None, None), 2, 10).await.unwrap();
        let ids: Vec<&str> = confirmed
            .items
            .iter()
            .map(|i| i.receipt.receipt_id.as_str())
            .collect();
        assert_eq!((confirmed.total, ids), (5, vec!["r4", "r2", "r0"]));
        // Issued from the third use's end to the sixth's, inclusive.
        let span = (
            Some(UnixTime(T + 2 * hour + 1_800)),
            Some(UnixTime(T + 5 * hour + 1_800)),
        );
        let between = book.page(None, span, 0, 10).await.unwrap();
        let ids: Vec<&str> = between
            .items
            .iter()
            .map(|i| i.receipt.receipt_id.as_str())
            .collect();
        assert_eq!((between.total, between.counts), (4, [2, 2, 0, 0]));
        assert_eq!(ids, ["r5", "r4", "r3", "r2"]);
        // The grace period ends: the awaiting ones move to single-signed.
        book.lapse(UnixTime(T + 30 * 86_400)).await.unwrap();
        let after = book.page(Some(2), (None, None), 0, 10).await.unwrap();
        assert_eq!((after.total, after.counts), (5, [0, 5, 5, 0]));

        // As an older version left it: receipts but no index and no mark.
        let mut batch = Batch::new();
        for key in book
            .store
            .keys_with_prefix(Space::IssuedByTime, b"")
            .unwrap()
        {
            batch.delete(Space::IssuedByTime, key);
        }
        batch.delete(Space::Meta, BY_TIME_INDEXED.to_vec());
        book.store.commit(batch).await.unwrap();
    }
    let (book, _) = book(dir.path(), &owner);
    let rebuilt = book.page(None, (None, None), 0, 1).await.unwrap();
    assert_eq!((rebuilt.total, rebuilt.counts), (10, [0, 5, 5, 0]));
    assert_eq!(rebuilt.items[0].receipt.receipt_id, "r9");
}
