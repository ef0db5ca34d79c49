//! Directories that hold a node's data (accounts, password hashes, keys, feeds): created
//! mode 0700, so other local users cannot read them whatever the umask.

use std::{fs::DirBuilder, io, os::unix::fs::DirBuilderExt, path::Path};

/// Creates `dir` and any missing parents with mode 0700. An existing directory is left as
/// it is (its owner may have chosen its mode).
pub(crate) fn create(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn new_directories_are_private_to_their_owner() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create(&dir).unwrap();
        for d in [root.path().join("a"), dir.clone()] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        // Again: nothing to do, no error.
        create(&dir).unwrap();
    }
}
