//! Workspace containment. A path the model gave is first checked as text
//! ([`lexical::relative_parts`]: absolute paths outside the root, `..` above it, UNC, device,
//! drive-letter and alternate-data-stream forms are refused without touching the file
//! system). What passes is opened beneath the workspace root with `cap-std` (`openat`-style,
//! `openat2(RESOLVE_BENEATH)` where the kernel has it): a symlink that leads out fails at the
//! open itself, so there is no check-then-open race. Writes are decided on the real target
//! at write time ([`Workspace::write_target`]).

pub mod lexical;

use cap_std::fs::Dir;
use std::path::{Path, PathBuf};

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The workspace folder itself is unusable.
    #[error("the workspace folder {0} cannot be used: {1}")]
    BadRoot(String, String),
    /// The path lies outside the workspace.
    #[error("{0} is outside the workspace folder: {1}")]
    Outside(String, String),
    /// The path is empty or has a form that is never used.
    #[error("{0:?} is not a usable path: {1}")]
    Invalid(String, String),
    /// Opening or resolving it failed.
    #[error("{0}: {1}")]
    Io(String, String),
}

/// True when Windows rules apply to names.
const WINDOWS: bool = cfg!(windows);

/// A workspace: a folder the user chose, by its canonical path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

/// Where a write lands: the folder it lands in (opened beneath the root), the file name, and
/// the real path relative to the root (what protection is decided on).
pub struct WriteTarget {
    /// The folder, open.
    pub dir: Dir,
    /// The file's name in it.
    pub name: std::ffi::OsString,
    /// The real path of the file, relative to the root (links followed).
    pub real: PathBuf,
}

fn io_err(given: &str, e: std::io::Error) -> PathError {
    if e.kind() == std::io::ErrorKind::PermissionDenied
        && e.to_string().contains("outside of the filesystem")
    {
        return PathError::Outside(
            given.to_owned(),
            "a symbolic link on the way leads out of it (or names an absolute path)".into(),
        );
    }
    PathError::Io(given.to_owned(), e.to_string())
}

impl Workspace {
    /// Opens the folder the user chose (any path to it; it is canonicalised). The top of a file
    /// system, the home folder itself (or a folder above it) and system folders are refused.
    pub fn new(dir: &Path) -> Result<Workspace, PathError> {
        let shown = dir.display().to_string();
        let root = dir
            .canonicalize()
            .map_err(|e| PathError::BadRoot(shown.clone(), e.to_string()))?;
        Self::checked(shown, root)
    }

    /// Opens a workspace as stored when it was chosen (its canonical path). If that path now
    /// resolves somewhere else (a symlink was put in its place), it is refused until the user
    /// chooses the folder again.
    pub fn stored(root: &str) -> Result<Workspace, PathError> {
        let path = PathBuf::from(root);
        let real = path
            .canonicalize()
            .map_err(|e| PathError::BadRoot(root.to_owned(), e.to_string()))?;
        if real != path {
            return Err(PathError::BadRoot(
                root.to_owned(),
                format!(
                    "it now leads to {} (it was replaced by a link); choose the folder again",
                    real.display()
                ),
            ));
        }
        Self::checked(root.to_owned(), real)
    }

    fn checked(shown: String, root: PathBuf) -> Result<Workspace, PathError> {
        if !root.is_dir() {
            return Err(PathError::BadRoot(shown, "it is not a folder".into()));
        }
        let home = dirs::home_dir().and_then(|h| h.canonicalize().ok());
        if let Some(why) = lexical::refused_root(&root, home.as_deref(), WINDOWS) {
            return Err(PathError::BadRoot(shown, why));
        }
        Ok(Workspace { root })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The root, open. Everything a tool touches is opened through it.
    pub fn dir(&self) -> Result<Dir, PathError> {
        Dir::open_ambient_dir(&self.root, cap_std::ambient_authority())
            .map_err(|e| PathError::BadRoot(self.root.display().to_string(), e.to_string()))
    }

    /// The path the model gave, relative to the root, after the text checks (nothing is
    /// looked up).
    pub fn relative_path(&self, given: &str) -> Result<PathBuf, PathError> {
        lexical::relative_parts(&self.root, given, WINDOWS).map(|p| lexical::to_path(&p))
    }

    /// Where `given` really leads, relative to the root: links beneath the root followed, a
    /// not-yet-existing tail kept as given. A link that leads out is an error.
    pub fn real_relative(&self, given: &str) -> Result<PathBuf, PathError> {
        let parts = lexical::relative_parts(&self.root, given, WINDOWS)?;
        let dir = self.dir()?;
        real_beneath(&dir, &parts).map_err(|e| io_err(given, e))
    }

    /// The real absolute path `given` leads to inside the workspace (see
    /// [`Workspace::real_relative`]).
    pub fn resolve(&self, given: &str) -> Result<PathBuf, PathError> {
        let rel = self.real_relative(given)?;
        Ok(if rel == Path::new(".") {
            self.root.clone()
        } else {
            self.root.join(rel)
        })
    }

    /// The path relative to the root, for display.
    pub fn relative<'a>(&self, real: &'a Path) -> &'a Path {
        real.strip_prefix(&self.root).unwrap_or(real)
    }

    /// Why writing `real` (a real path relative to the root) always asks a person, if it does:
    /// see [`lexical::protected_reason`], plus Parley's own data and configuration.
    pub fn protected_reason(&self, real: &Path, app_dirs: &[PathBuf]) -> Option<&'static str> {
        lexical::protected_reason(real).or_else(|| {
            let abs = self.root.join(real);
            app_dirs
                .iter()
                .any(|d| abs.starts_with(d) || d.starts_with(&abs))
                .then_some("Parley's own data and configuration")
        })
    }

    /// Opens the folder `given` will be written in (creating missing folders beneath the
    /// root), and says where the file really lands. The folder handle is checked to be the
    /// folder at that real path, so what protection was decided on is what is written.
    pub fn write_target(&self, given: &str) -> Result<WriteTarget, PathError> {
        let parts = lexical::relative_parts(&self.root, given, WINDOWS)?;
        let Some((name, parent)) = parts.split_last() else {
            return Err(PathError::Invalid(
                given.to_owned(),
                "it is the workspace folder itself".into(),
            ));
        };
        let root = self.dir()?;
        let parent_path = lexical::to_path(parent);
        if !parent.is_empty() {
            root.create_dir_all(&parent_path)
                .map_err(|e| io_err(given, e))?;
        }
        let dir = root.open_dir(&parent_path).map_err(|e| io_err(given, e))?;
        if dir.symlink_metadata(name).is_ok_and(|m| m.is_symlink()) {
            // Replacing a link would surprise; writing through it is decided by its target.
            return Err(PathError::Invalid(
                given.to_owned(),
                "it is a symbolic link; write to the path it points to instead".into(),
            ));
        }
        let real_parent = real_beneath(&root, parent).map_err(|e| io_err(given, e))?;
        same_folder(&root, &real_parent, &dir).map_err(|e| io_err(given, e))?;
        let real = if real_parent == Path::new(".") {
            PathBuf::from(name)
        } else {
            real_parent.join(name)
        };
        Ok(WriteTarget {
            dir,
            name: name.into(),
            real,
        })
    }
}

/// The real relative path of `parts` beneath `dir`: the longest existing prefix canonicalised
/// (beneath the root), the rest appended.
fn real_beneath(dir: &Dir, parts: &[String]) -> std::io::Result<PathBuf> {
    for n in (0..=parts.len()).rev() {
        let prefix = lexical::to_path(&parts[..n]);
        match dir.canonicalize(&prefix) {
            Ok(real) => {
                let mut real = if real.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    real
                };
                for p in &parts[n..] {
                    if real == Path::new(".") {
                        real = PathBuf::from(p);
                    } else {
                        real.push(p);
                    }
                }
                return Ok(real);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(PathBuf::from("."))
}

/// Checks that the open folder `dir` is the folder at `real` (no link swapped in between).
fn same_folder(root: &Dir, real: &Path, dir: &Dir) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use cap_std::fs::MetadataExt;
        let at = root.symlink_metadata(real)?;
        let open = dir.dir_metadata()?;
        if at.dev() != open.dev() || at.ino() != open.ino() || !at.is_dir() {
            return Err(std::io::Error::other(
                "the folder changed while it was being opened; try again",
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (root, real, dir);
    Ok(())
}

#[cfg(test)]
mod tests;
