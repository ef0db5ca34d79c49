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
