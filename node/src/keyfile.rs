//! Secret key files: written with mode 0600, refused when others can read them, never
//! logged. The text form is armored so a wrong file gives a clear error.

use std::{
    fs,
    io::Write,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use alliance_protocol::{SecretKey, armor};

const LABEL: &str = "ALLIANCE SECRET KEY";

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} already exists; refusing to overwrite a key")]
    Exists { path: PathBuf },
    #[error("key file {path} can be read by other users (mode {mode:o}); run `chmod 600 {path}`")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{path} is not an alliance secret key file ({reason})")]
    NotAKey { path: PathBuf, reason: String },
}

/// Writes `text` to `path` with mode 0600, replacing the file at once (written beside it,
/// synced, then renamed), so a reader never sees half a secret.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

/// Writes a new key file with mode 0600. Never overwrites.
pub fn write_new(path: &Path, key: &SecretKey) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    if path.exists() {
        return Err(KeyFileError::Exists {
            path: path.to_owned(),
        });
    }
    if let Some(dir) = path.parent() {
        crate::private_dir::create(dir).map_err(io)?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    let text = format!(
        "# public key: {}\n{}",
        key.public(),
        armor::encode(LABEL, &key.seed())
    );
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// Reads a secret text file (a password, an HMAC secret) without its surrounding white
/// space, refusing one that group or others may read.
pub fn read_private(path: &Path) -> Result<String, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let mode = fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(fs::read_to_string(path).map_err(io)?.trim().to_owned())
}

/// Reads a key file, refusing one that group or others may read.
pub fn read(path: &Path) -> Result<SecretKey, KeyFileError> {
    let text = read_private(path)?;
    let not_a_key = |reason: String| KeyFileError::NotAKey {
        path: path.to_owned(),
        reason,
    };
    let seed = armor::decode(LABEL, &text).map_err(|e| not_a_key(e.to_string()))?;
    SecretKey::from_seed(&seed).map_err(|e| not_a_key(e.to_string()))
}

/// Reads the key at `path`, or creates one there if the file does not exist.
pub fn read_or_create(path: &Path) -> Result<SecretKey, KeyFileError> {
    if path.exists() {
        return read(path);
    }
    let key = SecretKey::generate();
    write_new(path, &key)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.key");
        let key = SecretKey::generate();
        write_new(&path, &key).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read(&path).unwrap().public(), key.public());
        assert!(matches!(
            write_new(&path, &key),
            Err(KeyFileError::Exists { .. })
        ));
    }

    #[test]
    fn readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.key");
        write_new(&path, &SecretKey::generate()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(read(&path), Err(KeyFileError::TooOpen { .. })));
    }

    #[test]
    fn a_wrong_file_gives_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.key");
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .unwrap()
            .write_all(b"[node]\nname = 1\n")
            .unwrap();
        let err = read(&path).unwrap_err();
        assert!(
            err.to_string().contains("not an alliance secret key"),
            "{err}"
        );
    }
}
