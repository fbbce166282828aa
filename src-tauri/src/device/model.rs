//! The search model in memory only while it is used: loaded when a search needs it, released
//! after a while without one. all-MiniLM-L6-v2 holds ~60–75 MB in the app (its int8 weights
//! stay int8: roost-embed edits the graph at load; ONNX Runtime widened them to ~90–108 MB of
//! f32 before) and loads again in ~0.3 s, so an app left open all day does not keep it for a
//! search an hour later. Nothing loads it before the first text search. A search never waits
//! for the load: it ranks by words and filters meanwhile, and the UI asks again when the model
//! is ready (`roost://search-model`). Freed memory goes back to the system only with the
//! malloc settings of `tune_malloc` (lib.rs); with glibc's defaults every release and reload
//! left the process bigger.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the model stays loaded after the last search that used it (when
/// `ROOST_EMBED_IDLE_SECS` does not say otherwise).
pub const DEFAULT_IDLE: Duration = Duration::from_secs(180);

/// One value loaded on demand and released when unused for `idle`.
pub struct ModelSlot<T> {
    idle: Duration,
    state: Mutex<State<T>>,
}

struct State<T> {
    loaded: Option<Arc<T>>,
    last_used: Instant,
    /// A failed load is not tried again: it fails the same way (missing library, unknown
    /// model file) and each try would cost the search that made it.
    failed: Option<String>,
}

impl<T> ModelSlot<T> {
    pub fn new(idle: Duration) -> Self {
        ModelSlot {
            idle,
            state: Mutex::new(State {
                loaded: None,
                last_used: Instant::now(),
                failed: None,
            }),
        }
    }

    /// The idle period from `ROOST_EMBED_IDLE_SECS`, else [`DEFAULT_IDLE`].
    pub fn from_env() -> Self {
        let idle = std::env::var("ROOST_EMBED_IDLE_SECS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map_or(DEFAULT_IDLE, Duration::from_secs);
        ModelSlot::new(idle)
    }

    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// The loaded value, loading it with `load` if needed. Callers asking meanwhile wait for
    /// that load rather than start another.
    pub fn get_or_load(&self, load: impl FnOnce() -> Result<T, String>) -> Result<Arc<T>, String> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.last_used = Instant::now();
        if let Some(why) = &state.failed {
            return Err(why.clone());
        }
        if let Some(value) = &state.loaded {
            return Ok(Arc::clone(value));
        }
        match load() {
            Ok(value) => {
                let value = Arc::new(value);
                state.loaded = Some(Arc::clone(&value));
                state.last_used = Instant::now();
                Ok(value)
            }
            Err(why) => {
                state.failed = Some(why.clone());
                Err(why)
            }
        }
    }

    /// The loaded value, marked used, without waiting: `None` when it is not loaded or a load
    /// is in progress.
    pub fn loaded(&self) -> Option<Arc<T>> {
        let mut state = self.state.try_lock().ok()?;
        let value = state.loaded.clone()?;
        state.last_used = Instant::now();
        Some(value)
    }

    /// Whether loading failed (it is not tried again).
    /// Never waits: a load in progress has not failed (yet).
    pub fn failed(&self) -> bool {
        self.state.try_lock().is_ok_and(|s| s.failed.is_some())
    }

    /// Drops the value when nothing used it for the idle period and nobody holds it; true when
    /// it did. Never waits for a load in progress.
    pub fn release_if_idle(&self) -> bool {
        let released = {
            let Ok(mut state) = self.state.try_lock() else {
                return false;
            };
            let unused = state
                .loaded
                .as_ref()
                .is_some_and(|v| Arc::strong_count(v) == 1);
            if !unused || state.last_used.elapsed() < self.idle {
                return false;
            }
            state.loaded.take()
        };
        // Dropped outside the lock: freeing the model takes a moment.
        drop(released);
        true
    }

    pub fn is_loaded(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .loaded
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn loads_once_and_again_after_an_idle_release() {
        let slot = ModelSlot::new(Duration::ZERO);
        let loads = Cell::new(0);
        let load = || {
            loads.set(loads.get() + 1);
            Ok(7u32)
        };
        let held = slot.get_or_load(load).unwrap();
        assert_eq!(*slot.get_or_load(load).unwrap(), 7);
        assert_eq!(loads.get(), 1);
        // A search still using it keeps it.
        assert!(!slot.release_if_idle());
        drop(held);
        assert!(slot.release_if_idle());
        assert!(!slot.is_loaded());
        assert!(!slot.release_if_idle(), "nothing left to release");
        assert_eq!(*slot.get_or_load(load).unwrap(), 7);
        assert_eq!(loads.get(), 2);
    }

    #[test]
    fn a_recent_use_keeps_it() {
        let slot = ModelSlot::new(Duration::from_secs(3600));
        slot.get_or_load(|| Ok(1u8)).unwrap();
        assert!(!slot.release_if_idle());
        assert!(slot.is_loaded());
    }

    #[test]
    fn a_failed_load_is_remembered() {
        let slot = ModelSlot::<u8>::new(Duration::ZERO);
        assert_eq!(
            slot.get_or_load(|| Err("no library".into())),
            Err("no library".into())
        );
        let again = slot.get_or_load(|| panic!("not loaded twice"));
        assert_eq!(again, Err("no library".into()));
    }

    #[test]
    fn a_search_never_waits_for_a_load() {
        let slot = std::sync::Arc::new(ModelSlot::<u8>::new(Duration::ZERO));
        assert_eq!(slot.loaded(), None);
        assert!(!slot.failed());
        // A load in progress: neither question waits for it.
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (finish_tx, finish_rx) = std::sync::mpsc::channel::<()>();
        let loader = {
            let slot = std::sync::Arc::clone(&slot);
            std::thread::spawn(move || {
                slot.get_or_load(|| {
                    started_tx.send(()).unwrap();
                    finish_rx.recv().unwrap();
                    Ok(7)
                })
            })
        };
        started_rx.recv().unwrap();
        assert_eq!(slot.loaded(), None);
        assert!(!slot.failed());
        finish_tx.send(()).unwrap();
        assert_eq!(*loader.join().unwrap().unwrap(), 7);
        assert_eq!(slot.loaded().as_deref(), Some(&7));
        assert!(slot.release_if_idle());
        assert_eq!(slot.loaded(), None);

        let broken = ModelSlot::<u8>::new(Duration::ZERO);
        let _ = broken.get_or_load(|| Err("no library".into()));
        assert!(broken.failed());
        assert_eq!(broken.loaded(), None);
    }
}
