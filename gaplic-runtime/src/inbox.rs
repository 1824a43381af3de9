//! The inbox of a gaplic: what other threads send it, and how it is woken.
//!
//! Senders share an [`Inbox`]; the gaplic's driver holds the receiving
//! side. A message goes through a channel; a sender then wakes the gaplic
//! through its poll's `mio::Waker`, but only when the gaplic is parked
//! (about to block, or blocked): the `parked` flag and a fence on both
//! sides make sure either the gaplic sees the message before it blocks, or
//! the sender sees it parked and wakes it.
//!
//! Closing is exact: once the inbox is closed, every send fails with
//! [`ErrorKind::Stopped`], and every send that succeeded before is in the
//! channel when the gaplic drains it for the last time. Senders count
//! themselves in and out around the channel send; the gaplic closes, then
//! waits for that count to reach zero before its last drain.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering, fence};
use std::sync::mpsc::{Receiver, Sender, channel};

use mio::Waker;

use crate::error::ErrorKind;
use crate::error::GobjError;

const OPEN: u8 = 0;
const CLOSED: u8 = 1;

/// The sending side, shared by every handle of a gaplic.
pub(crate) struct Inbox<M> {
    name: Arc<str>,
    roles: Arc<[String]>,
    sender: Sender<M>,
    waker: Arc<Waker>,
    /// The gaplic is (about to be) blocked in its poll and needs a wake-up.
    parked: AtomicBool,
    state: AtomicU8,
    /// Senders between their check of `state` and the end of their send.
    sending: AtomicUsize,
}

/// The receiving side, held by the gaplic.
pub(crate) struct InboxReceiver<M> {
    shared: Arc<Inbox<M>>,
    receiver: Receiver<M>,
    /// A message taken while parking, given out next.
    held: Option<M>,
}

impl<M> std::fmt::Debug for Inbox<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").field("name", &self.name).finish()
    }
}

impl<M> Inbox<M> {
    /// A new inbox of the gaplic called `name`, with `roles`, woken
    /// through `waker`.
    pub(crate) fn new(
        name: Arc<str>,
        roles: Arc<[String]>,
        waker: Arc<Waker>,
    ) -> (Arc<Self>, InboxReceiver<M>) {
        let (sender, receiver) = channel();
        let shared = Arc::new(Inbox {
            name,
            roles,
            sender,
            waker,
            parked: AtomicBool::new(false),
            state: AtomicU8::new(OPEN),
            sending: AtomicUsize::new(0),
        });
        let receiver = InboxReceiver {
            shared: shared.clone(),
            receiver,
            held: None,
        };
        (shared, receiver)
    }

    /// The gaplic's name.
    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The gaplic's roles.
    pub(crate) fn roles(&self) -> &[String] {
        &self.roles
    }

    fn stopped(&self) -> GobjError {
        ErrorKind::Stopped {
            gaplic: self.name.to_string(),
        }
        .into()
    }

    /// Sends `message` and wakes the gaplic if it is parked.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Stopped`] once the inbox is closed (or its gaplic is
    /// gone); [`ErrorKind::Io`] when the wake-up fails.
    pub(crate) fn send(&self, message: M) -> Result<(), GobjError> {
        self.sending.fetch_add(1, Ordering::SeqCst);
        let sent = if self.state.load(Ordering::SeqCst) == OPEN {
            self.sender.send(message).map_err(|_| self.stopped())
        } else {
            Err(self.stopped())
        };
        self.sending.fetch_sub(1, Ordering::SeqCst);
        sent?;
        self.wake_if_parked()
    }

    /// Sends `message` even on a closed inbox (a stop request: the gaplic
    /// reads it if it is still there). `Err` when the gaplic is gone.
    pub(crate) fn send_anyway(&self, message: M) -> Result<(), GobjError> {
        self.sender.send(message).map_err(|_| self.stopped())?;
        self.wake_if_parked()
    }

    fn wake_if_parked(&self) -> Result<(), GobjError> {
        // Pairs with the fence in `InboxReceiver::park`: either the gaplic
        // sees the message before it blocks, or this sees it parked.
        fence(Ordering::SeqCst);
        if self.parked.load(Ordering::SeqCst) {
            self.waker.wake().map_err(|error| {
                GobjError::from(ErrorKind::Io {
                    context: "cannot wake the gaplic",
                    error,
                })
            })?;
        }
        Ok(())
    }

    /// Closes the inbox: later sends fail. Returns `false` when it was
    /// closed already.
    pub(crate) fn close(&self) -> bool {
        self.state.swap(CLOSED, Ordering::SeqCst) == OPEN
    }
}

impl<M> InboxReceiver<M> {
    /// The shared sending side.
    pub(crate) fn shared(&self) -> &Arc<Inbox<M>> {
        &self.shared
    }

    /// The next message, if any.
    #[inline]
    pub(crate) fn try_recv(&mut self) -> Option<M> {
        if let Some(message) = self.held.take() {
            return Some(message);
        }
        self.receiver.try_recv().ok()
    }

    /// Marks the gaplic parked (about to block): senders will wake it.
    /// Returns whether a message arrived meanwhile, in which case it must
    /// not block; the message is given out by the next `try_recv`.
    pub(crate) fn park(&mut self) -> bool {
        self.shared.parked.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        // A message sent before the sender's fence is visible now.
        self.has_message()
    }

    /// Whether a message waits (it is kept for the next `try_recv`).
    pub(crate) fn has_message(&mut self) -> bool {
        if self.held.is_some() {
            return true;
        }
        match self.receiver.try_recv() {
            Ok(message) => {
                self.held = Some(message);
                true
            }
            Err(_) => false,
        }
    }

    /// Marks the gaplic awake: senders need not wake it.
    pub(crate) fn unpark(&self) {
        self.shared.parked.store(false, Ordering::SeqCst);
    }

    /// Closes the inbox and waits until no sender is between its check and
    /// its send, so that everything sent successfully is in the channel.
    /// Returns `false` when it was closed already.
    pub(crate) fn close_and_settle(&self) -> bool {
        let first = self.shared.close();
        while self.shared.sending.load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
        first
    }
}
