//! A check both the validator and the plugin host make before a plugin library is loaded.

use std::path::Path;

/// Why loading the library at `path` is refused, if it is: on Unix, a library file that any
/// user may write, or one in a folder any user may write without the sticky bit (where anyone
/// could replace it), could be swapped for other code, which would then run inside tenure.
/// Always `None` on other systems.
pub fn unsafe_permissions(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        const WORLD_WRITABLE: u32 = 0o002;
        const STICKY: u32 = 0o1000;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if mode & WORLD_WRITABLE != 0 {
            return Some(format!(
                "{} is writable by every user (mode {:o}); refusing to load it (chmod o-w)",
                path.display(),
                mode & 0o7777
            ));
        }
        let folder = std::fs::canonicalize(path).ok()?.parent()?.to_path_buf();
        let folder_mode = std::fs::metadata(&folder).ok()?.permissions().mode();
        if folder_mode & WORLD_WRITABLE != 0 && folder_mode & STICKY == 0 {
            return Some(format!(
                "{} is in {}, which every user may write to (mode {:o}); refusing to load it",
                path.display(),
                folder.display(),
                folder_mode & 0o7777
            ));
        }
        None
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
