//! Files that hold keys (`project-*.json`, `status.json`, `.dev.vars`): readable by their
//! owner only, as the Supabase CLI keeps its own secrets, whatever the umask.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Owner read/write, nobody else.
pub const MODE: u32 = 0o600;

/// Writes `contents` to `path` with mode 0600. A file an older version left world-readable is
/// narrowed to 0600 after it is emptied and before the secret goes in, so no one else can read
/// the secret even for a moment.
pub fn write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(MODE)
        .open(path)?;
    // `mode` applies only when the file is created.
    file.set_permissions(std::fs::Permissions::from_mode(MODE))?;
    file.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn secret_files_are_owner_only_even_when_they_were_world_readable() {
        let dir = std::env::temp_dir().join(format!("devstack-secret-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.json");
        write(&path, b"first").unwrap();
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, b"second").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
