//! Outputs replaced all or nothing (DESIGN §8).
//!
//! A run that writes into a directory first takes a [`RunLock`] there: the file
//! `.rumba-<pid>.lock`, locked for the run's lifetime (`flock`, released by the kernel when
//! the process dies however it dies). Its temporaries are `.<name>.npy.tmp-<pid>`. To commit,
//! [`commit`] writes the journal `.rumba-<pid>.journal` (one line per output: temporary,
//! target, backup, whether the target existed; the names hex-encoded) and syncs it, renames
//! each existing target to its backup `.<name>.npy.bak-<pid>`, renames each temporary onto its
//! target, appends `committed` to the journal, then deletes the backups and the journal. A
//! failed rename rolls back what was done (the new files out, the backups back) before the
//! error is returned.
//!
//! [`recover`] runs before a run writes anything: for each lock file no live process holds,
//! it finishes that run's commit if the journal says `committed` (deleting the backups), or
//! rolls it back (restoring every backup, removing new files that had no previous version),
//! then removes that run's temporaries, journal and lock.

use crate::npy::NpyError;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The lock a run holds on its output directory while it writes there.
#[derive(Debug)]
pub struct RunLock {
    dir: PathBuf,
    path: PathBuf,
    pid: u32,
    _file: File,
}

impl RunLock {
    /// Recovers what dead runs left in `dir` ([`recover`], whose report it returns), then
    /// locks `dir` for this process.
    ///
    /// # Errors
    /// [`NpyError::OutputDir`] when the lock file cannot be created or locked.
    pub fn take(dir: &Path) -> Result<(RunLock, Vec<String>), NpyError> {
        let recovered = recover(dir)?;
        let pid = std::process::id();
        let path = dir.join(format!(".rumba-{pid}.lock"));
        let dir_error = |source| NpyError::OutputDir {
            path: dir.to_owned(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(dir_error)?;
        file.try_lock().map_err(|e| {
            dir_error(match e {
                fs::TryLockError::Error(e) => e,
                fs::TryLockError::WouldBlock => io::Error::other("the run lock is held by another process"),
            })
        })?;
        Ok((
            RunLock {
                dir: dir.to_owned(),
                path,
                pid,
                _file: file,
            },
            recovered,
        ))
    }

    /// The temporary that becomes `dir/<name>.npy`.
    #[must_use]
    pub fn temporary(&self, name: &str) -> PathBuf {
        self.dir.join(format!(".{name}.npy.tmp-{}", self.pid))
    }

    /// A spill file for a temp of the run.
    #[must_use]
    pub fn spill(&self, index: usize) -> PathBuf {
        self.dir.join(format!(".rumba-{}.spill-{index}", self.pid))
    }

    fn journal(&self) -> PathBuf {
        self.dir.join(format!(".rumba-{}.journal", self.pid))
    }

    fn backup(&self, name: &str) -> PathBuf {
        self.dir.join(format!(".{name}.npy.bak-{}", self.pid))
    }

    /// Removes every file of this run but the outputs committed (temporaries, spills).
    pub fn clean(&self) {
        remove_files_of(&self.dir, self.pid);
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        remove_files_of(&self.dir, self.pid);
        let _ = fs::remove_file(&self.path);
    }
}

/// Removes the temporaries, spills and backups of run `pid` (not its lock or journal).
fn remove_files_of(dir: &Path, pid: u32) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let tmp = format!(".npy.tmp-{pid}");
    let bak = format!(".npy.bak-{pid}");
    let spill = format!(".rumba-{pid}.spill-");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') && (name.ends_with(&tmp) || name.ends_with(&bak) || name.starts_with(&spill)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Test hooks of [`commit`]: not settable from the environment or the command line.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hooks {
    /// Rename number `k` (1-based, counting backups and installs) fails.
    pub fail_rename: Option<usize>,
    /// Stop dead after this many renames, as a killed process would (no rollback, nothing
    /// removed, the lock released).
    pub die_after_renames: Option<usize>,
}

fn hex(name: &str) -> String {
    name.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// One output of a commit, by file name inside the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    temporary: String,
    target: String,
    backup: String,
    existed: bool,
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What stopped a commit: the error, and whether it was a [`Hooks::die_after_renames`] stop.
enum Stop {
    Failed(NpyError),
    Died,
}

/// Renames the temporaries of `lock`'s run onto `dir/<name>.npy` for each output name, all
/// or nothing (see the module docs). Returns the targets in order.
///
/// # Errors
/// [`NpyError::Write`] naming the file a rename or the journal failed on; the directory then
/// holds exactly what it held before the commit (the temporaries stay for the caller to
/// remove).
pub fn commit(lock: &RunLock, names: &[String], hooks: Hooks) -> Result<Vec<PathBuf>, NpyError> {
    let entries: Vec<Entry> = names
        .iter()
        .map(|name| {
            let target = lock.dir.join(format!("{name}.npy"));
            Entry {
                temporary: file_name(&lock.temporary(name)),
                existed: target.exists(),
                target: file_name(&target),
                backup: file_name(&lock.backup(name)),
            }
        })
        .collect();
    let journal = lock.journal();
    let write_error = |path: &Path, source| NpyError::Write {
        path: path.to_owned(),
        source,
    };
    let mut text = String::from("rumba-journal 1\n");
    for e in &entries {
        let existed = u8::from(e.existed);
        text += &format!(
            "{} {} {} {existed}\n",
            hex(&e.temporary),
            hex(&e.target),
            hex(&e.backup)
        );
    }
    let mut file = File::create(&journal).map_err(|e| write_error(&journal, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| write_error(&journal, e))?;
    sync_dir(&lock.dir);
    let mut renames = 0usize;
    let mut rename = |from: &str, to: &str| -> Result<(), Stop> {
        renames += 1;
        if hooks.die_after_renames.is_some_and(|k| renames > k) {
            return Err(Stop::Died);
        }
        let (from, to) = (lock.dir.join(from), lock.dir.join(to));
        let result = if hooks.fail_rename == Some(renames) {
            Err(io::Error::other("rename failed (test hook)"))
        } else {
            fs::rename(&from, &to)
        };
        result.map_err(|e| Stop::Failed(write_error(&to, e)))
    };
    let backups = entries.iter().filter(|e| e.existed).map(|e| (&e.target, &e.backup));
    let installs = entries.iter().map(|e| (&e.temporary, &e.target));
    let outcome = backups.chain(installs).try_for_each(|(from, to)| rename(from, to));
    match outcome {
        Ok(()) => {
            let mut file = OpenOptions::new()
                .append(true)
                .open(&journal)
                .map_err(|e| write_error(&journal, e))?;
            file.write_all(b"committed\n")
                .and_then(|()| file.sync_all())
                .map_err(|e| write_error(&journal, e))?;
            sync_dir(&lock.dir);
            for e in entries.iter().filter(|e| e.existed) {
                let _ = fs::remove_file(lock.dir.join(&e.backup));
            }
            let _ = fs::remove_file(&journal);
            Ok(entries.iter().map(|e| lock.dir.join(&e.target)).collect())
        }
        Err(Stop::Died) => Err(NpyError::Write {
            path: journal,
            source: io::Error::other("stopped dead (test hook)"),
        }),
        Err(Stop::Failed(error)) => {
            roll_back(&lock.dir, &entries);
            let _ = fs::remove_file(&journal);
            Err(error)
        }
    }
}

/// Undoes a commit that did not finish: every installed new file goes back to its temporary
/// (or away), every backup back to its target.
fn roll_back(dir: &Path, entries: &[Entry]) {
    for e in entries {
        let (target, backup, temporary) = (dir.join(&e.target), dir.join(&e.backup), dir.join(&e.temporary));
        if backup.exists() {
            // The target, if any, is the new file: the backup replaces it.
            let _ = fs::rename(&backup, &target);
        } else if !e.existed && !temporary.exists() && target.exists() {
            // The new file was installed where nothing was.
            let _ = fs::rename(&target, &temporary);
        }
    }
    sync_dir(dir);
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Finishes or rolls back the commits of dead runs in `dir` and removes their files (see the
/// module docs). Returns one line per dead run recovered, for the caller to show.
///
/// # Errors
/// [`NpyError::OutputDir`] when `dir` cannot be listed.
pub fn recover(dir: &Path) -> Result<Vec<String>, NpyError> {
    let entries = fs::read_dir(dir).map_err(|source| NpyError::OutputDir {
        path: dir.to_owned(),
        source,
    })?;
    let mut done = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(".rumba-"))
            .and_then(|n| n.strip_suffix(".lock"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(file) = OpenOptions::new().write(true).open(entry.path()) else {
            continue;
        };
        if file.try_lock().is_err() {
            continue; // a live run
        }
        let journal = dir.join(format!(".rumba-{pid}.journal"));
        if let Ok(text) = fs::read_to_string(&journal) {
            let lines: Vec<&str> = text.lines().collect();
            let committed = lines.last() == Some(&"committed");
            let entries: Vec<Entry> = lines
                .iter()
                .skip(1)
                .filter_map(|line| {
                    let f: Vec<&str> = line.split(' ').collect();
                    match f[..] {
                        [t, g, b, x] => Some(Entry {
                            temporary: unhex(t)?,
                            target: unhex(g)?,
                            backup: unhex(b)?,
                            existed: x == "1",
                        }),
                        _ => None,
                    }
                })
                .collect();
            if committed {
                done.push(format!("finished the commit of an interrupted run (process {pid})"));
            } else {
                roll_back(dir, &entries);
                done.push(format!(
                    "rolled back the unfinished commit of an interrupted run (process {pid}): the previous outputs are restored"
                ));
            }
            let _ = fs::remove_file(&journal);
        }
        remove_files_of(dir, pid);
        let _ = fs::remove_file(entry.path());
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Previous outputs `a` and `b`, new temporaries `a`, `b` and `c`; the output names.
    fn setup(dir: &Path, lock: &RunLock) -> Vec<String> {
        for n in ["a", "b"] {
            fs::write(dir.join(format!("{n}.npy")), format!("old {n}")).unwrap();
        }
        for n in ["a", "b", "c"] {
            fs::write(lock.temporary(n), format!("new {n}")).unwrap();
        }
        ["a", "b", "c"].map(String::from).to_vec()
    }

    /// The directory as `setup` left it before the commit, temporaries aside.
    fn previous() -> Vec<(String, String)> {
        ["a", "b"]
            .iter()
            .map(|n| (format!("{n}.npy"), format!("old {n}")))
            .collect()
    }

    fn contents(dir: &Path) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                (n, fs::read_to_string(e.path()).unwrap_or_default())
            })
            .filter(|(n, _)| !n.ends_with(".lock"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_commit_replaces_every_output() {
        let dir = tempfile::tempdir().unwrap();
        let (lock, _) = RunLock::take(dir.path()).unwrap();
        let names = setup(dir.path(), &lock);
        commit(&lock, &names, Hooks::default()).unwrap();
        let want: Vec<(String, String)> = ["a", "b", "c"]
            .iter()
            .map(|n| (format!("{n}.npy"), format!("new {n}")))
            .collect();
        assert_eq!(contents(dir.path()), want);
    }

    /// Whichever rename fails, the directory holds the previous outputs and nothing new.
    #[test]
    fn a_failed_rename_leaves_the_previous_outputs() {
        for k in 1..=5 {
            let dir = tempfile::tempdir().unwrap();
            let (lock, _) = RunLock::take(dir.path()).unwrap();
            let names = setup(dir.path(), &lock);
            let hooks = Hooks {
                fail_rename: Some(k),
                ..Hooks::default()
            };
            assert!(commit(&lock, &names, hooks).is_err(), "rename {k}");
            lock.clean();
            assert_eq!(contents(dir.path()), previous(), "rename {k} failed");
        }
    }

    /// A run that dies in the middle of its commit, after any number of renames, is rolled
    /// back by the next one.
    #[test]
    fn the_next_run_rolls_back_a_killed_commit() {
        for k in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let (lock, _) = RunLock::take(dir.path()).unwrap();
            let names = setup(dir.path(), &lock);
            let hooks = Hooks {
                die_after_renames: Some(k),
                ..Hooks::default()
            };
            assert!(commit(&lock, &names, hooks).is_err());
            // Dead: nothing cleaned up.
            let pid = lock.pid;
            std::mem::forget(lock);
            let report = recover_as_other(dir.path(), pid);
            assert_eq!(report.len(), 1, "{report:?}");
            assert_eq!(contents(dir.path()), previous(), "died after {k} renames");
        }
    }

    /// `recover` for a lock this process still holds through a forgotten handle: the test
    /// releases it by closing every descriptor of that file first.
    fn recover_as_other(dir: &Path, pid: u32) -> Vec<String> {
        let path = dir.join(format!(".rumba-{pid}.lock"));
        // The forgotten `File` still holds the flock; unlock through a fresh descriptor is not
        // possible, so rename the lock away from it: a new lock file of the same name is free.
        let moved = dir.join(".held");
        fs::rename(&path, &moved).unwrap();
        fs::write(&path, "").unwrap();
        let report = recover(dir).unwrap();
        fs::remove_file(&moved).unwrap();
        report
    }
}
