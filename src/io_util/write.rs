//! Atomic replace.
//!
//! A write goes to a temporary file beside the target (created exclusively,
//! so two writers never share one), is synced, takes the target's mode and
//! owner, and is renamed over the target: a reader sees the old file or the
//! new one, never half of either. A symlink is followed and its target
//! replaced, so the link stays a link and the real file gets the data. The
//! temporary file is removed on every error path (a full disk, a failed
//! encoder); one left by a killed process is removed by
//! [`remove_stale_temps`].

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest chain of symlinks followed (Linux's own limit).
const MAX_LINKS: usize = 40;
const TEMP_TAG: &str = ".spinfit-";

/// Write `bytes` to `path` atomically (see the module docs).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |tmp| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(tmp)
            .map_err(|e| Error::io(tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(tmp, e))
    })
}

/// Atomic replace of `path` by what `fill` writes into the (already
/// created, empty) temporary file whose path it is given.
pub fn write_with(path: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let target = resolve_links(path)?;
    let old = std::fs::metadata(&target).ok();
    if old.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(Error::input(
            target.display().to_string(),
            "is a directory: cannot write a file there",
        ));
    }
    let tmp = Temp::create(&target)?;
    fill(&tmp.0)?;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&tmp.0)
        .map_err(|e| Error::io(&tmp.0, e))?;
    if let Some(m) = &old {
        keep_mode_and_owner(&f, m, &target)?;
    }
    f.sync_all().map_err(|e| Error::io(&tmp.0, e))?;
    drop(f);
    std::fs::rename(&tmp.0, &target).map_err(|e| Error::io(&target, e))?;
    std::mem::forget(tmp);
    Ok(())
}

/// The file a path finally names: symlinks followed (relative ones from
/// the link's folder), at most [`MAX_LINKS`] deep.
pub(super) fn resolve_links(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p).map_err(|e| Error::io(&p, e))?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(Error::input(
        path.display().to_string(),
        format!("more than {MAX_LINKS} symlinks deep (a loop?)"),
    ))
}

#[cfg(unix)]
fn keep_mode_and_owner(f: &std::fs::File, old: &std::fs::Metadata, target: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let now = f.metadata().map_err(|e| Error::io(target, e))?;
    if (now.uid(), now.gid()) != (old.uid(), old.gid())
        && std::os::unix::fs::fchown(f, Some(old.uid()), Some(old.gid())).is_err()
    {
        return Err(Error::input(
            target.display().to_string(),
            format!(
                "owned by uid {} gid {}, which this user cannot keep on a replacement: nothing written (write as that user)",
                old.uid(),
                old.gid()
            ),
        ));
    }
    f.set_permissions(old.permissions())
        .map_err(|e| Error::io(target, e))
}

#[cfg(not(unix))]
fn keep_mode_and_owner(f: &std::fs::File, old: &std::fs::Metadata, target: &Path) -> Result<()> {
    f.set_permissions(old.permissions())
        .map_err(|e| Error::io(target, e))
}

/// A temporary file beside its target, removed when dropped (every error
/// path); `forget` once renamed.
struct Temp(PathBuf);

impl Temp {
    fn create(target: &Path) -> Result<Temp> {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = file_name(target);
        loop {
            let p = dir.join(format!(
                ".{name}{TEMP_TAG}{}-{}.tmp",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&p)
            {
                Ok(_) => return Ok(Temp(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&p, e)),
            }
        }
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// Remove temporary files of `path` left by writers that no longer run
/// (killed mid-write): the process id in the name is not alive. Returns how
/// many were removed.
pub fn remove_stale_temps(path: &Path) -> usize {
    let Ok(target) = resolve_links(path) else {
        return 0;
    };
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = format!(".{}{TEMP_TAG}", file_name(&target));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|s| s.parse::<u32>().ok());
        if pid.is_some_and(|p| !alive(p)) && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether a process of this id runs on this machine.
#[cfg(unix)]
pub(super) fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
pub(super) fn alive(_pid: u32) -> bool {
    true
}

/// If `path` is a symlink, remove the link (never its target) and return
/// where it pointed: an output folder is written into, not through.
pub fn detach_symlink(path: &Path) -> Result<Option<PathBuf>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            let to = std::fs::read_link(path).map_err(|e| Error::io(path, e))?;
            std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
            Ok(Some(to))
        }
        _ => Ok(None),
    }
}

/// A folder that outputs are written into, never through: a symlink found
/// at an output's name is removed (its target untouched) and listed, so a
/// link planted in `--out` cannot redirect a write onto another file.
pub struct OutDir {
    dir: PathBuf,
    replaced: std::sync::Mutex<Vec<(PathBuf, PathBuf)>>,
}

impl OutDir {
    /// Create the folder (and its parents) if needed.
    pub fn create(dir: &Path) -> Result<OutDir> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(OutDir {
            dir: dir.to_path_buf(),
            replaced: Default::default(),
        })
    }
    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// Path of output `name`, with any symlink there removed.
    pub fn path(&self, name: &str) -> Result<PathBuf> {
        let p = self.dir.join(name);
        if let Some(to) = detach_symlink(&p)?
            && let Ok(mut v) = self.replaced.lock()
        {
            v.push((p.clone(), to));
        }
        Ok(p)
    }
    /// The symlinks replaced so far: (link, where it pointed).
    pub fn replaced(&self) -> Vec<(PathBuf, PathBuf)> {
        self.replaced.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_replace_keeps_mode_and_link_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.csv");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = d.path().join("link.csv");
        std::os::unix::fs::symlink("real.csv", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // a failing writer leaves the old file and no temporary file
        let r = write_with(&real, |_| Err(Error::input("x", "disk full")));
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
        // a loop of links is refused, not followed for ever
        let a = d.path().join("a");
        let b = d.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(
            write_atomic(&a, b"x")
                .unwrap_err()
                .to_string()
                .contains("symlinks deep")
        );
    }

    #[test]
    fn an_output_folder_is_written_into_not_through() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        let out = OutDir::create(&d.path().join("out")).unwrap();
        std::os::unix::fs::symlink(&victim, out.dir().join("summary.md")).unwrap();
        write_atomic(&out.path("summary.md").unwrap(), b"report").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(
            std::fs::read_to_string(out.dir().join("summary.md")).unwrap(),
            "report"
        );
        assert_eq!(out.replaced().len(), 1);
    }

    #[test]
    fn stale_temps_of_dead_writers_are_removed_live_ones_kept() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("data.csv");
        // pid 0x7ffffffe is beyond pid_max on Linux: never alive
        let dead = d
            .path()
            .join(format!(".data.csv{TEMP_TAG}2147483646-0.tmp"));
        let live = d
            .path()
            .join(format!(".data.csv{TEMP_TAG}{}-99.tmp", std::process::id()));
        std::fs::write(&dead, "x").unwrap();
        std::fs::write(&live, "x").unwrap();
        assert_eq!(remove_stale_temps(&t), 1);
        assert!(!dead.exists() && live.exists());
    }
}
