//! The simulated network, as data: a table of cut links, the global faults, and the
//! queue of messages in flight, ordered by delivery time.
//!
//! A link `(from, to)` is one direction; a partition is a set of cut links. Faults are
//! drawn from the network's own RNG, seeded from the cluster seed, when a message is sent:
//! whether it is lost, how long it takes, whether a second copy follows. Without
//! reordering a link is FIFO: a message never overtakes one sent before it on the same
//! link. Cuts are checked again when a message is due, so a message already on the wire
//! when a link is cut is lost.
//!
//! The messages in flight wait in one inbox per receiver, in the order they are delivered
//! in, (delivery time, id): a hand-off takes the front of one inbox, and a message sent
//! is nearly always due after those already waiting for its receiver, so it joins at the
//! back. The earliest message overall is the earliest of the inboxes' fronts.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::raft::{Envelope, NodeId};

use super::NetworkConfig;
use super::event::{DropReason, EventKind, MsgId, MsgInfo};
use super::storm::{self, Storm, StormLimits};

/// A message in flight.
#[derive(Clone, Debug, PartialEq)]
pub struct InFlight {
    pub id: MsgId,
    /// When it was put on the wire.
    pub sent_us: u64,
    pub deliver_us: u64,
    /// Shared with the events that name the message: never copied on the way.
    pub envelope: Arc<Envelope>,
}

impl InFlight {
    /// Where the message stands in the order of delivery: (delivery time, id).
    fn order(&self) -> (u64, MsgId) {
        (self.deliver_us, self.id)
    }

    fn link(&self) -> (NodeId, NodeId) {
        (self.envelope.from, self.envelope.to)
    }
}

/// The messages in flight to one node, and the links into it.
#[derive(Clone, Debug)]
struct Inbox {
    to: NodeId,
    /// Invariant: in the order of delivery, [`InFlight::order`], strictly increasing.
    queue: VecDeque<InFlight>,
    /// When the front of `queue` is due; `u64::MAX` when it is empty. Kept by every
    /// change to the queue, so that finding the next message due reads one number an
    /// inbox.
    front_us: u64,
    /// Each link into `to` that ever carried a message, by sender.
    links: Vec<Link>,
}

/// What the network keeps of one link `(from, to)` (in the inbox of `to`).
#[derive(Clone, Copy, Debug)]
struct Link {
    from: NodeId,
    /// The latest delivery time on the link, to keep it FIFO without reordering.
    last_due: u64,
    /// How many messages are in flight on the link.
    load: usize,
}

impl Inbox {
    fn new(to: NodeId) -> Inbox {
        Inbox {
            to,
            queue: VecDeque::new(),
            front_us: u64::MAX,
            links: Vec::new(),
        }
    }

    fn refresh_front(&mut self) {
        self.front_us = self.queue.front().map_or(u64::MAX, |m| m.deliver_us);
    }

    /// The position in `links` of the link from `from`, made (unused) if it has carried
    /// nothing yet.
    fn link_position(&mut self, from: NodeId) -> usize {
        match self.links.iter().position(|link| link.from == from) {
            Some(position) => position,
            None => {
                self.links.push(Link {
                    from,
                    last_due: 0,
                    load: 0,
                });
                self.links.len() - 1
            }
        }
    }

    /// Puts `message`, on the link at `link` in `links`, in its place in the order of
    /// delivery: at the back, unless it is due before the last one (reordering, `dup MSG`,
    /// senders with different delays). Returns the load of its link.
    fn insert(&mut self, link: usize, message: InFlight) -> usize {
        let link = &mut self.links[link];
        link.load += 1;
        let load = link.load;
        let order = message.order();
        match self.queue.back() {
            Some(last) if last.order() > order => {
                let at = self.place_from_back(order);
                self.queue.insert(at, message);
            }
            _ => self.queue.push_back(message),
        }
        self.refresh_front();
        load
    }

    /// Where a message due at `order` goes in the queue: after the last one due before it.
    /// Searched from the back, one by one: a message is nearly always due before only the
    /// last one or two.
    fn place_from_back(&self, order: (u64, MsgId)) -> usize {
        let (front, back) = self.queue.as_slices();
        let before = |m: &InFlight| m.order() < order;
        match back.iter().rposition(before) {
            Some(last_before) => front.len() + last_before + 1,
            None => front.iter().rposition(before).map_or(0, |last| last + 1),
        }
    }

    /// Counts a message taken off the link from `from` (which carried it: its link is
    /// there).
    fn unload(&mut self, from: NodeId) {
        if let Some(link) = self.links.iter_mut().find(|link| link.from == from) {
            link.load = link.load.saturating_sub(1);
        }
    }

    /// Whether a message is due at or before `now_us`.
    fn has_due(&self, now_us: u64) -> bool {
        self.front_us <= now_us
    }

    /// How many messages at the front are due at or before `now_us`.
    fn due_count(&self, now_us: u64) -> usize {
        self.queue.partition_point(|m| m.deliver_us <= now_us)
    }

    /// Takes the messages due at or before `now_us`, in order, handing each to `each`.
    /// Returns how many.
    fn take_due(&mut self, now_us: u64, mut each: impl FnMut(InFlight)) -> usize {
        let mut count = 0;
        while self.front_us <= now_us {
            let Some(message) = self.queue.pop_front() else {
                break;
            };
            self.unload(message.envelope.from);
            self.refresh_front();
            each(message);
            count += 1;
        }
        count
    }

    /// Takes the messages due at or before `now_us` that cannot arrive into `taken`: all
    /// of them when the node is `down`, else those on a link in `cut`.
    fn take_undeliverable(
        &mut self,
        now_us: u64,
        down: bool,
        cut: &BTreeSet<(NodeId, NodeId)>,
        taken: &mut Vec<(InFlight, DropReason)>,
    ) {
        let mut position = 0;
        for _ in 0..self.due_count(now_us) {
            let reason = if down {
                DropReason::NodeDown
            } else if cut.contains(&self.queue[position].link()) {
                DropReason::Cut
            } else {
                position += 1;
                continue;
            };
            taken.extend(self.remove(position).map(|m| (m, reason)));
        }
    }

    /// Takes the message at `position` out of the queue.
    fn remove(&mut self, position: usize) -> Option<InFlight> {
        let message = self.queue.remove(position)?;
        self.unload(message.envelope.from);
        self.refresh_front();
        Some(message)
    }

    /// Takes every message from or to `node` into `taken`.
    fn take_traffic_of(&mut self, node: NodeId, taken: &mut Vec<InFlight>) {
        let (gone, kept) = (self.queue.drain(..))
            .partition(|m: &InFlight| m.envelope.from == node || m.envelope.to == node);
        self.queue = kept;
        for message in &gone {
            self.unload(message.envelope.from);
        }
        self.refresh_front();
        taken.extend(gone);
    }
}

/// Where the network keeps a link: the position of its inbox in `Network::inboxes` and
/// its own in that inbox's `links`.
#[derive(Clone, Copy, Debug)]
struct LinkAt {
    inbox: usize,
    link: usize,
}

/// The network between the nodes.
#[derive(Clone, Debug)]
pub struct Network {
    config: NetworkConfig,
    /// Cut links, one direction each.
    cut: BTreeSet<(NodeId, NodeId)>,
    /// The partition groups last set (`partition`, `isolate`), for views; empty when none.
    groups: Vec<Vec<NodeId>>,
    /// The messages in flight, one inbox per receiver that was ever sent one, by node id.
    inboxes: Vec<Inbox>,
    /// How many messages are in flight: the sum of the inboxes' lengths.
    in_flight: usize,
    limits: StormLimits,
    /// Whether a bound of `limits` was crossed (reported once).
    storm_seen: bool,
    /// The storm found and not yet taken ([`Network::take_storm`]), and its nodes.
    storm: Option<(Storm, Vec<NodeId>)>,
    next_id: MsgId,
    rng: ChaCha8Rng,
}

impl Network {
    pub fn new(config: NetworkConfig, seed: u64) -> Network {
        Network {
            config,
            cut: BTreeSet::new(),
            groups: Vec::new(),
            inboxes: Vec::new(),
            in_flight: 0,
            limits: StormLimits::for_nodes(0),
            storm_seen: false,
            storm: None,
            next_id: 1,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Sets the load bounds (see [`super::storm`]).
    pub fn set_limits(&mut self, limits: StormLimits) {
        self.limits = limits;
    }

    /// The storm found since the last call, if any, and the nodes of its link.
    pub fn take_storm(&mut self) -> Option<(Storm, Vec<NodeId>)> {
        self.storm.take()
    }

    /// The position in `inboxes` of the inbox of `to`, or where it would go.
    fn find_inbox(&self, to: NodeId) -> Result<usize, usize> {
        crate::raft::find_node(&self.inboxes, to, |inbox| inbox.to)
    }

    /// The position in `inboxes` of the inbox of `to`, made (empty) if it was never sent
    /// a message.
    fn inbox_position(&mut self, to: NodeId) -> usize {
        match self.find_inbox(to) {
            Ok(position) => position,
            Err(position) => {
                self.inboxes.insert(position, Inbox::new(to));
                position
            }
        }
    }

    /// Where the network keeps link `(from, to)`, made if it has carried nothing yet.
    /// Valid until the next inbox is made.
    #[inline(always)]
    fn link_at(&mut self, (from, to): (NodeId, NodeId)) -> LinkAt {
        let inbox = self.inbox_position(to);
        let link = self.inboxes[inbox].link_position(from);
        LinkAt { inbox, link }
    }

    fn link_mut(&mut self, at: LinkAt) -> &mut Link {
        &mut self.inboxes[at.inbox].links[at.link]
    }

    /// Whether a message on the link at `at` would take the network past twice a bound:
    /// refused.
    fn overloaded(&mut self, at: LinkAt) -> bool {
        let load = self.link_mut(at).load;
        self.in_flight >= 2 * self.limits.in_flight || load >= 2 * self.limits.per_link
    }

    /// Notes a storm the first time a bound is crossed, after a message on `link`, which
    /// now carries `link_load` messages. Inlined into each message sent; the storm is
    /// noted apart.
    #[inline(always)]
    fn watch_load(&mut self, link: (NodeId, NodeId), link_load: usize) {
        let crossed = self.in_flight > self.limits.in_flight || link_load > self.limits.per_link;
        if crossed && !self.storm_seen {
            self.note_storm(link, link_load);
        }
    }

    /// Notes the storm [`Network::watch_load`] found.
    fn note_storm(&mut self, link: (NodeId, NodeId), link_load: usize) {
        let load = if self.in_flight > self.limits.in_flight {
            let count = self.in_flight as u64;
            storm::Load::InFlight { count }
        } else if link_load > self.limits.per_link {
            let (from, to) = link;
            let count = link_load as u64;
            storm::Load::OnLink { count, from, to }
        } else {
            return;
        };
        self.storm_seen = true;
        let messages = (self.inboxes.iter())
            .flat_map(|inbox| &inbox.queue)
            .map(storm::kind_and_link);
        self.storm = Some(storm::summarise(load, messages));
    }

    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    pub fn set_config(&mut self, config: NetworkConfig) {
        self.config = config;
    }

    /// Whether messages from `from` reach `to`.
    pub fn is_connected(&self, from: NodeId, to: NodeId) -> bool {
        self.cut.is_empty() || !self.cut.contains(&(from, to))
    }

    /// Whether any link is cut.
    pub fn any_cut(&self) -> bool {
        !self.cut.is_empty()
    }

    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        self.cut.insert((from, to));
    }

    pub fn link(&mut self, from: NodeId, to: NodeId) {
        self.cut.remove(&(from, to));
    }

    /// Splits `nodes` into `groups`: every link between two groups is cut, both ways;
    /// links inside a group are restored. Nodes named in no group form a group of their own.
    pub fn partition(&mut self, nodes: &[NodeId], groups: Vec<Vec<NodeId>>) {
        let mut groups = groups;
        let named: BTreeSet<NodeId> = groups.iter().flatten().copied().collect();
        let rest: Vec<NodeId> = nodes
            .iter()
            .copied()
            .filter(|n| !named.contains(n))
            .collect();
        if !rest.is_empty() {
            groups.push(rest);
        }
        let group_of: BTreeMap<NodeId, usize> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, members)| members.iter().map(move |&n| (n, g)))
            .collect();
        self.cut.clear();
        for &a in nodes {
            for &b in nodes {
                if a != b && group_of.get(&a) != group_of.get(&b) {
                    self.cut.insert((a, b));
                }
            }
        }
        self.groups = groups;
    }

    /// Recomputes the partition groups the views show from the cut links: the groups are
    /// the sets of nodes that reach each other, when every link between two of them is cut
    /// both ways and none inside one is; otherwise (a one-way cut, a single cut link) there
    /// are no groups to show, and the views show the cut links instead.
    pub fn refresh_groups(&mut self, nodes: &[NodeId]) {
        // Which node reaches which, by their positions in `nodes`: one pass over the cut
        // links, then no more lookups.
        let n = nodes.len();
        let mut reach = vec![true; n * n];
        let position = |node: NodeId| nodes.iter().position(|&m| m == node);
        for &(from, to) in &self.cut {
            if let (Some(a), Some(b)) = (position(from), position(to)) {
                reach[a * n + b] = false;
            }
        }
        let connected = |a: usize, b: usize| reach[a * n + b];
        let mut group_of = Vec::with_capacity(n);
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for node in 0..n {
            let found = groups.iter().position(|group| {
                group
                    .iter()
                    .all(|&m| connected(node, m) && connected(m, node))
            });
            let index = found.unwrap_or_else(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[index].push(node);
            group_of.push(index);
        }
        let clean = (0..n)
            .all(|a| (0..n).all(|b| a == b || (group_of[a] == group_of[b]) == connected(a, b)));
        self.groups = if clean && groups.len() > 1 {
            let ids = |group: Vec<usize>| group.into_iter().map(|m| nodes[m]).collect();
            groups.into_iter().map(ids).collect()
        } else {
            Vec::new()
        };
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        self.cut.clear();
        self.groups.clear();
    }

    /// The partition groups last set, if the network is partitioned.
    pub fn groups(&self) -> &[Vec<NodeId>] {
        &self.groups
    }

    /// The cut links.
    pub fn cut_links(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        self.cut.iter().copied()
    }

    /// Puts a message on the wire at `now_us`: lost, or queued (perhaps twice). Returns the
    /// events it caused.
    pub fn send(&mut self, now_us: u64, envelope: Envelope) -> Vec<EventKind> {
        let mut events = Vec::new();
        self.send_into(now_us, envelope, |event| events.push(event));
        events
    }

    /// [`Network::send`], handing each event to `events` as it happens, in order: the
    /// scheduler emits them at once, without a list between.
    pub fn send_into(
        &mut self,
        now_us: u64,
        envelope: Envelope,
        mut events: impl FnMut(EventKind),
    ) {
        let id = self.take_id();
        let envelope = Arc::new(envelope);
        let info = MsgInfo::of(&envelope);
        if !self.is_connected(envelope.from, envelope.to) {
            let reason = DropReason::Cut;
            events(EventKind::Dropped { id, info, reason });
            return;
        }
        if self.config.drop > 0.0 && self.rng.random_bool(self.config.drop) {
            let reason = DropReason::Loss;
            events(EventKind::Dropped { id, info, reason });
            return;
        }
        let at = self.link_at((envelope.from, envelope.to));
        if self.overloaded(at) {
            let reason = DropReason::Overload;
            events(EventKind::Dropped { id, info, reason });
            return;
        }
        let deliver_us = self.delivery_time(now_us, at);
        events(EventKind::Sent {
            id,
            info,
            deliver_us,
        });
        if self.config.duplicate > 0.0 && self.rng.random_bool(self.config.duplicate) {
            let copy = self.take_id();
            let copy_due = self.delivery_time(now_us, at);
            self.enqueue(at, copy, (now_us, copy_due), Arc::clone(&envelope));
            events(EventKind::Duplicated { id, copy });
        }
        self.enqueue(at, id, (now_us, deliver_us), envelope);
    }

    fn take_id(&mut self) -> MsgId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// When a message sent at `now_us` on the link at `at` is delivered. Inlined, as
    /// [`Network::link_at`] and [`Network::enqueue`]: a step of each message sent.
    #[inline(always)]
    fn delivery_time(&mut self, now_us: u64, at: LinkAt) -> u64 {
        let (lo, hi) = (self.config.delay_min_us, self.config.delay_max_us);
        let delay_us = self.rng.random_range(lo..=hi);
        if self.config.reorder {
            // Reordering: an extra delay of up to twice the longest one, and no FIFO.
            let extra_us = self.rng.random_range(0..=hi.saturating_mul(2));
            return now_us + delay_us + extra_us;
        }
        let link = self.link_mut(at);
        link.last_due = (now_us + delay_us).max(link.last_due);
        link.last_due
    }

    /// Queues a message on the link at `at`, sent and due at `(sent_us, deliver_us)`.
    #[inline(always)]
    fn enqueue(
        &mut self,
        at: LinkAt,
        id: MsgId,
        (sent_us, deliver_us): (u64, u64),
        envelope: Arc<Envelope>,
    ) {
        let link = (envelope.from, envelope.to);
        let message = InFlight {
            id,
            sent_us,
            deliver_us,
            envelope,
        };
        let link_load = self.inboxes[at.inbox].insert(at.link, message);
        self.in_flight += 1;
        self.watch_load(link, link_load);
    }

    /// When the next message is due.
    pub fn next_due_us(&self) -> Option<u64> {
        let earliest = self.inboxes.iter().map(|inbox| inbox.front_us).min()?;
        (earliest != u64::MAX).then_some(earliest)
    }

    /// Every node that was ever sent a message, in id order (an inbox is never let go).
    pub fn receivers(&self) -> impl ExactSizeIterator<Item = NodeId> + '_ {
        self.inboxes.iter().map(|inbox| inbox.to)
    }

    /// The nodes with a message due at or before `now_us`, in id order.
    pub fn due_receivers(&self, now_us: u64) -> impl Iterator<Item = NodeId> + '_ {
        (self.inboxes.iter())
            .filter(move |inbox| inbox.has_due(now_us))
            .map(|inbox| inbox.to)
    }

    /// The messages due at or before `now_us`, as (id, from, to), in delivery order.
    pub fn due_links(&self, now_us: u64) -> impl Iterator<Item = (MsgId, NodeId, NodeId)> {
        let mut due: Vec<(u64, MsgId, NodeId, NodeId)> = (self.inboxes.iter())
            .flat_map(|inbox| inbox.queue.range(..inbox.due_count(now_us)))
            .map(|m| (m.deliver_us, m.id, m.envelope.from, m.envelope.to))
            .collect();
        // In delivery order: by due time, then id, as `InFlight::order` has it.
        due.sort_unstable();
        due.into_iter().map(|(_, id, from, to)| (id, from, to))
    }

    /// Takes every message for `node` due at or before `now_us`, in delivery order, handing
    /// each to `each` as it is taken (a hand-off puts it straight into the node's batch).
    pub fn take_due_for(&mut self, node: NodeId, now_us: u64, each: impl FnMut(InFlight)) {
        let Ok(position) = self.find_inbox(node) else {
            return;
        };
        self.in_flight -= self.inboxes[position].take_due(now_us, each);
    }

    /// Takes the messages due at or before `now_us` that cannot arrive: those to a node in
    /// `down` (as [`DropReason::NodeDown`]) and those on a cut link (as
    /// [`DropReason::Cut`]). Returns them in delivery order.
    pub fn take_undeliverable(
        &mut self,
        now_us: u64,
        down: &[NodeId],
    ) -> Vec<(InFlight, DropReason)> {
        let mut taken = Vec::new();
        for inbox in &mut self.inboxes {
            let down = down.contains(&inbox.to);
            if down || !self.cut.is_empty() {
                inbox.take_undeliverable(now_us, down, &self.cut, &mut taken);
            }
        }
        self.in_flight -= taken.len();
        taken.sort_unstable_by_key(|(message, _)| message.order());
        taken
    }

    /// Where message `id` is: (inbox, position in its queue).
    fn find(&self, id: MsgId) -> Option<(usize, usize)> {
        self.inboxes.iter().enumerate().find_map(|(i, inbox)| {
            let position = inbox.queue.iter().position(|message| message.id == id)?;
            Some((i, position))
        })
    }

    /// Takes message `id` off the wire, wherever it is in the queue.
    pub fn take(&mut self, id: MsgId) -> Option<InFlight> {
        let (inbox, position) = self.find(id)?;
        let message = self.inboxes[inbox].remove(position)?;
        self.in_flight -= 1;
        Some(message)
    }

    /// Puts a second copy of message `id` on the wire, due when the first is, under the
    /// next id (`dup MSG`; what a duplicating network does at random). Returns the copy's id.
    pub fn duplicate(&mut self, id: MsgId) -> Option<MsgId> {
        let (inbox, position) = self.find(id)?;
        let message = &self.inboxes[inbox].queue[position];
        let times = (message.sent_us, message.deliver_us);
        let envelope = Arc::clone(&message.envelope);
        let copy = self.take_id();
        let at = self.link_at((envelope.from, envelope.to));
        self.enqueue(at, copy, times, envelope);
        Some(copy)
    }

    /// The messages in flight, in delivery order.
    pub fn in_flight(&self) -> Vec<InFlight> {
        let mut all: Vec<InFlight> = (self.inboxes.iter())
            .flat_map(|inbox| inbox.queue.iter().cloned())
            .collect();
        all.sort_unstable_by_key(InFlight::order);
        all
    }

    pub fn in_flight_count(&self) -> usize {
        self.in_flight
    }

    /// Drops every message in flight to or from `node` (it went down). Returns the events,
    /// in delivery order.
    pub fn drop_node_traffic(&mut self, node: NodeId) -> Vec<EventKind> {
        let mut dropped = Vec::new();
        for inbox in &mut self.inboxes {
            inbox.take_traffic_of(node, &mut dropped);
        }
        self.in_flight -= dropped.len();
        dropped.sort_unstable_by_key(InFlight::order);
        (dropped.into_iter())
            .map(|message| EventKind::Dropped {
                id: message.id,
                info: MsgInfo::of(&message.envelope),
                reason: DropReason::NodeDown,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::Message;

    fn vote(from: NodeId, to: NodeId) -> Envelope {
        let message = Message::VoteResponse { granted: true };
        Envelope {
            from,
            to,
            term: 1,
            message,
        }
    }

    #[test]
    fn a_link_without_reordering_is_fifo() {
        let config = NetworkConfig {
            delay_min_us: 1,
            delay_max_us: 10_000,
            ..Default::default()
        };
        let mut net = Network::new(config, 3);
        for t in 0..50 {
            net.send(t, vote(1, 2));
        }
        let ids: Vec<MsgId> = net.in_flight().iter().map(|m| m.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    /// The ids and delivery times of messages, in the order given.
    fn order_of(messages: &[InFlight]) -> Vec<(u64, MsgId)> {
        messages.iter().map(InFlight::order).collect()
    }

    /// Whether every link's load is zero, as it is with nothing in flight.
    fn unloaded(net: &Network) -> bool {
        (net.inboxes.iter())
            .flat_map(|inbox| &inbox.links)
            .all(|link| link.load == 0)
    }

    #[test]
    fn a_node_is_handed_its_due_messages_in_delivery_order_and_no_others() {
        let config = NetworkConfig {
            delay_min_us: 1,
            delay_max_us: 10_000,
            reorder: true,
            ..Default::default()
        };
        let mut net = Network::new(config, 7);
        for t in 0..60 {
            net.send(t, vote(1 + t % 3, 4));
            net.send(t, vote(4, 1));
        }
        let all = net.in_flight();
        assert_eq!(all.len(), 120);
        assert!(order_of(&all).is_sorted());
        assert_eq!(net.next_due_us(), all.first().map(|m| m.deliver_us));
        let now = 5_000;
        let mut due = Vec::new();
        net.take_due_for(4, now, |m| due.push(m));
        let expected: Vec<_> = (all.iter())
            .filter(|m| m.envelope.to == 4 && m.deliver_us <= now)
            .cloned()
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(due, expected);
        assert_eq!(net.in_flight_count(), 120 - due.len());
        assert!(net.due_receivers(now).eq([1]));
        let later: Vec<_> = all.into_iter().filter(|m| !due.contains(m)).collect();
        assert_eq!(net.in_flight(), later);
        assert_eq!(net.next_due_us(), later.first().map(|m| m.deliver_us));
        for node in [1, 4] {
            net.take_due_for(node, u64::MAX, |m| due.push(m));
        }
        assert_eq!(net.in_flight_count(), 0);
        assert_eq!(net.next_due_us(), None);
        assert!(unloaded(&net));
    }

    #[test]
    fn a_copy_is_delivered_right_after_its_original() {
        let mut net = Network::new(NetworkConfig::default(), 3);
        for t in 0..5 {
            net.send(t * 10_000, vote(1, 2));
        }
        let first = net.in_flight()[0].clone();
        let copy = net.duplicate(first.id).expect("the message is in flight");
        let mut due = Vec::new();
        net.take_due_for(2, u64::MAX, |m| due.push(m));
        let ids: Vec<MsgId> = due.iter().map(|m| m.id).collect();
        assert_eq!(ids, [first.id, copy, 2, 3, 4, 5]);
        assert_eq!(due[1].deliver_us, first.deliver_us);
    }

    #[test]
    fn undeliverable_messages_are_taken_in_delivery_order_with_their_reason() {
        let mut net = Network::new(NetworkConfig::default(), 5);
        for t in 0..20 {
            net.send(t * 500, vote(1, 2));
            net.send(t * 500, vote(3, 2));
            net.send(t * 500, vote(2, 3));
        }
        let all = net.in_flight();
        net.cut(1, 2);
        let now = 6_000;
        let taken = net.take_undeliverable(now, &[3]);
        let expected: Vec<_> = (all.iter())
            .filter(|m| m.deliver_us <= now)
            .filter_map(|m| match (m.envelope.from, m.envelope.to) {
                (1, 2) => Some((m.clone(), DropReason::Cut)),
                (_, 3) => Some((m.clone(), DropReason::NodeDown)),
                _ => None,
            })
            .collect();
        assert!(expected.iter().any(|(_, r)| *r == DropReason::Cut));
        assert!(expected.iter().any(|(_, r)| *r == DropReason::NodeDown));
        assert_eq!(taken, expected);
        assert_eq!(net.in_flight_count(), all.len() - taken.len());
        // What stays: those not yet due, and those from 3 to 2.
        let kept = net.in_flight();
        assert!(
            kept.iter()
                .all(|m| m.deliver_us > now || m.envelope.from == 3)
        );
        // Node 2 goes down: every message left is to or from it.
        let ids: Vec<MsgId> = (net.drop_node_traffic(2).iter())
            .filter_map(|event| match event {
                EventKind::Dropped { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(ids, kept.iter().map(|m| m.id).collect::<Vec<_>>());
        net.drop_node_traffic(3);
        assert_eq!(net.in_flight_count(), 0);
        assert!(unloaded(&net));
    }

    #[test]
    fn a_one_way_cut_stops_one_direction_only() {
        let mut net = Network::new(NetworkConfig::default(), 1);
        net.cut(1, 2);
        assert!(matches!(
            net.send(0, vote(1, 2))[0],
            EventKind::Dropped { .. }
        ));
        assert!(matches!(net.send(0, vote(2, 1))[0], EventKind::Sent { .. }));
    }

    #[test]
    fn a_partition_cuts_between_groups_and_not_inside() {
        let mut net = Network::new(NetworkConfig::default(), 1);
        net.partition(&[1, 2, 3, 4, 5], vec![vec![1, 2], vec![3, 4]]);
        assert!(net.is_connected(1, 2) && net.is_connected(3, 4));
        assert!(!net.is_connected(1, 3) && !net.is_connected(4, 2));
        assert!(!net.is_connected(5, 1) && !net.is_connected(3, 5));
        assert_eq!(net.groups().len(), 3);
        net.heal();
        assert!(net.is_connected(1, 3));
    }

    #[test]
    fn groups_are_found_from_the_cut_links_only_when_they_split_the_nodes_cleanly() {
        let nodes = [1, 2, 3, 4];
        let mut net = Network::new(NetworkConfig::default(), 1);
        net.partition(&nodes, vec![vec![1, 3], vec![2, 4]]);
        net.refresh_groups(&nodes);
        assert_eq!(net.groups(), [vec![1, 3], vec![2, 4]]);
        // 1 and 2 reach each other again, but not each other's group: no clean groups.
        net.link(1, 2);
        net.link(2, 1);
        net.refresh_groups(&nodes);
        assert!(net.groups().is_empty());
        // One node cut off both ways is a group of its own.
        net.heal();
        for other in [1, 2, 3] {
            net.cut(4, other);
            net.cut(other, 4);
        }
        net.refresh_groups(&nodes);
        assert_eq!(net.groups(), [vec![1, 2, 3], vec![4]]);
        // A one-way cut splits nothing.
        net.heal();
        net.cut(1, 2);
        net.refresh_groups(&nodes);
        assert!(net.groups().is_empty());
    }
}
