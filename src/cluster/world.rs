//! The world the scheduler drives: the nodes, the network between them, and the cluster's
//! membership.
//!
//! Each node has a slot that outlives its threads: the durable storage, and, while the
//! node is up, where its dispatcher runs, its timer, the latest view of its Raft state and
//! its key-value state machine. The [`Network`] holds the links, the fault settings and
//! the messages in flight. The world answers what the cluster is like now, and makes the
//! changes that faults call for (a node started or stopped, a link cut). It never decides
//! when anything happens (that is the [`super::scheduler`]'s job) and never records what
//! happened (that is the [`super::observers`]'s).

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::Sender;

use crate::raft::{
    Entry, Index, MAX_GIVEN_TERM, NodeId, NodeView, Payload, RaftLog, Role, Storage, Term,
};

use super::event::Crash;
use super::kv::KvStateMachine;
use super::network::Network;
use super::node::{self, EventDispatcher, FromNode, ToNode, lock};
use super::view::{NodePicture, TimerKind, TimerView, ViewLimits};
use super::{ClusterConfig, ClusterError, Hosting, NetworkChange, NetworkConfig, seed};

/// Whether a node is running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeState {
    Up,
    Down,
    /// The node's thread panicked (or stopped answering).
    Crashed(Crash),
}

/// Where a running node's dispatcher lives.
pub(super) enum Host {
    /// On a thread of its own, fed through its inbox.
    Thread {
        inbox: Sender<ToNode>,
        thread: JoinHandle<()>,
    },
    /// Here, called directly.
    Inline(Box<EventDispatcher>),
}

/// A running node: where it runs and what the scheduler knows of it.
pub(super) struct Running {
    pub host: Host,
    pub timer_us: u64,
    /// When `timer_us` was last set to a new deadline, for views that draw how much of
    /// the timeout has passed.
    pub timer_set_us: u64,
    /// The node's view: for a node on a thread, the last one it reported (always set); for
    /// one hosted inline, built from the node when first asked for after a hand-off
    /// ([`Running::view`]), since most are never read.
    view: OnceCell<NodeView>,
    pub state_machine: Arc<Mutex<KvStateMachine>>,
}

impl Running {
    /// The node's view as of its last hand-off.
    pub fn view(&self) -> &NodeView {
        self.view.get_or_init(|| match &self.host {
            Host::Inline(dispatcher) => dispatcher.view(),
            Host::Thread { .. } => unreachable!("a node on a thread keeps its last view"),
        })
    }

    /// Takes in what a hand-off's report says of the view: a new one from a node on a
    /// thread (`None`: unchanged); a node hosted inline sends none, and its view, built
    /// before, may be out of date now. The view is taken from `reported` only when there
    /// is one, and an inline node's is let go in place: a view is large, and this runs on
    /// every hand-off.
    pub fn update_view(&mut self, reported: &mut Option<NodeView>) {
        if reported.is_some()
            && let Some(view) = reported.take()
        {
            self.view = OnceCell::from(view);
            return;
        }
        if matches!(self.host, Host::Inline(_)) && self.view.get().is_some() {
            self.view = OnceCell::new();
        }
    }

    /// The node's role and term, as its view shows them, without building a view.
    fn role_and_term(&self) -> (Role, Term) {
        match (self.view.get(), &self.host) {
            (None, Host::Inline(dispatcher)) => dispatcher.role_and_term(),
            _ => (self.view().role, self.view().term),
        }
    }

    /// The voters of the node's latest configuration, sorted, without building a view.
    fn voters(&self) -> &[NodeId] {
        match (self.view.get(), &self.host) {
            (None, Host::Inline(dispatcher)) => dispatcher.voters(),
            _ => &self.view().voters,
        }
    }
}

/// A node's place in the world, whether it runs or not.
pub(super) struct NodeSlot {
    pub id: NodeId,
    pub storage: Arc<Mutex<Storage>>,
    pub running: Option<Running>,
    pub crashed: Option<Crash>,
    pub incarnation: u64,
}

impl NodeSlot {
    fn new(id: NodeId) -> NodeSlot {
        NodeSlot {
            id,
            storage: Arc::new(Mutex::new(Storage::default())),
            running: None,
            crashed: None,
            incarnation: 0,
        }
    }
}

/// The nodes and the network: what the cluster is made of.
pub struct World {
    config: ClusterConfig,
    /// Kept sorted by id.
    nodes: Vec<NodeSlot>,
    network: Network,
}

impl World {
    /// The initial nodes, none running yet, and the network between them.
    pub(super) fn new(config: ClusterConfig, network: Network) -> World {
        let nodes = (1..=config.nodes).map(NodeSlot::new).collect();
        World {
            config,
            nodes,
            network,
        }
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.network
    }

    /// The voters a node is built with: the initial cluster. The configuration entries
    /// in its log, if any, take over from these.
    fn voters(&self) -> Vec<NodeId> {
        (1..=self.config.nodes).collect()
    }

    /// Every node the cluster hosts, the initial ones and those added since, in order.
    pub fn hosted(&self) -> Vec<NodeId> {
        self.nodes.iter().map(|slot| slot.id).collect()
    }

    pub(super) fn slots(&self) -> &[NodeSlot] {
        &self.nodes
    }

    pub(super) fn slot(&self, id: NodeId) -> Result<&NodeSlot, ClusterError> {
        match crate::raft::find_node(&self.nodes, id, |slot| slot.id) {
            Ok(position) => Ok(&self.nodes[position]),
            Err(_) => Err(self.no_such_node(id)),
        }
    }

    pub(super) fn slot_mut(&mut self, id: NodeId) -> Result<&mut NodeSlot, ClusterError> {
        match crate::raft::find_node(&self.nodes, id, |slot| slot.id) {
            Ok(position) => Ok(&mut self.nodes[position]),
            Err(_) => Err(self.no_such_node(id)),
        }
    }

    /// The running part of node `id`, if it is up.
    pub(super) fn running(&self, id: NodeId) -> Option<&Running> {
        self.slot(id).ok()?.running.as_ref()
    }

    /// The error for a node the cluster does not host, naming those it does.
    pub(super) fn no_such_node(&self, node: NodeId) -> ClusterError {
        ClusterError::NoSuchNode {
            node,
            nodes: describe_node_ids(&self.hosted()),
        }
    }

    /// Checks that `node` exists.
    pub fn check_node(&self, node: NodeId) -> Result<(), ClusterError> {
        self.slot(node).map(|_| ())
    }

    /// Checks that `node` exists and is up.
    pub(super) fn check_up(&self, node: NodeId) -> Result<(), ClusterError> {
        if !self.is_up(node) {
            self.check_node(node)?;
            return Err(ClusterError::NodeIsDown(node));
        }
        Ok(())
    }

    /// The first node that crashed (its thread panicked or hung), with the message.
    pub fn crashed(&self) -> Option<(NodeId, Crash)> {
        self.nodes
            .iter()
            .find_map(|slot| slot.crashed.clone().map(|message| (slot.id, message)))
    }

    pub fn is_up(&self, node: NodeId) -> bool {
        self.slot(node).is_ok_and(|slot| slot.running.is_some())
    }

    /// Whether every node the cluster hosts is up.
    pub(super) fn all_up(&self) -> bool {
        self.nodes.iter().all(|s| s.running.is_some())
    }

    /// Whether any node is up.
    pub(super) fn any_up(&self) -> bool {
        self.nodes.iter().any(|s| s.running.is_some())
    }

    // ---- nodes up and down ----------------------------------------------------------

    /// Builds node `id` from its durable storage at `now_us` and starts it (on a thread
    /// that reports to `reports`, or inline). Returns its timer's deadline and its view
    /// as built.
    pub(super) fn launch(
        &mut self,
        id: NodeId,
        now_us: u64,
        reports: Sender<FromNode>,
    ) -> Result<(u64, NodeView), ClusterError> {
        let voters = self.voters();
        let (raft, cluster_seed, hosting) = (
            self.config.raft.clone(),
            self.config.seed,
            self.config.hosting,
        );
        let slot = self.slot_mut(id)?;
        slot.incarnation += 1;
        let node_seed = seed::derive(cluster_seed, seed::NODE, (id << 20) | slot.incarnation);
        let state_machine = Arc::new(Mutex::new(KvStateMachine::default()));
        let dispatcher = EventDispatcher::new(
            id,
            &voters,
            raft,
            slot.storage.clone(),
            state_machine.clone(),
            node_seed,
            now_us,
        );
        let (timer_us, view) = (dispatcher.next_deadline_us(), dispatcher.view());
        let host = match hosting {
            Hosting::Threads => {
                let (inbox, inbox_rx) = crossbeam_channel::unbounded();
                let thread = node::spawn(id, dispatcher, inbox_rx, reports)
                    .map_err(|e| ClusterError::Spawn(e.to_string()))?;
                Host::Thread { inbox, thread }
            }
            Hosting::Inline => {
                let mut dispatcher = Box::new(dispatcher);
                dispatcher.read_views_inline();
                Host::Inline(dispatcher)
            }
        };
        slot.running = Some(Running {
            host,
            timer_us,
            timer_set_us: now_us,
            view: OnceCell::from(view.clone()),
            state_machine,
        });
        slot.crashed = None;
        Ok((timer_us, view))
    }

    /// Takes a new, empty slot for node `id` (for `add`). Returns false if it has one.
    pub(super) fn add_slot(&mut self, id: NodeId) -> bool {
        if self.slot(id).is_ok() {
            return false;
        }
        self.nodes.push(NodeSlot::new(id));
        self.nodes.sort_by_key(|slot| slot.id);
        true
    }

    /// Forgets node `id`'s slot; returns what was running there.
    pub(super) fn remove_slot(&mut self, id: NodeId) -> Option<Running> {
        let position = self.nodes.binary_search_by_key(&id, |slot| slot.id).ok()?;
        self.nodes.remove(position).running
    }

    /// Stops every node and waits for each thread to end.
    pub(super) fn stop_all(&mut self) {
        for slot in &mut self.nodes {
            if let Some(running) = slot.running.take() {
                stop_thread(running);
            }
        }
    }

    /// Replaces a down node's durable log with entries of the given terms, which do not
    /// decrease and go up to [`MAX_GIVEN_TERM`]. Its term becomes at least the last entry's
    /// term. Returns the storage as it now is.
    pub(super) fn set_log(&mut self, id: NodeId, terms: &[Term]) -> Result<Storage, ClusterError> {
        let slot = self.slot(id)?;
        if slot.running.is_some() {
            return Err(ClusterError::NodeIsUp(id));
        }
        if terms.windows(2).any(|pair| pair[0] > pair[1]) {
            return Err(ClusterError::TermsDecrease);
        }
        if let Some(&term) = terms.last().filter(|&&term| term > MAX_GIVEN_TERM) {
            return Err(ClusterError::TermTooLarge(term));
        }
        let entries: Vec<Entry> = (1..)
            .zip(terms)
            .map(|(index, &term)| Entry {
                index,
                term,
                payload: Payload::Noop,
            })
            .collect();
        let mut storage = lock(&slot.storage);
        let old = storage.clone();
        *storage = Storage::with_log(entries, old.term);
        if storage.term == old.term {
            storage.vote = old.vote;
        }
        Ok(storage.clone())
    }

    // ---- what the nodes are like ----------------------------------------------------

    /// Every node's status, in id order: the least picture of each ([`ViewLimits::least`]).
    pub fn status(&self) -> Vec<NodePicture> {
        self.pictures(&ViewLimits::least())
    }

    /// Every node's picture, in id order, with as much as `limits` asks for.
    pub fn pictures(&self, limits: &ViewLimits) -> Vec<NodePicture> {
        self.nodes
            .iter()
            .map(|slot| self.picture(slot, limits))
            .collect()
    }

    /// Node `id`'s status (its least picture).
    pub fn status_of(&self, id: NodeId) -> Result<NodePicture, ClusterError> {
        self.slot(id)
            .map(|slot| self.picture(slot, &ViewLimits::least()))
    }

    /// A node as the views show it: for a node that is up, from its processor's own view;
    /// for one that is down, from its durable storage.
    fn picture(&self, slot: &NodeSlot, limits: &ViewLimits) -> NodePicture {
        let group = self
            .network
            .groups()
            .iter()
            .position(|g| g.contains(&slot.id));
        let storage = lock(&slot.storage);
        let snapshot = (storage.log.snapshot_index(), storage.log.snapshot_term());
        let entries = storage.log.entries();
        let log = entries[entries.len().saturating_sub(limits.log_entries)..].to_vec();
        if let Some(running) = &slot.running {
            drop(storage);
            let view = running.view();
            let timer = TimerView {
                kind: match view.role {
                    Role::Leader => TimerKind::Heartbeat,
                    _ => TimerKind::Election,
                },
                deadline_us: running.timer_us,
                set_us: running.timer_set_us,
            };
            let kv = limits.kv.then(|| {
                let state_machine = lock(&running.state_machine);
                let pairs = state_machine.map().iter();
                pairs.map(|(k, v)| (k.to_string(), v.to_string())).collect()
            });
            return NodePicture {
                id: slot.id,
                state: NodeState::Up,
                role: Some(view.role),
                term: view.term,
                vote: view.vote,
                leader: view.leader,
                last_index: view.last_index,
                last_term: view.last_term,
                commit: view.commit,
                applied: view.applied,
                group,
                votes: (view.role == Role::Candidate)
                    .then(|| (view.votes_granted, view.voters.len() as u32)),
                progress: view
                    .progress
                    .as_deref()
                    .map(<[_]>::to_vec)
                    .unwrap_or_default(),
                timer: Some(timer),
                log,
                snapshot,
                kv,
                counts: None,
            };
        }
        NodePicture {
            id: slot.id,
            state: slot
                .crashed
                .clone()
                .map_or(NodeState::Down, NodeState::Crashed),
            role: None,
            term: storage.term,
            vote: storage.vote,
            leader: None,
            last_index: storage.log.last_index(),
            last_term: storage.log.last_term(),
            commit: 0,
            applied: 0,
            group,
            votes: None,
            progress: Vec::new(),
            timer: None,
            log,
            snapshot,
            kv: None,
            counts: None,
        }
    }

    /// A running node's timer: when it fires next, and when that deadline was set.
    pub fn timer_of(&self, id: NodeId) -> Option<(u64, u64)> {
        let running = self.running(id)?;
        Some((running.timer_us, running.timer_set_us))
    }

    /// The latest view of node `id`'s Raft state, if it is up: what its picture shows,
    /// without building one.
    pub fn view_of(&self, id: NodeId) -> Option<&NodeView> {
        self.running(id).map(Running::view)
    }

    /// The leader the scheduler routes by: the node that is up, leads, and has the
    /// highest term among leaders (see [`World::current_leader`] for the one a user is
    /// shown).
    pub fn leader(&self) -> Option<NodeId> {
        self.highest_leader().map(|(id, _, _)| id)
    }

    /// Every up node that believes it leads, whatever its term, in id order: more than one
    /// while a deposed leader has not yet heard of the newer term.
    pub fn leaders(&self) -> Vec<NodeId> {
        (self.nodes.iter())
            .filter(|slot| {
                (slot.running.as_ref()).is_some_and(|r| r.role_and_term().0 == Role::Leader)
            })
            .map(|slot| slot.id)
            .collect()
    }

    /// The up node that leads in the highest term, its term and its node.
    fn highest_leader(&self) -> Option<(NodeId, Term, &Running)> {
        // Without building views: most of an inline node's are never read.
        self.nodes
            .iter()
            .filter_map(|slot| {
                let running = slot.running.as_ref()?;
                let (role, term) = running.role_and_term();
                (role == Role::Leader).then_some((slot.id, term, running))
            })
            .max_by_key(|&(_, term, _)| term)
    }

    /// The leader as a user is shown it (`status`, `wait leader`, `kill leader`): the up
    /// node leading in the highest term, as long as it is not out of date: a majority of
    /// its configuration's voters are up in its term or an earlier one. A leader cut off
    /// in an old term, once the newer one is gone, leads nobody: the others, in a later
    /// term, would refuse it. (The scheduler routes clients and changes by
    /// [`World::leader`], so that `check` runs as it always has.)
    pub fn current_leader(&self) -> Option<NodeId> {
        let (leader, term, running) = self.highest_leader()?;
        let voters = running.voters();
        let behind_or_level = voters
            .iter()
            .filter_map(|&voter| self.running(voter))
            .filter(|running| running.role_and_term().1 <= term)
            .count();
        (2 * behind_or_level > voters.len()).then_some(leader)
    }

    /// A node's durable log: the entries after its snapshot, if it has one.
    pub fn log_of(&self, id: NodeId) -> Result<Vec<Entry>, ClusterError> {
        Ok(lock(&self.slot(id)?.storage).log.entries().to_vec())
    }

    /// The last `count` entries of a node's durable log.
    pub fn log_tail_of(&self, id: NodeId, count: usize) -> Result<Vec<Entry>, ClusterError> {
        let storage = lock(&self.slot(id)?.storage);
        let entries = storage.log.entries();
        Ok(entries[entries.len().saturating_sub(count)..].to_vec())
    }

    /// Where a node's durable log starts: the last index and term of its snapshot, (0, 0)
    /// for a log never compacted.
    pub fn snapshot_of(&self, id: NodeId) -> Result<(Index, Term), ClusterError> {
        let storage = lock(&self.slot(id)?.storage);
        Ok((storage.log.snapshot_index(), storage.log.snapshot_term()))
    }

    /// The term of node `id`'s durable entry at `index` (`Some(0)` for index 0).
    pub fn term_at(&self, id: NodeId, index: Index) -> Option<Term> {
        lock(&self.slot(id).ok()?.storage).log.term_at(index)
    }

    /// A node's key-value contents; an error for a node that is down.
    pub fn kv_of(&self, id: NodeId) -> Result<Vec<(String, String)>, ClusterError> {
        let running = self
            .slot(id)?
            .running
            .as_ref()
            .ok_or(ClusterError::NodeIsDown(id))?;
        let state_machine = lock(&running.state_machine);
        Ok(state_machine
            .map()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// A node's value for `key`, if the node is up.
    pub fn kv_get(&self, id: NodeId, key: &str) -> Result<Option<String>, ClusterError> {
        let running = self
            .slot(id)?
            .running
            .as_ref()
            .ok_or(ClusterError::NodeIsDown(id))?;
        Ok(lock(&running.state_machine)
            .map()
            .get(key)
            .map(str::to_string))
    }

    /// Whether every up node's applied state matches: the same log prefix applied.
    /// Entries compacted into a snapshot are known only by the snapshot's last index and
    /// term, so two logs are compared over the indexes both still hold (and at a snapshot's
    /// last entry, by its term).
    pub fn logs_match(&self) -> bool {
        let logs: Vec<RaftLog> = self
            .nodes
            .iter()
            .map(|slot| lock(&slot.storage).log.clone())
            .collect();
        for a in &logs {
            for b in &logs {
                if !logs_agree(a, b) {
                    return false;
                }
            }
        }
        true
    }

    // ---- membership -----------------------------------------------------------------

    /// The voters and learners of `node`'s latest configuration, if it is up.
    pub fn members_of(&self, node: NodeId) -> Option<(Vec<NodeId>, Vec<NodeId>)> {
        let running = self.running(node)?;
        let view = running.view();
        Some((view.voters.to_vec(), view.learners.to_vec()))
    }

    /// The leader's voters and learners, if they differ from the initial cluster.
    pub fn changed_members(&self) -> Option<(Vec<NodeId>, Vec<NodeId>)> {
        let members = self.members_of(self.leader()?)?;
        (members != (self.voters(), Vec::new())).then_some(members)
    }

    // ---- the network's links and faults ---------------------------------------------

    /// Splits the cluster into `groups`; nodes named in none form one more group.
    pub(super) fn partition(
        &mut self,
        groups: Vec<Vec<NodeId>>,
    ) -> Result<NetworkChange, ClusterError> {
        let mut seen = BTreeSet::new();
        for &node in groups.iter().flatten() {
            self.check_node(node)?;
            if !seen.insert(node) {
                return Err(ClusterError::NamedTwice(node));
            }
        }
        let nodes = self.hosted();
        self.network.partition(&nodes, groups.clone());
        Ok(NetworkChange::Partition(groups))
    }

    /// Cuts every link to and from `node`, leaving the other links as they are: isolating
    /// several nodes one after another leaves them all cut off.
    pub(super) fn isolate(&mut self, node: NodeId) -> Result<NetworkChange, ClusterError> {
        self.check_node(node)?;
        let nodes = self.hosted();
        for &other in nodes.iter().filter(|&&other| other != node) {
            self.network.cut(node, other);
            self.network.cut(other, node);
        }
        self.network.refresh_groups(&nodes);
        Ok(NetworkChange::Isolate(node))
    }

    /// Cuts (`up` false) or restores the link from `a` to `b`, and from `b` to `a` unless
    /// `one_way`.
    pub(super) fn set_link(
        &mut self,
        a: NodeId,
        b: NodeId,
        one_way: bool,
        up: bool,
    ) -> Result<NetworkChange, ClusterError> {
        self.check_node(a)?;
        self.check_node(b)?;
        if a == b {
            return Err(ClusterError::SelfLink(a));
        }
        let pairs = if one_way {
            vec![(a, b)]
        } else {
            vec![(a, b), (b, a)]
        };
        for (from, to) in pairs {
            if up {
                self.network.link(from, to)
            } else {
                self.network.cut(from, to)
            }
        }
        self.network.refresh_groups(&self.hosted());
        Ok(NetworkChange::Link { a, b, one_way, up })
    }

    /// Restores every link.
    pub(super) fn heal(&mut self) -> NetworkChange {
        self.network.heal();
        NetworkChange::Heal
    }

    /// Changes the network's faults (loss, delay, duplication, reordering).
    pub(super) fn set_network(
        &mut self,
        config: NetworkConfig,
    ) -> Result<NetworkChange, ClusterError> {
        config.validate()?;
        self.network.set_config(config.clone());
        Ok(NetworkChange::Faults(config))
    }
}

/// Stops a running node: its thread ends (and is waited for), or its dispatcher is
/// dropped.
pub(super) fn stop_thread(running: Running) {
    if let Host::Thread { inbox, thread } = running.host {
        // The thread ends when it reads Stop, or when the inbox closes.
        let _ = inbox.send(ToNode::Stop);
        drop(inbox);
        let _ = thread.join();
    }
}

/// Log Matching between two logs, over the indexes both hold: where they hold an entry of
/// the same term at the same index, they agree on every entry before it that both hold.
fn logs_agree(a: &RaftLog, b: &RaftLog) -> bool {
    let first = a.snapshot_index().max(b.snapshot_index());
    let last = a.last_index().min(b.last_index());
    let last_same = (first..=last)
        .rev()
        .find(|&index| a.term_at(index).is_some() && a.term_at(index) == b.term_at(index));
    let Some(last_same) = last_same else {
        return true;
    };
    (first + 1..=last_same).all(|index| a.get(index) == b.get(index))
}

/// Node ids as runs of consecutive ids, `(first, last)`, in order, each id once.
pub fn id_runs(ids: &[NodeId]) -> Vec<(NodeId, NodeId)> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(NodeId, NodeId)> = Vec::new();
    for id in sorted {
        match runs.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(id) => *last = id,
            _ => runs.push((id, id)),
        }
    }
    runs
}

/// Describes a set of node ids compactly: `nodes 1..5`, `nodes 1..3, 5, 7..8`, `node 2`,
/// `no nodes`.
pub fn describe_node_ids(nodes: &[NodeId]) -> String {
    let runs = id_runs(nodes);
    if runs.is_empty() {
        return "no nodes".to_string();
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}..{hi}")
            }
        })
        .collect();
    let plural = if let [(lo, hi)] = runs.as_slice()
        && lo == hi
    {
        "node"
    } else {
        "nodes"
    };
    format!("{plural} {}", parts.join(", "))
}
