//! Reloading a plugin when its file changes.
//!
//! The watcher observes the file's directory, not the file: build tools
//! replace outputs by renaming or hard-linking a new file over the old
//! path, which a watch on the old inode would miss. Bursts of events (a
//! build writes in several steps) are coalesced, and a change that leaves
//! the bytes as they were does not reload.

use super::reload::PluginHandle;
use crate::{Error, Result};
use notify::{RecursiveMode, Watcher as _};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// Quiet time after the last event before the file is read.
const SETTLE: Duration = Duration::from_millis(100);

/// Watches a plugin's file; stops when dropped.
pub struct Watcher {
    watcher: Option<notify::RecommendedWatcher>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    pub(super) fn start(handle: PluginHandle, path: PathBuf) -> Result<Watcher> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf();
        let name = path.file_name().map(|n| n.to_os_string());
        let (tx, rx) = channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let _ = tx.send(event);
            })
            .map_err(|e| Error::Usage(format!("cannot watch {}: {e}", dir.display())))?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| Error::Usage(format!("cannot watch {}: {e}", dir.display())))?;
        let mut last = std::fs::read(&path).ok().map(Sha256::digest);
        let thread = std::thread::Builder::new()
            .name(format!("scion-watch-{}", handle.name()))
            .spawn(move || {
                let ours = |e: &notify::Event| {
                    e.paths.iter().any(|p| p.file_name().map(|n| n.to_os_string()) == name)
                };
                loop {
                    // Wait for a change to our file (the channel closes when
                    // the watcher is dropped).
                    match rx.recv() {
                        Ok(Ok(e)) if ours(&e) => {}
                        Ok(_) => continue,
                        Err(_) => return,
                    }
                    // Let the burst settle.
                    loop {
                        match rx.recv_timeout(SETTLE) {
                            Ok(_) => continue,
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    let Ok(bytes) = std::fs::read(&path) else { continue };
                    let digest = Sha256::digest(&bytes);
                    if last.as_ref() == Some(&digest) {
                        continue;
                    }
                    last = Some(digest);
                    // Failures are reported as events by `reload`.
                    let _ = handle.reload(bytes);
                }
            })
            .map_err(|e| Error::Usage(format!("cannot start the watcher thread: {e}")))?;
        Ok(Watcher { watcher: Some(watcher), thread: Some(thread) })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Dropping the notify watcher first closes the channel, which ends
        // the thread (after any reload it is in the middle of).
        drop(self.watcher.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
