//! A real SMTP server for the notice tests: `tests/tools/smtp_catcher.py` (aiosmtpd) in
//! its own process, keeping each message as a file; read back with `mail-parser`.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

/// One message the catcher was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caught {
    /// The envelope's recipients.
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// The whole message as sent, headers and all.
    pub raw: String,
}

/// A running catcher; stopped when dropped.
#[derive(Debug)]
pub struct MailCatcher {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
}

/// A Python with aiosmtpd: the one on the path, or the system's (where Debian's
/// python3-aiosmtpd is, when the path leads to another Python).
fn python() -> &'static str {
    ["python3", "/usr/bin/python3"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", "import aiosmtpd"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect("no Python with aiosmtpd (Debian: python3-aiosmtpd; .ci/run installs it)")
}

fn spawn(dir: &Path, port: Option<u16>) -> (Child, u16) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/smtp_catcher.py");
    let mut command = Command::new(python());
    command.arg(script).arg(dir);
    if let Some(port) = port {
        command.arg(port.to_string());
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the mail catcher");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("its stdout"))
        .read_line(&mut line)
        .expect("the catcher's port");
    let port = line.trim().parse().expect("a port number");
    (child, port)
}

impl MailCatcher {
    /// Starts a catcher on an ephemeral port, keeping messages under `dir`.
    pub fn start(dir: &Path) -> MailCatcher {
        std::fs::create_dir_all(dir).unwrap();
        let (child, port) = spawn(dir, None);
        MailCatcher {
            child: Some(child),
            dir: dir.to_owned(),
            port,
        }
    }

    /// The URL a node's `notify.smtp_url` points at.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops the server: mail sent now is refused at the door.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let (child, _) = spawn(&self.dir, Some(self.port));
        self.child = Some(child);
    }

    /// Every message caught so far, in order.
    pub fn messages(&self) -> Vec<Caught> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| {
                let bytes = std::fs::read(path).unwrap();
                let raw = String::from_utf8_lossy(&bytes).into_owned();
                let to = raw
                    .lines()
                    .next()
                    .and_then(|l| l.strip_prefix("X-Envelope-To: "))
                    .map(|l| l.split(',').map(str::to_owned).collect())
                    .unwrap_or_default();
                let message = mail_parser::MessageParser::default()
                    .parse(&bytes)
                    .expect("a message");
                Caught {
                    to,
                    subject: message.subject().unwrap_or_default().to_owned(),
                    body: message
                        .body_text(0)
                        .map(|b| b.into_owned())
                        .unwrap_or_default(),
                    raw,
                }
            })
            .collect()
    }
}

impl Drop for MailCatcher {
    fn drop(&mut self) {
        self.stop();
    }
}
