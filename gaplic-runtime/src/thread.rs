//! Gaplics in threads: each is built on its own thread by a closure, so its
//! gobjs need not be `Send`; only a [`GaplicHandle`] crosses threads. The
//! gaplics of a process know each other by name.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use mio::Waker;

use crate::event::Origin;
use crate::{Gaplic, GobjError, Kw};

/// What another thread sends a gaplic.
pub(crate) enum Remote {
    /// An event for the gobj with this unique name.
    Event {
        gobj: String,
        event: String,
        kw: Kw,
        origin: Option<Box<Origin>>,
    },
    /// A closure to run on the gaplic's thread.
    Call(Box<dyn FnOnce(&mut Gaplic) + Send>),
    /// Stop the loop.
    Stop,
}

/// The receiving side of a gaplic, shared with its handles.
pub(crate) struct Inbox {
    name: Arc<str>,
    /// Sending fails once the gaplic, which holds the receiver, is gone.
    sender: Sender<Remote>,
    waker: Arc<Waker>,
    /// The loop is (about to be) blocked in its poll and needs a wake-up.
    pub(crate) parked: AtomicBool,
}

impl Inbox {
    pub(crate) fn new(name: Arc<str>, waker: Arc<Waker>) -> (Self, Receiver<Remote>) {
        let (sender, receiver) = channel();
        (
            Inbox {
                name,
                sender,
                waker,
                parked: AtomicBool::new(false),
            },
            receiver,
        )
    }

    fn send(&self, remote: Remote) -> Result<(), GobjError> {
        let stopped = || GobjError::Stopped {
            gaplic: self.name.to_string(),
        };
        self.sender.send(remote).map_err(|_| stopped())?;
        // Pairs with the fence in `Gaplic::wait`: either the loop sees the
        // message before it parks, or this sees it parked and wakes it.
        fence(Ordering::SeqCst);
        if self.parked.load(Ordering::SeqCst) {
            self.waker.wake().map_err(|error| GobjError::Io {
                context: "cannot wake the gaplic",
                error,
            })?;
        }
        Ok(())
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
    inbox: Arc<Inbox>,
    thread: Arc<Mutex<Option<GaplicThread>>>,
}

impl std::fmt::Debug for GaplicHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GaplicHandle")
            .field("name", &self.inbox.name)
            .finish()
    }
}

impl GaplicHandle {
    pub(crate) fn from_inbox(inbox: Arc<Inbox>) -> Self {
        GaplicHandle {
            inbox,
            thread: Arc::new(Mutex::new(None)),
        }
    }

    /// The handle of the gaplic called `name` running in this process.
    ///
    /// # Errors
    ///
    /// [`GobjError::UnknownGaplic`].
    pub fn find(name: &str) -> Result<GaplicHandle, GobjError> {
        directory()
            .lock()
            .ok()
            .and_then(|gaplics| gaplics.get(name).cloned())
            .ok_or_else(|| GobjError::UnknownGaplic {
                name: name.to_owned(),
            })
    }

    /// The gaplic's name.
    pub fn name(&self) -> &str {
        &self.inbox.name
    }

    /// Posts `event` to the gobj registered as `gobj` there. An unknown
    /// gobj is found out over there, and traced there.
    ///
    /// # Errors
    ///
    /// [`GobjError::Stopped`] when the gaplic no longer runs.
    pub fn post(&self, gobj: &str, event: &str, kw: Kw) -> Result<(), GobjError> {
        self.post_with_origin(gobj, event, kw, None)
    }

    pub(crate) fn post_with_origin(
        &self,
        gobj: &str,
        event: &str,
        kw: Kw,
        origin: Option<Origin>,
    ) -> Result<(), GobjError> {
        self.inbox.send(Remote::Event {
            gobj: gobj.to_owned(),
            event: event.to_owned(),
            kw,
            origin: origin.map(Box::new),
        })
    }

    /// Runs `call` on the gaplic's thread, on its next turn.
    ///
    /// # Errors
    ///
    /// [`GobjError::Stopped`] when the gaplic no longer runs.
    pub fn call(&self, call: impl FnOnce(&mut Gaplic) + Send + 'static) -> Result<(), GobjError> {
        self.inbox.send(Remote::Call(Box::new(call)))
    }

    /// Asks the gaplic to stop after its current turn.
    ///
    /// # Errors
    ///
    /// [`GobjError::Stopped`] when it has stopped already.
    pub fn stop(&self) -> Result<(), GobjError> {
        self.inbox.send(Remote::Stop)
    }

    /// Waits for the gaplic's thread to end and returns how its loop ended.
    /// Only the first call waits; later ones return at once.
    ///
    /// # Errors
    ///
    /// The loop's error, or [`GobjError::Failed`] when the thread panicked.
    pub fn join(&self) -> Result<(), GobjError> {
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        match thread {
            Some(thread) => thread
                .join()
                .map_err(|_| GobjError::failed(format!("gaplic `{}` panicked", self.name())))?,
            None => Ok(()),
        }
    }
}

fn directory() -> &'static Mutex<HashMap<String, GaplicHandle>> {
    static DIRECTORY: OnceLock<Mutex<HashMap<String, GaplicHandle>>> = OnceLock::new();
    DIRECTORY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Removes a gaplic from the directory when its thread ends.
struct Listed(String);

impl Drop for Listed {
    fn drop(&mut self) {
        if let Ok(mut gaplics) = directory().lock() {
            gaplics.remove(&self.0);
        }
    }
}

/// Builds a gaplic called `name` on a new thread, runs `setup` on it there
/// (create the gobjs), then its loop until stopped. The gaplic is known to
/// the other gaplics of the process by its name while it runs.
///
/// # Errors
///
/// [`GobjError::DuplicateName`] when a gaplic of that name runs already;
/// the error `setup` returns (the thread then ends);
/// [`GobjError::Io`] when the thread or the poll cannot be made.
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
    let thread = std::thread::Builder::new()
        .name(builder.name().to_owned())
        .spawn(move || -> Result<(), GobjError> {
            let mut gaplic = match builder.build() {
                Ok(gaplic) => gaplic,
                Err(error) => {
                    let _ = ready_tx.send(Err(clone_error(&error)));
                    return Err(error);
                }
            };
            let name = gaplic.name().to_owned();
            let handle = GaplicHandle::from_inbox(gaplic.inbox().clone());
            {
                let Ok(mut gaplics) = directory().lock() else {
                    let _ =
                        ready_tx.send(Err(GobjError::failed("the gaplic directory is poisoned")));
                    return Ok(());
                };
                if gaplics.contains_key(&name) {
                    let _ = ready_tx.send(Err(GobjError::DuplicateName { name }));
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
        .map_err(|error| GobjError::Io {
            context: "cannot start the gaplic's thread",
            error,
        })?;
    let handle = ready_rx
        .recv()
        .map_err(|_| GobjError::failed("the gaplic's thread ended during its setup"))?;
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
    GobjError::failed(error)
}
