//! Queued events: the one shape an event takes while it waits, in the
//! gaplic's queue of posted events or in a gobj's pending events, and the
//! FIFO of posted events.

use std::collections::VecDeque;

use crate::event::Origin;
use crate::gobj::EventKey;
use crate::id::{GobjId, MaybeGobj};
use crate::kw::Kw;

/// Capacity the post queue keeps when it is idle; a burst beyond it is
/// given back to the allocator once the queue is drained.
const KEEP_CAPACITY: usize = 1024;

/// An event waiting for delivery.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) dst: GobjId,
    pub(crate) event: EventKey,
    pub(crate) kw: Kw,
    /// The gobj that sent or posted it, kept as the event's source.
    pub(crate) source: MaybeGobj,
    /// For an event from another gaplic, where to reply. Boxed: most events
    /// are local, and queues move every entry.
    pub(crate) origin: Option<Box<Origin>>,
}

impl Queued {
    /// An event from gobj `source` (or from outside any gobj) of this
    /// gaplic.
    pub(crate) fn local(dst: GobjId, event: EventKey, kw: Kw, source: Option<GobjId>) -> Self {
        Queued {
            dst,
            event,
            kw,
            source: MaybeGobj::of(source),
            origin: None,
        }
    }
}

/// The posted events of a gaplic, first in, first out.
#[derive(Debug, Default)]
pub(crate) struct PostQueue {
    events: VecDeque<Queued>,
}

impl PostQueue {
    pub(crate) fn push(&mut self, queued: Queued) {
        self.events.push_back(queued);
    }

    pub(crate) fn pop(&mut self) -> Option<Queued> {
        self.events.pop_front()
    }

    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Gives back the memory a burst left, once the queue is empty.
    pub(crate) fn release_spare(&mut self) {
        if self.events.is_empty() && self.events.capacity() > KEEP_CAPACITY {
            self.events.shrink_to(KEEP_CAPACITY);
        }
    }

    /// How many events the queue can hold without allocating.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.events.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drained_burst_gives_its_memory_back() {
        let mut queue = PostQueue::default();
        let dst = GobjId::new(0, 0);
        for _ in 0..100_000 {
            queue.push(Queued::local(dst, EventKey::from("EV_X"), Kw::new(), None));
        }
        while queue.pop().is_some() {}
        assert!(queue.capacity() >= 100_000);
        queue.release_spare();
        assert!(queue.capacity() <= KEEP_CAPACITY.next_power_of_two());
    }
}
