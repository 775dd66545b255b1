//! Workspace containment. Every path a tool touches is resolved against the workspace's
//! canonical root with symlinks followed, and refused when the result lies outside it.

use std::path::{Component, Path, PathBuf};

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The workspace folder itself is unusable.
    #[error("the workspace folder {0} cannot be used: {1}")]
    BadRoot(String, String),
    /// The path is absolute or climbs out of the workspace.
    #[error("{0} is outside the workspace")]
    Outside(String),
    /// The path is empty or has characters no file system accepts.
    #[error("{0:?} is not a usable path")]
    Invalid(String),
    /// Resolving it failed.
    #[error("{0}: {1}")]
    Io(String, String),
}

/// A workspace: a folder the user chose, by its canonical path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// Opens the folder the user chose.
    pub fn new(dir: &Path) -> Result<Workspace, PathError> {
        let shown = dir.display().to_string();
        let root = dir
            .canonicalize()
            .map_err(|e| PathError::BadRoot(shown.clone(), e.to_string()))?;
        if !root.is_dir() {
            return Err(PathError::BadRoot(shown, "not a folder".into()));
        }
        Ok(Workspace { root })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves a path the model gave (relative to the root, or absolute inside it) to a real
    /// path inside the workspace. Existing parts are canonicalised (symlinks followed); a
    /// not-yet-existing tail (a file to create) must not contain `..`. The result is inside
    /// the root or an error.
    pub fn resolve(&self, given: &str) -> Result<PathBuf, PathError> {
        if given.is_empty() || given.contains('\0') {
            return Err(PathError::Invalid(given.to_owned()));
        }
        let p = Path::new(given);
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        };
        // Split into the longest existing prefix and the rest.
        let mut existing = joined.clone();
        let mut tail: Vec<std::ffi::OsString> = Vec::new();
        loop {
            if std::fs::symlink_metadata(&existing).is_ok() {
                break;
            }
            match (existing.file_name(), existing.parent()) {
                (Some(name), Some(parent)) => {
                    tail.push(name.to_owned());
                    existing = parent.to_path_buf();
                }
                _ => return Err(PathError::Outside(given.to_owned())),
            }
        }
        let mut real = existing
            .canonicalize()
            .map_err(|e| PathError::Io(given.to_owned(), e.to_string()))?;
        for part in tail.iter().rev() {
            match Path::new(part).components().next() {
                Some(Component::Normal(_)) => real.push(part),
                _ => return Err(PathError::Outside(given.to_owned())),
            }
        }
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(PathError::Outside(given.to_owned()))
        }
    }

    /// The path relative to the root, for display.
    pub fn relative<'a>(&self, real: &'a Path) -> &'a Path {
        real.strip_prefix(&self.root).unwrap_or(real)
    }

    /// True for paths that always need the user's approval to write, whatever was granted:
    /// version-control internals and the app's own data and configuration.
    pub fn is_protected(&self, real: &Path, app_dirs: &[PathBuf]) -> bool {
        let rel = self.relative(real);
        let in_git = rel
            .components()
            .any(|c| matches!(c, Component::Normal(n) if n == ".git"));
        in_git || app_dirs.iter().any(|d| real.starts_with(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws() -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/deep")).unwrap();
        std::fs::write(dir.path().join("src/a.txt"), "a").unwrap();
        let w = Workspace::new(dir.path()).unwrap();
        (dir, w)
    }

    #[test]
    fn paths_inside_resolve_and_outside_are_refused() {
        let (dir, w) = ws();
        let root = w.root().to_path_buf();
        let ok = [
            ("src/a.txt", root.join("src/a.txt")),
            ("./src/../src/a.txt", root.join("src/a.txt")),
            ("src/deep/new.txt", root.join("src/deep/new.txt")),
            ("src/new-dir/new.txt", root.join("src/new-dir/new.txt")),
            (".", root.clone()),
        ];
        for (given, want) in ok {
            assert_eq!(w.resolve(given).unwrap(), want, "{given}");
        }
        let abs_inside = root.join("src/a.txt").display().to_string();
        assert!(w.resolve(&abs_inside).is_ok());
        let outside = [
            "../x",
            "src/../../x",
            "/etc/passwd",
            "src/missing/../../../x",
            "",
            "a\0b",
        ];
        for given in outside {
            assert!(w.resolve(given).is_err(), "{given:?} must be refused");
        }
        drop(dir);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_before_deciding() {
        let (_dir, w) = ws();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let root = w.root().to_path_buf();
        std::os::unix::fs::symlink(outside.path(), root.join("escape")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("link")).unwrap();
        std::os::unix::fs::symlink(root.join("src/a.txt"), root.join("inner")).unwrap();
        assert!(w.resolve("escape/secret").is_err());
        assert!(
            w.resolve("escape/new-file").is_err(),
            "creating through a link"
        );
        assert!(w.resolve("link").is_err());
        assert_eq!(w.resolve("inner").unwrap(), root.join("src/a.txt"));
        // A dangling link pointing outside is refused too.
        std::os::unix::fs::symlink("/nonexistent/x", root.join("dangling")).unwrap();
        assert!(w.resolve("dangling").is_err());
    }

    #[test]
    fn git_internals_and_app_data_are_protected() {
        let (_dir, w) = ws();
        let root = w.root().to_path_buf();
        assert!(w.is_protected(&root.join(".git/config"), &[]));
        assert!(w.is_protected(&root.join("sub/.git/HEAD"), &[]));
        assert!(!w.is_protected(&root.join("src/a.txt"), &[]));
        assert!(!w.is_protected(&root.join(".gitignore"), &[]));
        assert!(w.is_protected(&root.join("data/x"), &[root.join("data")]));
    }
}
