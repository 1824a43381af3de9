//! `GaplicBuilder`: a gaplic's options, before it exists.

use crate::error::GobjError;
use crate::gaplic::Gaplic;
use crate::kw::Kw;

/// The posted events delivered in one turn, before timers and other threads
/// get their turn.
pub const DEFAULT_BATCH: usize = 256;

/// How deep direct sends may nest by default (a send from an action, whose
/// receiver sends from its action, ...), counting broadcasts delivered by
/// send. Past it a send fails with
/// [`ErrorKind::TooDeep`](crate::ErrorKind::TooDeep) instead of
/// overflowing the stack: a cycle of sends (or of send-mode
/// subscriptions) ends in an error, not an abort. One level takes a few
/// KiB of stack in a debug build, so the default fits the 2 MiB of a
/// spawned thread with room for the actions' own frames.
pub const DEFAULT_MAX_SEND_DEPTH: usize = 128;

/// Builds a [`Gaplic`].
///
/// # Examples
///
/// ```
/// use gaplic::Gaplic;
///
/// let gaplic = Gaplic::builder("test").role("worker").virtual_clock().batch(16).build()?;
/// assert_eq!(gaplic.name(), "test");
/// assert_eq!(gaplic.roles(), ["worker"]);
/// # Ok::<(), gaplic::GobjError>(())
/// ```
#[derive(Debug)]
pub struct GaplicBuilder {
    pub(crate) name: String,
    pub(crate) roles: Vec<String>,
    pub(crate) virtual_clock: bool,
    pub(crate) batch: usize,
    pub(crate) max_send_depth: usize,
    pub(crate) settings: Kw,
    pub(crate) stack_size: Option<usize>,
}

impl GaplicBuilder {
    pub(crate) fn new(name: String) -> Self {
        GaplicBuilder {
            name,
            roles: Vec::new(),
            virtual_clock: false,
            batch: DEFAULT_BATCH,
            max_send_depth: DEFAULT_MAX_SEND_DEPTH,
            settings: Kw::new(),
            stack_size: None,
        }
    }

    /// The name the gaplic will have.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds a role.
    #[must_use]
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.roles.push(role.into());
        self
    }

    /// Uses a virtual clock, which moves only with [`Gaplic::advance`] or
    /// when the loop, with nothing else to do, jumps to the next timer.
    #[must_use]
    pub fn virtual_clock(mut self) -> Self {
        self.virtual_clock = true;
        self
    }

    /// The posted events delivered per turn ([`DEFAULT_BATCH`]); at least 1.
    #[must_use]
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// How deep direct sends may nest ([`DEFAULT_MAX_SEND_DEPTH`]); at
    /// least 1. Raise it together with [`stack_size`](Self::stack_size).
    #[must_use]
    pub fn max_send_depth(mut self, depth: usize) -> Self {
        self.max_send_depth = depth.max(1);
        self
    }

    /// The stack of the thread [`spawn_with`](crate::spawn_with) runs the
    /// gaplic on, in bytes (the platform's default for threads otherwise).
    /// No effect on a gaplic run on the caller's thread.
    #[must_use]
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Global attr settings (see [`Gaplic::set_settings`]).
    #[must_use]
    pub fn settings(mut self, settings: Kw) -> Self {
        self.settings = settings;
        self
    }

    /// Makes the gaplic.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the system refuses the
    /// poll.
    pub fn build(self) -> Result<Gaplic, GobjError> {
        Gaplic::from_builder(self)
    }
}
