//! The `alliance` command line: set-up flow and clear errors for broken files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{fs, os::unix::fs::PermissionsExt, path::Path, process::Output};

fn alliance(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_alliance"));
    cmd.args(args).env("RUST_LOG", "error");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn value_after(out: &Output, label: &str) -> String {
    text(out)
        .lines()
        .find_map(|l| l.strip_prefix(label).map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| panic!("no {label} in {}", text(out)))
}

fn init_province(dir: &Path, http_listen: &str) -> Output {
    let d = dir.join("province");
    alliance(
        &[
            "init",
            "--role",
            "province",
            "--institution-id",
            "lnsti",
            "--name-zh",
            "辽宁省科学技术厅",
            "--name-en",
            "Liaoning DST",
            "--data-dir",
            d.to_str().unwrap(),
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--http-listen",
            http_listen,
        ],
        &[("ALLIANCE_ADMIN_PASSWORD", "province-admin-pass")],
    )
}

#[test]
fn init_issue_and_revoke_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = init_province(dir.path(), "127.0.0.1:0");
    assert!(out.status.success(), "{}", text(&out));
    let root = value_after(&out, "root public key:");
    let province_config = dir.path().join("province/alliance.toml");
    let key_mode = fs::metadata(dir.path().join("province/root.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600);

    let member_dir = dir.path().join("member");
    let out = alliance(
        &[
            "init",
            "--role",
            "member",
            "--institution-id",
            "dlut",
            "--name-zh",
            "大连理工大学",
            "--name-en",
            "DUT",
            "--data-dir",
            member_dir.to_str().unwrap(),
            "--root-public-key",
            &root,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let node_key = value_after(&out, "node public key:");
    assert!(
        text(&out).contains("administrator:"),
        "a generated admin password is shown once"
    );

    let cert_path = member_dir.join("node.cert");
    let out = alliance(
        &[
            "province",
            "issue-cert",
            "--config",
            province_config.to_str().unwrap(),
            "--node-public-key",
            &node_key,
            "--institution-id",
            "dlut",
            "--name-zh",
            "大连理工大学",
            "--name-en",
            "DUT",
            "--valid-days",
            "365",
            "--out",
            cert_path.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        fs::read_to_string(&cert_path)
            .unwrap()
            .contains("BEGIN ALLIANCE CERTIFICATE")
    );

    let out = alliance(
        &[
            "province",
            "revoke",
            "--config",
            province_config.to_str().unwrap(),
            "2",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("serial 2 revoked"));
    let out = alliance(
        &[
            "province",
            "revoke",
            "--config",
            province_config.to_str().unwrap(),
            "2",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("already revoked"), "{}", text(&out));
}

#[test]
fn broken_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(init_province(dir.path(), "127.0.0.1:0").status.success());
    let root = dir.path().join("province");
    let config = root.join("alliance.toml");
    let config_arg = config.to_str().unwrap();

    // A config with an unknown field names the field.
    let original = fs::read_to_string(&config).unwrap();
    fs::write(&config, original.replace("[http]", "[http]\nport = 80")).unwrap();
    let out = alliance(&["run", "--config", config_arg], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("unknown field `port`"),
        "{}",
        text(&out)
    );
    fs::write(&config, &original).unwrap();

    // A missing certificate says what to do.
    fs::rename(root.join("node.cert"), root.join("node.cert.bak")).unwrap();
    let out = alliance(&["run", "--config", config_arg], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no membership certificate"),
        "{}",
        text(&out)
    );
    fs::rename(root.join("node.cert.bak"), root.join("node.cert")).unwrap();

    // A key file that is not a key, or is readable by others.
    let key = root.join("node.key");
    let saved = fs::read(&key).unwrap();
    fs::write(&key, "not a key").unwrap();
    let out = alliance(&["run", "--config", config_arg], &[]);
    assert!(
        text(&out).contains("not an alliance secret key"),
        "{}",
        text(&out)
    );
    fs::write(&key, saved).unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let out = alliance(&["run", "--config", config_arg], &[]);
    assert!(text(&out).contains("chmod 600"), "{}", text(&out));
}

/// With the province node running, `issue-cert` and `revoke` go through its control API and
/// the node publishes each new roster at once.
#[test]
fn province_commands_reach_the_running_node() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = init_province(dir.path(), &format!("127.0.0.1:{port}"));
    let d = dir.path().join("province");
    assert!(out.status.success(), "{}", text(&out));
    let config = d.join("alliance.toml");
    let config = config.to_str().unwrap();
    let mut node = Running(
        std::process::Command::new(env!("CARGO_BIN_EXE_alliance"))
            .args(["run", "--config", config])
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let roster_version = || -> Option<u64> {
        let out = alliance(&["status", "--config", config], &[]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        json["roster_version"].as_u64()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while roster_version().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the node never answered"
        );
        // Polling another process: there is no event to wait on.
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let before = roster_version().unwrap();

    let member_key = alliance_protocol::SecretKey::generate()
        .public()
        .to_string();
    let out = alliance(
        &[
            "province",
            "issue-cert",
            "--config",
            config,
            "--node-public-key",
            &member_key,
            "--institution-id",
            "neu",
            "--name-zh",
            "东北大学",
            "--name-en",
            "NEU",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("BEGIN ALLIANCE CERTIFICATE"));
    assert_eq!(
        roster_version(),
        Some(before + 1),
        "the running node did not publish the roster"
    );
    let out = alliance(&["province", "revoke", "--config", config, "2"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(roster_version(), Some(before + 2));

    let out = alliance(
        &[
            "user",
            "add",
            "--config",
            config,
            "--username",
            "reviewer",
            "--role",
            "province_admin",
            "--display-name",
            "审核员",
        ],
        &[("ALLIANCE_PASSWORD", "reviewer-password")],
    );
    assert!(out.status.success(), "{}", text(&out));

    let _ = std::process::Command::new("kill")
        .args(["-INT", &node.0.id().to_string()])
        .status();
    assert!(
        node.0.wait().unwrap().success(),
        "the node did not stop cleanly"
    );
}

/// A node process, killed when the test ends however it ends (a failed assertion must
/// not leave it running).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
