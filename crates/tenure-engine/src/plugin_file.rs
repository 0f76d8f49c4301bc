//! The checks made on a plugin library's file before it is loaded: where it is, that it is a
//! shared library, and that nobody but its owner could have replaced it. `validate` reports them
//! at the config line (through [`check_plugins`]); the loader makes them again, since a file can
//! change in between.

use std::path::{Path, PathBuf};

use tenure_plan::schema::{LibraryProblem, PluginProblem};
use tenure_plan::{Plan, PluginDef};

/// Every plugin library of the plan that cannot be loaded, with why.
pub fn check_plugins(plan: &Plan) -> Vec<PluginProblem> {
    let mut plugins: Vec<&PluginDef> = plan.segments.iter().map(|s| &s.plugin).collect();
    plugins.sort_by(|a, b| a.name.cmp(&b.name));
    plugins.dedup_by(|a, b| a.name == b.name);
    plugins
        .into_iter()
        .filter_map(|plugin| {
            library_file(plugin).err().map(|problem| PluginProblem {
                plugin: plugin.name.clone(),
                problem,
            })
        })
        .collect()
}

/// The library file of a plugin: its path as written, or with the platform's library prefix and
/// suffix (`lib….so`, `lib….dylib`, `….dll`); it must be a shared library that only its owner
/// can replace.
pub(crate) fn library_file(plugin: &PluginDef) -> Result<PathBuf, LibraryProblem> {
    let written = &plugin.path;
    let mut candidates = vec![written.clone()];
    if let Some(file) = written.file_name().and_then(|f| f.to_str()) {
        let suffix = std::env::consts::DLL_SUFFIX;
        let prefix = std::env::consts::DLL_PREFIX;
        if !file.ends_with(suffix) {
            candidates.push(written.with_file_name(format!("{file}{suffix}")));
            if !file.starts_with(prefix) {
                candidates.push(written.with_file_name(format!("{prefix}{file}{suffix}")));
            }
        }
    }
    let Some(found) = candidates.iter().find(|c| c.is_file()) else {
        return Err(LibraryProblem::NotFound {
            tried: candidates.iter().map(|c| c.display().to_string()).collect(),
        });
    };
    if !is_shared_library(found) {
        return Err(LibraryProblem::NotALibrary {
            path: found.display().to_string(),
        });
    }
    if let Some(refusal) = unsafe_permissions(found) {
        return Err(LibraryProblem::UnsafePermissions { refusal });
    }
    Ok(found.clone())
}

/// Whether the file starts as an ELF, PE or Mach-O (thin or fat) file does.
fn is_shared_library(path: &Path) -> bool {
    let mut header = [0u8; 4];
    let readable = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
    readable.is_ok()
        && (header == *b"\x7fELF"
            || header[..2] == *b"MZ"
            || matches!(
                u32::from_be_bytes(header),
                0xfeedface | 0xfeedfacf | 0xcefaedfe | 0xcffaedfe | 0xcafebabe
            ))
}

/// Why loading the library at `path` is refused, if it is: on Unix, a library file that any
/// user may write, or one in a folder any user may write without the sticky bit (where anyone
/// could replace it), could be swapped for other code, which would then run inside tenure.
/// Always `None` on other systems.
pub(crate) fn unsafe_permissions(path: &Path) -> Option<String> {
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
