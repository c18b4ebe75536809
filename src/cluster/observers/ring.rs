//! The event log's ring: the latest events, oldest first. Once it is full, each new event
//! is written over the oldest, in its place: no event is moved out of the ring to be
//! dropped, and the ring never moves the others.

use super::{ClusterEvent, EventKind};

/// The latest `capacity` events.
///
/// Invariant: `events.len() <= capacity`; while the ring is not full, `oldest` is 0 and
/// `events` is in order; once full, the oldest event is at `oldest` and the order runs on
/// from there, around the end.
pub(super) struct Ring {
    events: Vec<ClusterEvent>,
    oldest: usize,
    capacity: usize,
}

impl Ring {
    /// An empty ring of `capacity` events (at least one), its room taken at once: growing
    /// it by doubling would copy every event kept. Its pages are only touched as events
    /// arrive.
    pub(super) fn with_capacity(capacity: usize) -> Ring {
        let capacity = capacity.max(1);
        Ring {
            events: Vec::with_capacity(capacity),
            oldest: 0,
            capacity,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.events.len()
    }

    /// Keeps the event of `kind` at `time_us`, written over the oldest if the ring is
    /// full; returns it, kept. Inlined into its one caller, so that the event is moved
    /// once, into its place.
    #[inline(always)]
    pub(super) fn push(&mut self, time_us: u64, kind: EventKind) -> &ClusterEvent {
        if self.events.len() < self.capacity {
            self.events.push(ClusterEvent { time_us, kind });
            return self.events.last().expect("just pushed");
        }
        let at = self.oldest;
        self.oldest = if at + 1 == self.capacity { 0 } else { at + 1 };
        let slot = &mut self.events[at];
        slot.time_us = time_us;
        slot.kind = kind;
        slot
    }

    /// The latest event.
    pub(super) fn back(&self) -> Option<&ClusterEvent> {
        match self.oldest {
            0 => self.events.last(),
            after => self.events.get(after - 1),
        }
    }

    /// The events kept, oldest first, after the first `skip` of them.
    pub(super) fn iter_from(&self, skip: usize) -> impl Iterator<Item = &ClusterEvent> {
        let (newer, older) = self.events.split_at(self.oldest);
        let (older, newer) = match skip.checked_sub(older.len()) {
            None => (&older[skip..], newer),
            Some(past) => (&[][..], &newer[past.min(newer.len())..]),
        };
        older.iter().chain(newer)
    }

    /// Keeps only the latest `capacity` events (at least one) from now on.
    pub(super) fn set_capacity(&mut self, capacity: usize) {
        let capacity = capacity.max(1);
        self.events.rotate_left(self.oldest);
        self.oldest = 0;
        let excess = self.events.len().saturating_sub(capacity);
        self.events.drain(..excess);
        self.events.shrink_to(capacity);
        self.capacity = capacity;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times<'a>(events: impl Iterator<Item = &'a ClusterEvent>) -> Vec<u64> {
        events.map(|e| e.time_us).collect()
    }

    #[test]
    fn a_full_ring_keeps_the_latest_in_order_and_skips_from_the_oldest() {
        let mut ring = Ring::with_capacity(3);
        assert!(ring.back().is_none());
        for time_us in 0..5 {
            assert_eq!(
                ring.push(time_us, EventKind::Timer { node: 1 }).time_us,
                time_us
            );
            assert_eq!(ring.back().map(|e| e.time_us), Some(time_us));
        }
        assert_eq!(ring.len(), 3);
        assert_eq!(times(ring.iter_from(0)), [2, 3, 4]);
        assert_eq!(times(ring.iter_from(1)), [3, 4]);
        assert_eq!(times(ring.iter_from(2)), [4]);
        assert_eq!(times(ring.iter_from(3)), [0; 0]);
        assert_eq!(times(ring.iter_from(9)), [0; 0]);
    }

    #[test]
    fn a_ring_shrunk_or_grown_keeps_its_order() {
        let mut ring = Ring::with_capacity(4);
        for time_us in 0..6 {
            ring.push(time_us, EventKind::Timer { node: 1 });
        }
        ring.set_capacity(3);
        assert_eq!(times(ring.iter_from(0)), [3, 4, 5]);
        ring.push(6, EventKind::Timer { node: 1 });
        assert_eq!(times(ring.iter_from(0)), [4, 5, 6]);
        ring.set_capacity(5);
        ring.push(7, EventKind::Timer { node: 1 });
        ring.push(8, EventKind::Timer { node: 1 });
        ring.push(9, EventKind::Timer { node: 1 });
        assert_eq!(times(ring.iter_from(0)), [5, 6, 7, 8, 9]);
        assert_eq!(ring.back().map(|e| e.time_us), Some(9));
    }
}
