//! Wakes a long job's schedule when its pushed status file changes (inotify through the `notify`
//! crate), so a report reaches /status and the live message within a second, not a tick later,
//! and without spawning its status command.

use crate::engine::status_file::FILE_NAME;
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Each watched folder: the job whose status file is in it, and that job's wake-up.
type Folders = HashMap<PathBuf, (String, Arc<Notify>)>;

/// The watched state folders (one per long job) and each job's wake-up.
#[derive(Clone, Default)]
pub struct StatusWatch {
    /// The folder each job's file is in, and its wake-up. The event handler takes only this
    /// lock, never the watcher's: `watch` waits for the watcher's thread, which runs the handler.
    folders: Arc<Mutex<Folders>>,
    /// Started at the first watch; None when inotify is not available (the tick still polls).
    watcher: Arc<Mutex<Option<RecommendedWatcher>>>,
}

impl StatusWatch {
    /// Watches the folder of `file` for `job`; the returned wake-up fires when the file is
    /// written, replaced or removed. Without inotify (a limit reached) it never fires and the job
    /// is read on its tick, as before: logged, not fatal.
    pub fn watch(&self, job: &str, file: &Path) -> Arc<Notify> {
        let wake = Arc::new(Notify::new());
        let Some(dir) = file.parent() else { return wake };
        {
            let mut folders = self.folders.lock().expect("status folders lock");
            folders.retain(|_, (j, _)| j != job);
            folders.insert(dir.to_path_buf(), (job.to_string(), wake.clone()));
        }
        let mut watcher = self.watcher.lock().expect("status watcher lock");
        if watcher.is_none() {
            *watcher = self.start();
        }
        if let Some(w) = watcher.as_mut() {
            if let Err(e) = w.watch(dir, RecursiveMode::NonRecursive) {
                tracing::warn!(job, error = %e, "cannot watch its status file; it is read on its tick");
            }
        }
        wake
    }

    /// Stops watching `job` (removed from the config).
    pub fn forget(&self, job: &str) {
        let gone: Vec<PathBuf> = {
            let mut folders = self.folders.lock().expect("status folders lock");
            let gone = folders.iter().filter(|(_, (j, _))| j == job).map(|(d, _)| d.clone()).collect();
            folders.retain(|_, (j, _)| j != job);
            gone
        };
        if let Some(w) = self.watcher.lock().expect("status watcher lock").as_mut() {
            for d in gone {
                let _ = w.unwatch(&d);
            }
        }
    }

    fn start(&self) -> Option<RecommendedWatcher> {
        let folders = self.folders.clone();
        let handler = move |res: notify::Result<Event>| {
            let Ok(event) = res else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            let folders = folders.lock().expect("status folders lock");
            for p in event.paths.iter().filter(|p| p.file_name().is_some_and(|n| n == FILE_NAME)) {
                if let Some((_, wake)) = p.parent().and_then(|d| folders.get(d)) {
                    wake.notify_one();
                }
            }
        };
        notify::recommended_watcher(handler).map_err(|e| tracing::warn!(error = %e, "no file watcher; pushed status is read on each tick")).ok()
    }
}
