#![allow(clippy::unwrap_used)]

use super::*;

const MEMBER: &str = r#"
[node]
institution_id = "dlut"
name_zh = "大连理工大学"
name_en = "Dalian University of Technology"
role = "member"
data_dir = "data"

[alliance]
root_public_key = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
"#;

#[test]
fn minimal_member_config_gets_safe_defaults() {
    let config = Config::parse(MEMBER).unwrap();
    assert!(config.http.listen.ip().is_loopback());
    assert_eq!(config.alliance.handshake_grace, Duration::from_secs(5));
    assert!(config.check().is_ok());
}

#[test]
fn unknown_fields_are_refused_with_their_name() {
    let text = MEMBER.replace("role = \"member\"", "role = \"member\"\ncolour = \"blue\"");
    let err = Config::parse(&text).unwrap_err();
    assert!(err.contains("colour"), "{err}");
}

#[test]
fn zero_and_absurd_intervals_are_refused_by_name() {
    for (line, field) in [
        (
            "[network]\nannounce_interval = \"0s\"",
            "network.announce_interval",
        ),
        (
            "[network]\nredial_interval = \"0s\"",
            "network.redial_interval",
        ),
        (
            "[catalogue]\nsync_interval = \"0s\"",
            "catalogue.sync_interval",
        ),
        (
            "[booking]\nretry_interval = \"0s\"",
            "booking.retry_interval",
        ),
        (
            "[receipts]\nlog_check_interval = \"0s\"",
            "receipts.log_check_interval",
        ),
        (
            "[monitoring]\nheartbeat_interval = \"0s\"",
            "monitoring.heartbeat_interval",
        ),
        (
            "[network]\nredial_interval = \"100000years\"",
            "network.redial_interval",
        ),
        (
            "[alliance]\nhandshake_grace = \"0s\"",
            "alliance.handshake_grace",
        ),
    ] {
        // Sections may appear once: put the line under the section the text has, or add it.
        let text = if line.starts_with("[alliance]") {
            MEMBER.replace("[alliance]", line)
        } else {
            format!("{MEMBER}\n{line}\n")
        };
        let config = Config::parse(&text).unwrap();
        let err = config.check().unwrap_err();
        assert!(err.starts_with(field), "{field}: {err}");
        assert!(config.check_runnable().is_err(), "{field}");
    }
}

#[test]
fn a_confirmation_grace_below_the_floor_is_refused_in_files_only() {
    let text = format!("{MEMBER}\n[receipts]\nconfirmation_grace = \"0s\"\n");
    let config = Config::parse(&text).unwrap();
    let err = config.check().unwrap_err();
    assert!(err.starts_with("receipts.confirmation_grace"), "{err}");
    // A node embedded in code (tests, tools) may lapse receipts at once.
    assert!(config.check_runnable().is_ok());
}

#[test]
fn a_public_listener_needs_secure_cookies() {
    let text = format!("{MEMBER}\n[http]\nlisten = \"0.0.0.0:8080\"\n");
    let err = Config::parse(&text).unwrap().check().unwrap_err();
    assert!(err.starts_with("http.listen"), "{err}");
    assert!(err.contains("http.secure_cookies"), "{err}");
    let secure = text.replace("[http]", "[http]\nsecure_cookies = true");
    assert!(Config::parse(&secure).unwrap().check().is_ok());
}

#[test]
fn a_config_file_with_a_zero_interval_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alliance.toml");
    std::fs::write(
        &path,
        format!("{MEMBER}\n[booking]\nretry_interval = \"0s\"\n"),
    )
    .unwrap();
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(err.contains("booking.retry_interval"), "{err}");
}

#[test]
fn network_limits_are_checked_by_name() {
    let mut config = Config::parse(MEMBER).unwrap();
    assert!(config.check_network_limits().is_ok());
    config.network.max_connections_per_ip = 0;
    let err = config.check().unwrap_err();
    assert!(err.contains("network.max_connections_per_ip"), "{err}");
    config.network.max_connections_per_ip = 2_000;
    let err = config.check_network_limits().unwrap_err();
    assert!(err.contains("network.max_connections_per_ip"), "{err}");
    config.network.max_connections_per_ip = 8;
    config.booking.remembered_cancels_per_home = 0;
    let err = config.check_network_limits().unwrap_err();
    assert!(err.contains("booking.remembered_cancels_per_home"), "{err}");
}

#[test]
fn sign_in_limits_are_checked() {
    let text = format!("{MEMBER}\n[sign_in]\nlockout_base = \"0s\"\n");
    let config = Config::parse(&text).unwrap();
    assert!(
        config
            .check()
            .unwrap_err()
            .contains("sign_in.lockout_base must be at least 1s")
    );
}

#[test]
fn aggregator_needs_its_root_key_section() {
    let text = MEMBER.replace("role = \"member\"", "role = \"aggregator\"");
    let config = Config::parse(&text).unwrap();
    assert!(config.check().unwrap_err().contains("[province]"));
}
