//! Gaplics in threads: each is built on its own thread by a closure, so its
//! gobjs need not be `Send`; only a [`GaplicHandle`] crosses threads. The
//! gaplics of a process know each other by name.

use std::collections::HashMap;
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use crate::error::ErrorKind;
use crate::error::GobjError;
use crate::event::Origin;
use crate::gaplic::Gaplic;
use crate::gobj::EventKey;
use crate::inbox::Inbox;
use crate::kw::Kw;
use crate::names::FastMap;

/// What another thread sends a gaplic.
pub(crate) enum Remote {
    /// An event for the gobj with this unique name.
    Event {
        gobj: Arc<str>,
        event: EventKey,
        kw: Kw,
        origin: Option<Box<Origin>>,
    },
    /// A closure to run on the gaplic's thread.
    Call(Box<dyn FnOnce(&mut Gaplic) + Send>),
    /// Stop the loop.
    Stop,
}

/// The handles of the other gaplics of this process a gaplic posted to,
/// by name and by role, so the process directory is looked up only the
/// first time.
#[derive(Debug, Default)]
pub(crate) struct Peers {
    by_name: FastMap<Box<str>, GaplicHandle>,
    by_role: FastMap<Box<str>, GaplicHandle>,
}

impl Peers {
    /// The handle of the gaplic called `name`, or else of one with role
    /// `role`, if one runs in this process.
    pub(crate) fn find(&mut self, name: Option<&str>, role: Option<&str>) -> Option<GaplicHandle> {
        let by_name = name.and_then(|name| {
            Self::cached(&mut self.by_name, name, || GaplicHandle::find(name).ok())
        });
        by_name.or_else(|| {
            let role = role?;
            Self::cached(&mut self.by_role, role, || GaplicHandle::find_role(role))
        })
    }

    fn cached(
        map: &mut FastMap<Box<str>, GaplicHandle>,
        key: &str,
        look_up: impl FnOnce() -> Option<GaplicHandle>,
    ) -> Option<GaplicHandle> {
        if let Some(handle) = map.get(key) {
            return Some(handle.clone());
        }
        let found = look_up()?;
        map.insert(key.into(), found.clone());
        Some(found)
    }

    /// Forgets `handle`, found stopped, so a gaplic started again under its
    /// name or role is looked up anew.
    pub(crate) fn forget(&mut self, handle: &GaplicHandle) {
        for map in [&mut self.by_name, &mut self.by_role] {
            map.retain(|_, kept| !Arc::ptr_eq(&kept.inbox, &handle.inbox));
        }
    }
}

/// The thread a gaplic runs on, and how its loop ended.
type GaplicThread = JoinHandle<Result<(), GobjError>>;

/// A `Send + Clone` handle to a gaplic running on another thread: post it
/// events by unique name, stop it, join it.
///
/// # Examples
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// Stops its gaplic when told.
///     pub struct Stopper {}
///     events { EV_STOP }
///     states { ST_RUNNING }
///     machine { ST_RUNNING { EV_STOP => stop } }
/// }
///
/// impl Stopper {
///     fn stop(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
///         cx.gaplic()?.stop();
///         Ok(Value::Null)
///     }
/// }
///
/// let handle = gaplic::spawn("doc-stopper", |gaplic| {
///     gaplic.create_unique_gobj::<Stopper>("stopper", None, Kw::new())?;
///     Ok(())
/// })?;
/// handle.post("stopper", "EV_STOP", Kw::new())?;
/// handle.join()?;
/// # Ok::<(), GobjError>(())
/// ```
#[derive(Clone)]
pub struct GaplicHandle {
    inbox: Arc<Inbox<Remote>>,
    thread: Arc<Mutex<Option<GaplicThread>>>,
}

impl std::fmt::Debug for GaplicHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GaplicHandle")
            .field("name", self.inbox.name())
            .finish()
    }
}

impl GaplicHandle {
    pub(crate) fn from_inbox(inbox: Arc<Inbox<Remote>>) -> Self {
        GaplicHandle {
            inbox,
            thread: Arc::new(Mutex::new(None)),
        }
    }

    /// The handle of the gaplic called `name` running in this process.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownGaplic`].
    pub fn find(name: &str) -> Result<GaplicHandle, GobjError> {
        directory()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| {
                ErrorKind::UnknownGaplic {
                    name: name.to_owned(),
                }
                .into()
            })
    }

    /// The gaplic's name.
    pub fn name(&self) -> &str {
        self.inbox.name()
    }

    /// The gaplic's roles.
    pub fn roles(&self) -> &[String] {
        self.inbox.roles()
    }

    /// The handle of a gaplic running in this process with role `role`
    /// (the one whose name sorts first, when several have it).
    pub fn find_role(role: &str) -> Option<GaplicHandle> {
        let gaplics = directory().lock().unwrap_or_else(|e| e.into_inner());
        gaplics
            .iter()
            .filter(|(_, handle)| handle.roles().iter().any(|r| r == role))
            .min_by(|(a, _), (b, _)| a.cmp(b))
            .map(|(_, handle)| handle.clone())
    }

    /// Posts `event` to the gobj registered as `gobj` there. An unknown
    /// gobj is found out over there, and traced there.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Stopped`] once the gaplic was asked to stop: an event
    /// posted before the stop is delivered, one after it is refused.
    pub fn post(&self, gobj: &str, event: &str, kw: Kw) -> Result<(), GobjError> {
        self.post_with_origin(
            gobj.into(),
            EventKey::from(Arc::<str>::from(event)),
            kw,
            None,
        )
    }

    pub(crate) fn post_with_origin(
        &self,
        gobj: Arc<str>,
        event: EventKey,
        kw: Kw,
        origin: Option<Origin>,
    ) -> Result<(), GobjError> {
        self.inbox.send(Remote::Event {
            gobj,
            event,
            kw,
            origin: origin.map(Box::new),
        })
    }

    /// Runs `call` on the gaplic's thread, on its next turn.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Stopped`] once the gaplic was asked to stop.
    pub fn call(&self, call: impl FnOnce(&mut Gaplic) + Send + 'static) -> Result<(), GobjError> {
        self.inbox.send(Remote::Call(Box::new(call)))
    }

    /// Asks the gaplic to stop after its current turn (see
    /// [`Gaplic::stop`]): from now on posts to it are refused; what was
    /// posted before is delivered, then every gobj goes out.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Stopped`] when it was asked to stop already.
    pub fn stop(&self) -> Result<(), GobjError> {
        if !self.inbox.close() {
            return Err(ErrorKind::Stopped {
                gaplic: self.name().to_owned(),
            }
            .into());
        }
        self.inbox.send_anyway(Remote::Stop)
    }

    /// Waits for the gaplic's thread to end and returns how its loop ended.
    /// Only the first call waits; later ones return at once.
    ///
    /// # Errors
    ///
    /// The loop's error; [`ErrorKind::ThreadFailed`] when the thread
    /// panicked; [`ErrorKind::JoinOwnThread`] when called from the
    /// gaplic's own thread (from one of its actions), which would wait for
    /// itself forever (the thread is not consumed: a join from elsewhere
    /// still works).
    pub fn join(&self) -> Result<(), GobjError> {
        let Ok(mut slot) = self.thread.lock() else {
            return Ok(());
        };
        if slot
            .as_ref()
            .is_some_and(|t| t.thread().id() == std::thread::current().id())
        {
            return Err(ErrorKind::JoinOwnThread {
                gaplic: self.name().to_owned(),
            }
            .into());
        }
        let thread = slot.take();
        drop(slot);
        match thread {
            Some(thread) => thread.join().map_err(|_| {
                GobjError::from(ErrorKind::ThreadFailed {
                    gaplic: self.name().to_owned(),
                })
            })?,
            None => Ok(()),
        }
    }
}

/// The gaplics of the process, by name.
fn directory() -> &'static Mutex<HashMap<String, GaplicHandle>> {
    static DIRECTORY: OnceLock<Mutex<HashMap<String, GaplicHandle>>> = OnceLock::new();
    DIRECTORY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Removes a gaplic from the directory when its thread ends.
struct Listed(String);

impl Drop for Listed {
    fn drop(&mut self) {
        directory()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0);
    }
}

/// Builds a gaplic called `name` on a new thread, runs `setup` on it there
/// (create the gobjs), then its loop until stopped. The gaplic is known to
/// the other gaplics of the process by its name while it runs.
///
/// # Errors
///
/// [`ErrorKind::DuplicateGaplic`] when a gaplic of that name runs
/// already; the error `setup` returns (the thread then ends);
/// [`ErrorKind::Io`] when the thread or the poll cannot be made.
pub fn spawn(
    name: &str,
    setup: impl FnOnce(&mut Gaplic) -> Result<(), GobjError> + Send + 'static,
) -> Result<GaplicHandle, GobjError> {
    spawn_with(Gaplic::builder(name), setup)
}

/// As [`spawn`], with a builder for the gaplic's options.
///
/// # Errors
///
/// As [`spawn`].
pub fn spawn_with(
    builder: crate::GaplicBuilder,
    setup: impl FnOnce(&mut Gaplic) -> Result<(), GobjError> + Send + 'static,
) -> Result<GaplicHandle, GobjError> {
    let (ready_tx, ready_rx) = channel::<Result<GaplicHandle, GobjError>>();
    let mut thread = std::thread::Builder::new().name(builder.name().to_owned());
    if let Some(bytes) = builder.stack_size {
        thread = thread.stack_size(bytes);
    }
    let gaplic_name = builder.name().to_owned();
    let thread = thread
        .spawn(move || -> Result<(), GobjError> {
            let mut gaplic = match builder.build() {
                Ok(gaplic) => gaplic,
                Err(error) => {
                    let _ = ready_tx.send(Err(clone_error(&error)));
                    return Err(error);
                }
            };
            let name = gaplic.name().to_owned();
            let handle = gaplic.handle();
            {
                // A panic elsewhere while the directory was locked leaves
                // it consistent: every change is a single insert or remove.
                let mut gaplics = directory().lock().unwrap_or_else(|e| e.into_inner());
                if gaplics.contains_key(&name) {
                    let _ = ready_tx.send(Err(ErrorKind::DuplicateGaplic { name }.into()));
                    return Ok(());
                }
                gaplics.insert(name.clone(), handle.clone());
            }
            let _listed = Listed(name);
            if let Err(error) = setup(&mut gaplic) {
                let _ = ready_tx.send(Err(error));
                return Ok(());
            }
            let _ = ready_tx.send(Ok(handle));
            gaplic.run()
        })
        .map_err(|error| ErrorKind::Io {
            context: "cannot start the gaplic's thread",
            error,
        })?;
    let handle = ready_rx.recv().map_err(|_| ErrorKind::ThreadFailed {
        gaplic: gaplic_name.clone(),
    })?;
    match handle {
        Ok(handle) => {
            if let Ok(mut slot) = handle.thread.lock() {
                *slot = Some(thread);
            }
            Ok(handle)
        }
        Err(error) => {
            let _ = thread.join();
            Err(error)
        }
    }
}

/// A copy of an error for the spawning thread (the thread keeps its own).
fn clone_error(error: &GobjError) -> GobjError {
    GobjError::failed(error.to_string())
}
