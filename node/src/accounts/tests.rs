#![allow(clippy::unwrap_used)]

use super::*;

fn accounts() -> (tempfile::TempDir, Accounts) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, Accounts::new(store))
}

fn new(username: &str, role: AccountRole) -> NewAccount {
    NewAccount {
        username: username.into(),
        password: "correct horse battery".into(),
        display_name: "王工".into(),
        role,
        organization: String::new(),
        email: "wang@example.cn".into(),
        phone: String::new(),
    }
}

#[tokio::test]
async fn login_checks_the_password_and_sessions_end_on_logout() {
    let (_dir, accounts) = accounts();
    accounts
        .create(new("wang", AccountRole::Researcher))
        .await
        .unwrap();
    assert_eq!(
        accounts.login("wang", "wrong password!").await.unwrap_err(),
        AccountError::InvalidCredentials
    );
    assert_eq!(
        accounts
            .login("nobody", "correct horse battery")
            .await
            .unwrap_err(),
        AccountError::InvalidCredentials
    );
    let session = accounts
        .login("wang", "correct horse battery")
        .await
        .unwrap();
    assert_eq!(
        accounts
            .session(&session.token)
            .await
            .unwrap()
            .account
            .username,
        "wang"
    );
    accounts.logout(&session.token).await;
    assert!(accounts.session(&session.token).await.is_none());
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes() {
    let (_dir, accounts) = accounts();
    accounts
        .create(new("liwei", AccountRole::InstitutionAdmin))
        .await
        .unwrap();
    let stored = accounts.load("liwei").unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));
    assert!(!stored.password_hash.contains("correct horse"));
}

#[tokio::test]
async fn registrations_wait_for_approval() {
    let (_dir, accounts) = accounts();
    let reg = Registration {
        username: "firm-zhao".into(),
        password: "a long enough pass".into(),
        display_name: "赵经理".into(),
        organization: "大连某新材料有限公司".into(),
        email: "zhao@firm.cn".into(),
        phone: "0411-8888".into(),
    };
    let account = accounts.register(reg).await.unwrap();
    assert_eq!(
        (account.role, account.state),
        (AccountRole::ExternalUser, AccountState::Pending)
    );
    assert_eq!(
        accounts
            .login("firm-zhao", "a long enough pass")
            .await
            .unwrap_err(),
        AccountError::Pending
    );
    accounts
        .set_state("firm-zhao", AccountState::Active)
        .await
        .unwrap();
    let session = accounts
        .login("firm-zhao", "a long enough pass")
        .await
        .unwrap();
    accounts
        .set_state("firm-zhao", AccountState::Disabled)
        .await
        .unwrap();
    assert!(
        accounts.session(&session.token).await.is_none(),
        "disabling ends sessions"
    );
}

#[tokio::test]
async fn bad_fields_name_the_field_and_duplicates_are_refused() {
    let (_dir, accounts) = accounts();
    let mut short = new("zhou", AccountRole::Researcher);
    short.password = "short".into();
    assert!(
        matches!(accounts.create(short).await, Err(AccountError::Invalid { field, .. }) if field == "password")
    );
    let mut bad_email = new("zhou", AccountRole::Researcher);
    bad_email.email = "not-an-email".into();
    assert!(
        matches!(accounts.create(bad_email).await, Err(AccountError::Invalid { field, .. }) if field == "email")
    );
    assert!(
        matches!(accounts.create(new("Zhou Li", AccountRole::Researcher)).await, Err(AccountError::Invalid { field, .. }) if field == "username")
    );
    accounts
        .create(new("zhou", AccountRole::Researcher))
        .await
        .unwrap();
    assert_eq!(
        accounts
            .create(new("zhou", AccountRole::Researcher))
            .await
            .unwrap_err(),
        AccountError::UsernameTaken
    );
}

#[tokio::test]
async fn accounts_survive_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    {
        let accounts = Accounts::new(Store::open(dir.path()).unwrap());
        accounts
            .create(new("sun", AccountRole::InstrumentManager))
            .await
            .unwrap();
    }
    let accounts = Accounts::new(Store::open(dir.path()).unwrap());
    assert!(accounts.login("sun", "correct horse battery").await.is_ok());
}

fn registration(username: &str) -> Registration {
    Registration {
        username: username.into(),
        password: "a long enough pass".into(),
        display_name: "赵经理".into(),
        organization: "大连某新材料有限公司".into(),
        email: "zhao@firm.cn".into(),
        phone: String::new(),
    }
}

fn session_count(accounts: &Accounts) -> usize {
    accounts
        .store
        .scan_prefix(Space::Sessions, b"")
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_taken_username_stores_nothing_and_the_pending_queue_is_capped() {
    let (_dir, accounts) = accounts();
    let limits = SignInLimits {
        max_pending_registrations: 2,
        ..SignInLimits::default()
    };
    let accounts = accounts.with_limits(&limits);
    accounts
        .create(new("wang", AccountRole::Researcher))
        .await
        .unwrap();
    let mut taken = registration("wang");
    taken.display_name = "冒名者".into();
    assert_eq!(
        accounts.register(taken).await.unwrap_err(),
        AccountError::UsernameTaken
    );
    let wang = accounts.load("wang").unwrap().unwrap();
    assert_eq!(
        wang.account.display_name, "王工",
        "the account is untouched"
    );
    assert!(
        accounts
            .login("wang", "correct horse battery")
            .await
            .is_ok()
    );

    accounts.register(registration("firm-a")).await.unwrap();
    accounts.register(registration("firm-b")).await.unwrap();
    assert_eq!(
        accounts.register(registration("firm-c")).await.unwrap_err(),
        AccountError::RegistrationsClosed
    );
    assert!(accounts.load("firm-c").unwrap().is_none());
    // Deciding on one makes room again; accounts made by administrators are not capped.
    accounts
        .set_state("firm-a", AccountState::Active)
        .await
        .unwrap();
    accounts.register(registration("firm-c")).await.unwrap();
    accounts
        .create(new("zhou", AccountRole::Researcher))
        .await
        .unwrap();
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_only() {
    let (_dir, accounts) = accounts();
    accounts
        .create(new("wang", AccountRole::Researcher))
        .await
        .unwrap();
    accounts
        .create(new("liwei", AccountRole::Researcher))
        .await
        .unwrap();
    let here = accounts
        .login("wang", "correct horse battery")
        .await
        .unwrap();
    let there = accounts
        .login("wang", "correct horse battery")
        .await
        .unwrap();
    let other = accounts
        .login("liwei", "correct horse battery")
        .await
        .unwrap();
    assert_eq!(
        accounts
            .change_password(&here.token, "not the password", "a brand new secret")
            .await
            .unwrap_err(),
        AccountError::InvalidCredentials
    );
    assert!(matches!(
        accounts
            .change_password(&here.token, "correct horse battery", "short")
            .await,
        Err(AccountError::Invalid { field, .. }) if field == "new_password"
    ));
    assert!(
        accounts.session(&there.token).await.is_some(),
        "nothing changed yet"
    );

    accounts
        .change_password(&here.token, "correct horse battery", "a brand new secret")
        .await
        .unwrap();
    assert!(
        accounts.session(&here.token).await.is_some(),
        "this session stays"
    );
    assert!(
        accounts.session(&there.token).await.is_none(),
        "the other one ends"
    );
    assert!(
        accounts.session(&other.token).await.is_some(),
        "other accounts keep theirs"
    );
    assert_eq!(
        accounts
            .login("wang", "correct horse battery")
            .await
            .unwrap_err(),
        AccountError::InvalidCredentials
    );
    assert!(accounts.login("wang", "a brand new secret").await.is_ok());
}

#[tokio::test]
async fn a_reset_ends_every_session_and_disabling_ends_them_for_good() {
    let (_dir, accounts) = accounts();
    accounts
        .create(new("wang", AccountRole::Researcher))
        .await
        .unwrap();
    let session = accounts
        .login("wang", "correct horse battery")
        .await
        .unwrap();
    accounts
        .reset_password("wang", "reset-pass-2345")
        .await
        .unwrap();
    assert!(accounts.session(&session.token).await.is_none());
    assert_eq!(session_count(&accounts), 0);
    assert_eq!(
        accounts.reset_password("nobody", "reset-pass-2345").await,
        Err(AccountError::NotFound)
    );
    let session = accounts.login("wang", "reset-pass-2345").await.unwrap();
    accounts
        .set_state("wang", AccountState::Disabled)
        .await
        .unwrap();
    accounts
        .set_state("wang", AccountState::Active)
        .await
        .unwrap();
    assert!(
        accounts.session(&session.token).await.is_none(),
        "enabling again does not revive old sessions"
    );
}

#[tokio::test]
async fn an_unused_session_ends_after_the_idle_timeout_and_use_keeps_it() {
    let (_dir, accounts) = accounts();
    let accounts = accounts.with_limits(&SignInLimits {
        idle_timeout: std::time::Duration::from_secs(600),
        ..SignInLimits::default()
    });
    accounts
        .create(new("wang", AccountRole::Researcher))
        .await
        .unwrap();
    let used = accounts
        .login("wang", "correct horse battery")
        .await
        .unwrap();
    let unused = accounts
        .login("wang", "correct horse battery")
        .await
        .unwrap();
    let start = UnixTime::now().0;
    // Used every 5 minutes for an hour: alive throughout.
    for step in 1..=12 {
        let at = start + step * 300;
        assert!(
            accounts.session_at(&used.token, at).await.is_some(),
            "{step}"
        );
    }
    assert!(
        accounts
            .session_at(&unused.token, start + 601)
            .await
            .is_none()
    );
    assert!(
        accounts
            .session_at(&used.token, start + 3600 + 601)
            .await
            .is_none(),
        "then left alone past the idle timeout"
    );
}

#[tokio::test]
async fn expired_sessions_are_purged() {
    let (_dir, accounts) = accounts();
    let accounts = accounts.with_limits(&SignInLimits {
        idle_timeout: std::time::Duration::from_secs(24 * 3600),
        ..SignInLimits::default()
    });
    accounts
        .create(new("wang", AccountRole::Researcher))
        .await
        .unwrap();
    let first = accounts
        .login("wang", "correct horse battery")
        .await
        .unwrap();
    let second = accounts
        .login("wang", "correct horse battery")
        .await
        .unwrap();
    let start = UnixTime::now().0;
    assert_eq!(accounts.purge_expired_at(start).await.unwrap(), 0);
    assert_eq!(session_count(&accounts), 2);
    // Keep the second in use until after the first's lifetime ends.
    let late = start + SESSION_LIFETIME_SECS - 10;
    assert!(accounts.session_at(&second.token, late).await.is_some());
    assert_eq!(
        accounts
            .purge_expired_at(start + SESSION_LIFETIME_SECS + 5)
            .await
            .unwrap(),
        2,
        "both have outlived their 12 hours"
    );
    assert_eq!(session_count(&accounts), 0);
    assert!(accounts.session(&first.token).await.is_none());

    // Idle ones go too.
    let accounts = accounts.with_limits(&SignInLimits::default());
    let idle = accounts
        .login("wang", "correct horse battery")
        .await
        .unwrap();
    let busy = accounts
        .login("wang", "correct horse battery")
        .await
        .unwrap();
    let start = UnixTime::now().0;
    assert!(
        accounts
            .session_at(&busy.token, start + 3000)
            .await
            .is_some()
    );
    assert_eq!(accounts.purge_expired_at(start + 3700).await.unwrap(), 1);
    assert!(
        accounts
            .session_at(&idle.token, start + 3700)
            .await
            .is_none()
    );
    assert!(
        accounts
            .session_at(&busy.token, start + 3700)
            .await
            .is_some()
    );
}
