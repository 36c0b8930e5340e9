//! # charter-durable
//!
//! One primitive: replacing a small file durably. The guarded signers' records and the
//! federation's certificates are written this way, because a signer that forgot what it
//! signed after a crash could sign a conflict. Stable: the on-disk effect is the POSIX
//! write-temporary, fsync, rename, fsync-directory sequence.

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes` so that a crash at any instant leaves the old or the new
/// contents, never a mix: a temporary file, fsync, rename over the old one, fsync of the
/// directory.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let directory = path.parent().unwrap_or(Path::new("."));
    let temporary = path.with_extension("tmp");
    let mut file = File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    File::open(directory)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_contents_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.json");
        write_durably(&path, b"first").unwrap();
        write_durably(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["record.json"]);
    }
}
