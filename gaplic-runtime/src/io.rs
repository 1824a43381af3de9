//! IO sources of a gaplic: each mio token names the gobj that owns the
//! source and the event its readiness is delivered as.

use mio::Token;

use crate::poller::FIRST_SOURCE;
use crate::{EventKey, GobjId};

/// The owner of one registered source, and the event it gets.
#[derive(Debug)]
pub(crate) struct IoSource {
    pub(crate) owner: GobjId,
    pub(crate) event: EventKey,
}

/// Registered sources by token; freed tokens are reused.
#[derive(Debug, Default)]
pub(crate) struct IoSources {
    slots: Vec<Option<IoSource>>,
    free: Vec<usize>,
}

impl IoSources {
    pub(crate) fn insert(&mut self, source: IoSource) -> Token {
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index] = Some(source);
                index
            }
            None => {
                self.slots.push(Some(source));
                self.slots.len() - 1
            }
        };
        Token(index + FIRST_SOURCE.0)
    }

    pub(crate) fn get(&self, token: Token) -> Option<&IoSource> {
        let index = token.0.checked_sub(FIRST_SOURCE.0)?;
        self.slots.get(index)?.as_ref()
    }

    pub(crate) fn remove(&mut self, token: Token) -> Option<IoSource> {
        let index = token.0.checked_sub(FIRST_SOURCE.0)?;
        let source = self.slots.get_mut(index)?.take()?;
        self.free.push(index);
        Some(source)
    }
}
