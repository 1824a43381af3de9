//! The pid file: the process id of a running `serve`, for `stop` and
//! `status`. A pid file whose process is gone is stale.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

/// What a pid file says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PidState {
    /// There is no pid file.
    Absent,
    /// Its process runs.
    Running(i32),
    /// Its process is gone.
    Stale(i32),
}

/// A pid file that cannot be read as one.
#[derive(Debug)]
pub(crate) struct PidFileError {
    path: PathBuf,
    reason: String,
}

impl fmt::Display for PidFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid file {}: {}", self.path.display(), self.reason)
    }
}

impl PidFileError {
    fn new(path: &Path, reason: impl Into<String>) -> Self {
        PidFileError {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Reads the pid file at `path` and asks whether its process runs.
pub(crate) fn state(path: &Path) -> Result<PidState, PidFileError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(PidState::Absent),
        Err(error) => return Err(PidFileError::new(path, format!("cannot read it: {error}"))),
    };
    let pid: i32 = text.trim().parse().map_err(|_| {
        PidFileError::new(
            path,
            format!("it holds `{}`, not a process id", text.trim()),
        )
    })?;
    if pid <= 0 {
        return Err(PidFileError::new(
            path,
            format!("{pid} is not a process id"),
        ));
    }
    Ok(if is_alive(pid) {
        PidState::Running(pid)
    } else {
        PidState::Stale(pid)
    })
}

/// Whether process `pid` runs: it exists (a signal could be sent to it,
/// or it exists but belongs to another user) and is not a zombie waiting
/// for its parent.
pub(crate) fn is_alive(pid: i32) -> bool {
    let Some(process) = Pid::from_raw(pid) else {
        return false;
    };
    match rustix::process::test_kill_process(process) {
        Ok(()) => !is_zombie(pid),
        Err(error) => error == rustix::io::Errno::PERM,
    }
}

/// Whether `pid` has ended and waits for its parent to collect it (Linux:
/// state `Z` in `/proc/PID/stat`). Elsewhere, never.
fn is_zombie(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (command) state ...`: the command may hold spaces and parentheses.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state == "Z")
}

/// Sends SIGTERM to `pid`.
pub(crate) fn terminate(pid: i32) -> io::Result<()> {
    let process = Pid::from_raw(pid)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a process id"))?;
    rustix::process::kill_process(process, Signal::TERM).map_err(io::Error::from)
}

/// Waits until process `pid` has ended, for at most `timeout`; whether it
/// has.
pub(crate) fn wait_for_end(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !is_alive(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid file of this process, written by [`PidFile::create`] and removed
/// when dropped (if it still holds this process's id).
#[derive(Debug)]
pub(crate) struct PidFile {
    path: PathBuf,
    pid: u32,
}

/// How [`PidFile::create`] went.
#[derive(Debug)]
pub(crate) enum Created {
    /// Written; there was no pid file.
    Fresh(PidFile),
    /// Written in place of a stale one, whose process id is given.
    ReplacedStale(PidFile, i32),
}

impl PidFile {
    /// Writes this process's id to `path`.
    ///
    /// # Errors
    ///
    /// When the file names a process that runs, when it cannot be read as
    /// a pid file, and when it cannot be written.
    pub(crate) fn create(path: &Path) -> Result<Created, PidFileError> {
        let stale = match state(path)? {
            PidState::Running(pid) => {
                return Err(PidFileError::new(
                    path,
                    format!("process {pid} runs already; stop it first"),
                ));
            }
            PidState::Stale(pid) => {
                fs::remove_file(path).map_err(|error| {
                    PidFileError::new(path, format!("cannot remove the stale file: {error}"))
                })?;
                Some(pid)
            }
            PidState::Absent => None,
        };
        let pid = std::process::id();
        // `create_new`: if another process wrote it meanwhile, it wins.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|error| match error.kind() {
                io::ErrorKind::AlreadyExists => {
                    PidFileError::new(path, "another process wrote it just now")
                }
                _ => PidFileError::new(path, format!("cannot write it: {error}")),
            })?;
        file.write_all(format!("{pid}\n").as_bytes())
            .map_err(|error| PidFileError::new(path, format!("cannot write it: {error}")))?;
        let pid_file = PidFile {
            path: path.to_owned(),
            pid,
        };
        Ok(match stale {
            Some(old) => Created::ReplacedStale(pid_file, old),
            None => Created::Fresh(pid_file),
        })
    }

    /// Where it is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Removes the pid file at `path` if it holds `pid`.
pub(crate) fn remove_if_ours(path: &Path, pid: u32) {
    let ours = fs::read_to_string(path).is_ok_and(|text| text.trim() == pid.to_string());
    if ours {
        let _ = fs::remove_file(path);
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        remove_if_ours(&self.path, self.pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(is_alive(std::process::id() as i32));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        assert!(!is_alive(pid));
    }

    #[test]
    fn a_pid_file_is_written_refused_while_alive_and_removed_on_drop() {
        let dir = std::env::temp_dir().join(format!("gaplic-app-pidfile-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.pid");
        let _ = fs::remove_file(&path);
        assert_eq!(state(&path).unwrap(), PidState::Absent);
        let Created::Fresh(pid_file) = PidFile::create(&path).unwrap() else {
            panic!("there was no pid file");
        };
        assert_eq!(
            state(&path).unwrap(),
            PidState::Running(std::process::id() as i32)
        );
        let error = PidFile::create(&path).unwrap_err().to_string();
        assert!(error.ends_with("runs already; stop it first"), "{error}");
        drop(pid_file);
        assert!(!path.exists());
        fs::write(&path, "not a pid\n").unwrap();
        assert_eq!(
            state(&path).unwrap_err().to_string(),
            format!(
                "pid file {}: it holds `not a pid`, not a process id",
                path.display()
            )
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
