//! The actions of an exploring run, drawn from its seed: faults on a random schedule, and
//! clients that each send one operation at a time.
//!
//! Choices may look at the cluster (which node leads, which are up, whether a client's
//! operation has finished): the scheduler is deterministic, so the same seed makes the
//! same choices, and the actions taken are recorded, so a run replays without its
//! generator.
//!
//! Membership changes act like an operator would: one change at a time (none while the
//! leader's latest configuration is uncommitted or has a learner still catching up), new
//! nodes under fresh ids (at most [`MAX_ADDED`] of them, never one the cluster hosted
//! before, so a scenario's `add N` names a new node as the REPL requires), between
//! `min(3, initial)` and [`MAX_VOTERS`] voters, and a removed node stopped (`kill N`) once
//! the leader's configuration without it has committed: the thesis's advice for removed
//! servers (section 4.2.3), which otherwise time out and disrupt the cluster when they do
//! not learn of their removal. Such a node is *decommissioned*: no fault picks it, and
//! healing does not restart it.

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cluster::kv::KvOp;
use crate::cluster::{NetworkConfig, OpId, Scheduler, seed};
use crate::raft::{Index, NodeId, Term};

use super::schedule::{Action, Timed};
use super::{FaultKind, MS};

/// The most voters a membership fault grows the cluster to.
pub const MAX_VOTERS: usize = 7;
/// The most nodes a run adds beyond its initial ones (each is a thread).
pub const MAX_ADDED: u64 = 6;

/// The leader's configuration, as the checker mirrors its log.
struct LeaderConfig {
    leader: NodeId,
    /// The index of its latest configuration entry (0: the initial configuration).
    index: Index,
    commit: Index,
    voters: Vec<NodeId>,
    learners: Vec<NodeId>,
}

impl LeaderConfig {
    fn of(sim: &Scheduler) -> Option<LeaderConfig> {
        let leader = sim.world().leader()?;
        let commit = sim.world().view_of(leader)?.commit;
        let (index, voters, learners) = sim.observers().checker().configuration_of(leader);
        Some(LeaderConfig {
            leader,
            index,
            commit,
            voters,
            learners,
        })
    }

    /// No change in flight: the configuration committed, and no learner catching up.
    fn settled(&self) -> bool {
        self.index <= self.commit && self.learners.is_empty()
    }
}

/// How far the cluster has come, as (hand-offs, events). Everything the generator looks
/// at besides the clock changes only in a hand-off or with an event: a node's role, term
/// and commit (its report, a kill, a restart), the checker's configurations (a report, a
/// node started), the nodes up, the operations finished (`ClientFinished`), the network
/// (`NetworkChanged`). So while this stays the same, so does what the generator sees,
/// and a look it took at the same moment still holds.
fn moment(sim: &Scheduler) -> (u64, u64) {
    (sim.handoffs(), sim.observers().events_emitted())
}

/// A client of the run: one operation at a time, with a pause between them.
#[derive(Clone, Debug, Default)]
struct Client {
    next_us: u64,
    pending: Option<OpId>,
}

/// The generator of an exploring run.
pub struct Generator {
    rng: ChaCha8Rng,
    /// The initial number of nodes.
    nodes: u64,
    /// Nodes removed by a committed change and stopped for good.
    decommissioned: BTreeSet<NodeId>,
    /// What [`Generator::decommission`] last looked at: the leader, the checker's
    /// [`Checker::configurations_version`] and how many of the leader's configurations
    /// were committed. While these stay the same, no node is newly removed.
    ///
    /// [`Checker::configurations_version`]: crate::cluster::checker::Checker::configurations_version
    decommission_seen: Option<(NodeId, u64, usize)>,
    /// The [`moment`] of [`Generator::decommission`]'s last look: at the same moment it
    /// would find what it found then, so it does not look again.
    decommission_moment: Option<(u64, u64)>,
    /// The [`moment`] at which the leader's configuration was last found unsettled (or no
    /// node led): a change waiting for it looks again only once the cluster moved.
    unsettled_at: Option<(u64, u64)>,
    /// A voter to remove once the node added to replace it is in (or given up).
    replace: Option<NodeId>,
    /// A membership change was drawn: made at the first tick with a leader and no change
    /// in flight (in a fast run, most moments have neither).
    change_due: bool,
    faults: Vec<FaultKind>,
    keys: usize,
    /// When faults stop and everything is healed.
    chaos_end_us: u64,
    next_fault_us: u64,
    fault_gap_ms: (u64, u64),
    restarts: BTreeMap<NodeId, u64>,
    /// A leader to kill soon after it is elected: elected in a term above this one, and
    /// killed this long after the run first sees it lead.
    trap: Option<(Term, u64)>,
    /// When to kill the trapped leader.
    trapped: Option<(NodeId, u64)>,
    /// Whether the trap isolates the new leader instead of killing it (then healed later).
    trap_isolates: bool,
    /// Whether partitions set traps too (swarm shapes only: the fixed shape's runs stay
    /// as they were).
    partition_traps: bool,
    heal_us: Option<u64>,
    net_reset_us: Option<u64>,
    base_network: NetworkConfig,
    clients: Vec<Client>,
    /// The number of events when every client's pending operation was last found still
    /// pending: finishing an operation is an event, so while no other event came, they
    /// all still are.
    clients_looked_at: Option<u64>,
    /// The longest pause of a client between two operations, in ms.
    client_pause_ms: u64,
    values: u64,
    last_value: BTreeMap<String, String>,
}

impl Generator {
    pub fn new(seed: u64, setup: &super::Setup, faults: &BTreeSet<FaultKind>) -> Generator {
        let rng = ChaCha8Rng::seed_from_u64(seed::derive(seed, seed::CHECK_SCHEDULE, 0));
        Generator {
            rng,
            nodes: setup.config.nodes,
            decommissioned: BTreeSet::new(),
            decommission_seen: None,
            decommission_moment: None,
            unsettled_at: None,
            replace: None,
            change_due: false,
            faults: faults.iter().copied().collect(),
            keys: setup.keys,
            chaos_end_us: setup.chaos_us,
            next_fault_us: 200 * MS,
            fault_gap_ms: setup.fault_gap_ms,
            restarts: BTreeMap::new(),
            trap: None,
            trapped: None,
            trap_isolates: false,
            partition_traps: setup.shape.is_some(),
            heal_us: None,
            net_reset_us: None,
            base_network: setup.config.network.clone(),
            clients: vec![Client::default(); setup.clients],
            clients_looked_at: None,
            client_pause_ms: setup.client_pause_ms,
            values: 0,
            last_value: BTreeMap::new(),
        }
    }

    /// Chooses and applies the actions of time `at_us`, recording those that applied.
    pub fn tick(&mut self, at_us: u64, sim: &mut Scheduler, applied: &mut Vec<Timed>) {
        let mut actions = Vec::new();
        if at_us < self.chaos_end_us {
            self.due_repairs(at_us, sim, &mut actions);
            if at_us >= self.next_fault_us && !self.faults.is_empty() {
                self.fault(sim, &mut actions);
                let (lo, hi) = self.fault_gap_ms;
                self.next_fault_us = at_us + self.rng.random_range(lo..=hi) * MS;
            }
        } else if at_us == self.chaos_end_us {
            self.heal_everything(sim, &mut actions);
        }
        self.decommission(sim, &mut actions);
        for action in actions {
            if action.apply(sim).is_ok() {
                applied.push(Timed { at_us, action });
            }
        }
        if at_us < self.chaos_end_us {
            self.client_operations(at_us, sim, applied);
        }
    }

    /// Restarts, heals and network resets that are due.
    fn due_repairs(&mut self, at_us: u64, sim: &Scheduler, actions: &mut Vec<Action>) {
        let due: Vec<NodeId> = self
            .restarts
            .iter()
            .filter(|&(_, &t)| t <= at_us)
            .map(|(&n, _)| n)
            .collect();
        for node in due {
            self.restarts.remove(&node);
            if !self.decommissioned.contains(&node) {
                actions.push(Action::Restart(node));
            }
        }
        self.replacement(sim, actions);
        if self.change_due {
            self.membership(sim, actions);
        }
        if self.heal_us.is_some_and(|t| t <= at_us) {
            self.heal_us = None;
            actions.push(Action::Heal);
        }
        if self.net_reset_us.is_some_and(|t| t <= at_us) {
            self.net_reset_us = None;
            actions.extend(self.network_resets(sim));
        }
        self.spring_trap(at_us, sim, actions);
    }

    /// Kills (or isolates) a new leader a few milliseconds into its term, while it is still bringing
    /// the others' logs up to date: the moment Figure 8 of the Raft paper is about.
    fn spring_trap(&mut self, at_us: u64, sim: &Scheduler, actions: &mut Vec<Action>) {
        if let Some((leader, kill_us)) = self.trapped
            && kill_us <= at_us
        {
            self.trapped = None;
            if self.trap_isolates {
                actions.push(Action::Isolate(leader));
                let after_ms = self.rng.random_range(20..=1500);
                self.heal_us = Some(at_us + after_ms * MS);
            } else if sim.world().is_up(leader) && !self.restarts.contains_key(&leader) {
                actions.push(Action::Kill(leader));
                let after_ms = self.rng.random_range(5..=1500);
                self.restarts.insert(leader, at_us + after_ms * MS);
            }
        }
        let Some((term, delay_us)) = self.trap else {
            return;
        };
        let Some(leader) = sim.world().leader() else {
            return;
        };
        let leader_term = sim.world().view_of(leader).map(|view| view.term);
        if leader_term.is_some_and(|t| t > term) {
            self.trap = None;
            self.trapped = Some((leader, at_us + delay_us));
        }
    }

    /// The actions that set the network back to the run's base settings.
    fn network_resets(&self, sim: &Scheduler) -> Vec<Action> {
        let (now, base) = (sim.world().network().config(), &self.base_network);
        let mut actions = Vec::new();
        if now.drop != base.drop {
            actions.push(Action::NetDrop(base.drop));
        }
        if (now.delay_min_us, now.delay_max_us) != (base.delay_min_us, base.delay_max_us) {
            actions.push(Action::NetDelay {
                min_us: base.delay_min_us,
                max_us: base.delay_max_us,
            });
        }
        if now.duplicate != base.duplicate {
            actions.push(Action::NetDup(base.duplicate));
        }
        if now.reorder != base.reorder {
            actions.push(Action::NetReorder(base.reorder));
        }
        actions
    }

    /// The end of the faults: every link restored, the network as it began, every node up.
    fn heal_everything(&mut self, sim: &Scheduler, actions: &mut Vec<Action>) {
        if sim.world().network().cut_links().next().is_some() {
            actions.push(Action::Heal);
        }
        actions.extend(self.network_resets(sim));
        for node in self.live(sim) {
            if !sim.world().is_up(node) {
                actions.push(Action::Restart(node));
            }
        }
        self.restarts.clear();
        (self.replace, self.change_due) = (None, false);
        (self.heal_us, self.net_reset_us) = (None, None);
        (self.trap, self.trapped) = (None, None);
    }

    fn fault(&mut self, sim: &Scheduler, actions: &mut Vec<Action>) {
        let kind = self.faults[self.rng.random_range(0..self.faults.len())];
        let now = sim.now_us();
        match kind {
            FaultKind::Kill => self.kill(sim, actions),
            FaultKind::Partition => {
                self.set_trap(sim, true);
                self.partition(sim, actions);
                self.heal_us = Some(now + self.rng.random_range(200..=2500) * MS);
            }
            FaultKind::Cut => {
                self.cuts(sim, actions);
                self.heal_us = Some(now + self.rng.random_range(200..=2500) * MS);
            }
            FaultKind::Loss | FaultKind::Delay | FaultKind::Dup | FaultKind::Reorder => {
                self.network_fault(kind, actions);
                self.net_reset_us = Some(now + self.rng.random_range(300..=3000) * MS);
            }
            FaultKind::Membership => self.change_due = true,
            FaultKind::Snapshot => {
                let up: Vec<NodeId> = self
                    .live(sim)
                    .into_iter()
                    .filter(|&n| sim.world().is_up(n))
                    .collect();
                if !up.is_empty() {
                    actions.push(Action::Snapshot(up[self.rng.random_range(0..up.len())]));
                }
            }
        }
    }

    /// The nodes the cluster hosts that were not decommissioned, in order.
    fn live(&self, sim: &Scheduler) -> Vec<NodeId> {
        let mut nodes = sim.world().hosted();
        nodes.retain(|n| !self.decommissioned.contains(n));
        nodes
    }

    /// The membership change that is due, once none is in flight: add a new node, remove
    /// a voter (the leader, sometimes), or replace one (add now, remove once the new one
    /// is in).
    fn membership(&mut self, sim: &Scheduler, actions: &mut Vec<Action>) {
        if self.replace.is_some() {
            return;
        }
        let Some(config) = self.settled_config(sim) else {
            return;
        };
        self.change_due = false;
        let hosted = sim.world().hosted();
        let fresh = hosted.iter().max().map_or(1, |&n| n + 1);
        let can_add = config.voters.len() < MAX_VOTERS && fresh <= self.nodes + MAX_ADDED;
        let can_remove = config.voters.len() > (self.nodes as usize).min(3);
        let victim = if self.rng.random_bool(0.3) {
            config.leader
        } else {
            config.voters[self.rng.random_range(0..config.voters.len())]
        };
        match self.rng.random_range(0..3) {
            0 if can_add => actions.push(Action::Add(fresh)),
            1 if can_remove => actions.push(Action::Remove(victim)),
            2 if can_add && can_remove => {
                actions.push(Action::Add(fresh));
                self.replace = Some(victim);
            }
            _ if can_add => actions.push(Action::Add(fresh)),
            _ if can_remove => actions.push(Action::Remove(victim)),
            _ => {}
        }
    }

    /// The leader's configuration, if a node leads and no change is in flight
    /// ([`LeaderConfig::settled`]). A change waits for that over many ticks: an answer of
    /// none is kept for its [`moment`], and not looked for again until the cluster moved.
    fn settled_config(&mut self, sim: &Scheduler) -> Option<LeaderConfig> {
        let now = moment(sim);
        if self.unsettled_at == Some(now) {
            return None;
        }
        let config = LeaderConfig::of(sim).filter(LeaderConfig::settled);
        if config.is_none() {
            self.unsettled_at = Some(now);
        }
        config
    }

    /// The second half of a replacement: remove the old voter once no change is in flight
    /// (the new node promoted, or its addition lost), if the cluster can spare a voter.
    fn replacement(&mut self, sim: &Scheduler, actions: &mut Vec<Action>) {
        let Some(old) = self.replace else {
            return;
        };
        let Some(config) = self.settled_config(sim) else {
            return;
        };
        self.replace = None;
        if config.voters.contains(&old) && config.voters.len() > (self.nodes as usize).min(3) {
            actions.push(Action::Remove(old));
        }
    }

    /// Stops, for good, every node a committed configuration entry of the leader's log
    /// removed: a member of an earlier configuration that the last committed one leaves
    /// out. (A node only *missing* from a configuration, such as one whose `add` is still
    /// in flight, or was refused, is not removed: its entry may yet commit.) Ids are never
    /// reused, so a removed node never comes back.
    ///
    /// Most ticks the cluster has not moved since the last look (see [`moment`]), or the
    /// leader's committed configurations are those of that look, whose removed nodes are
    /// decommissioned already: then it looks no further.
    fn decommission(&mut self, sim: &Scheduler, actions: &mut Vec<Action>) {
        let now = moment(sim);
        if self.decommission_moment.replace(now) == Some(now) {
            return;
        }
        let Some(leader) = sim.world().leader() else {
            return;
        };
        let Some(commit) = sim.world().view_of(leader).map(|view| view.commit) else {
            return;
        };
        let checker = sim.observers().checker();
        let seen = (
            leader,
            checker.configurations_version(),
            checker.configuration_count_to(leader, commit),
        );
        if self.decommission_seen.replace(seen) == Some(seen) {
            return;
        }
        let committed = || {
            checker
                .configurations_iter(leader)
                .filter(|c| c.0 <= commit)
        };
        let count = committed().count();
        let Some((_, voters, learners)) = committed().last() else {
            return;
        };
        let earlier = committed()
            .take(count - 1)
            .flat_map(|(_, v, l)| v.iter().chain(l));
        // Only the newly removed, in id order (most ticks: none, and no allocation).
        let mut removed: Vec<NodeId> = earlier
            .copied()
            .filter(|n| !voters.contains(n) && !learners.contains(n))
            .filter(|n| !self.decommissioned.contains(n))
            .collect();
        removed.sort_unstable();
        removed.dedup();
        for node in removed {
            self.decommissioned.insert(node);
            self.restarts.remove(&node);
            if sim.world().is_up(node) {
                actions.push(Action::Kill(node));
            }
        }
    }

    /// Three times in ten, with no trap set: sets one for the next leader elected, to be
    /// killed (or, for a partition fault of a swarm shape, isolated) 1-30 ms into its
    /// term.
    fn set_trap(&mut self, sim: &Scheduler, isolate: bool) {
        if isolate && !self.partition_traps {
            return;
        }
        if self.trap.is_none() && self.trapped.is_none() && self.rng.random_bool(0.3) {
            let term = sim
                .world()
                .status()
                .iter()
                .map(|s| s.term)
                .max()
                .unwrap_or(0);
            self.trap = Some((term, self.rng.random_range(1..=30) * MS));
            self.trap_isolates = isolate;
        }
    }

    /// Kills a node that is up (the leader, often), keeping at least one up, and plans
    /// its restart: soon (a quick crash and reboot) or after a while.
    fn kill(&mut self, sim: &Scheduler, actions: &mut Vec<Action>) {
        self.set_trap(sim, false);
        let up: Vec<NodeId> = self
            .live(sim)
            .into_iter()
            .filter(|&n| sim.world().is_up(n))
            .collect();
        if up.len() <= 1 {
            return;
        }
        let victim = match sim.world().leader() {
            Some(leader) if self.rng.random_bool(0.4) => leader,
            _ => up[self.rng.random_range(0..up.len())],
        };
        let after_ms = if self.rng.random_bool(0.2) {
            self.rng.random_range(5..=50)
        } else {
            self.rng.random_range(50..=1500)
        };
        actions.push(Action::Kill(victim));
        self.restarts.insert(victim, sim.now_us() + after_ms * MS);
    }

    /// A partition of one of four shapes: one node alone (the leader, often), two sides of
    /// random sizes, three groups, or two sides joined by a bridge node that reaches both.
    fn partition(&mut self, sim: &Scheduler, actions: &mut Vec<Action>) {
        let mut nodes = self.live(sim);
        nodes.shuffle(&mut self.rng);
        let n = nodes.len();
        if n < 2 {
            return;
        }
        match self.rng.random_range(0..4) {
            0 => {
                let alone = match sim.world().leader() {
                    Some(leader) if self.rng.random_bool(0.5) => leader,
                    _ => nodes[0],
                };
                actions.push(Action::Isolate(alone));
            }
            1 => {
                let cut = self.rng.random_range(1..n);
                actions.push(Action::Partition(sides(&nodes, &[cut])));
            }
            2 if n >= 3 => {
                let first = self.rng.random_range(1..n - 1);
                let second = self.rng.random_range(first + 1..n);
                actions.push(Action::Partition(sides(&nodes, &[first, second])));
            }
            _ if n >= 3 => {
                // nodes[0] is the bridge: on the first side, and linked to the second.
                let cut = self.rng.random_range(2..n);
                let groups = sides(&nodes, &[cut]);
                let second = groups[1].clone();
                actions.push(Action::Partition(groups));
                for other in second {
                    actions.push(Action::Link {
                        from: nodes[0],
                        to: other,
                        one_way: false,
                    });
                }
            }
            _ => actions.push(Action::Isolate(nodes[0])),
        }
    }

    /// One to three cut links, most of them one way.
    fn cuts(&mut self, sim: &Scheduler, actions: &mut Vec<Action>) {
        let nodes = self.live(sim);
        if nodes.len() < 2 {
            return;
        }
        for _ in 0..self.rng.random_range(1..=3) {
            let from = nodes[self.rng.random_range(0..nodes.len())];
            let to = nodes[self.rng.random_range(0..nodes.len())];
            if from != to {
                let one_way = self.rng.random_bool(0.75);
                actions.push(Action::Cut { from, to, one_way });
            }
        }
    }

    fn network_fault(&mut self, kind: FaultKind, actions: &mut Vec<Action>) {
        let pick = |rng: &mut ChaCha8Rng, values: &[f64]| values[rng.random_range(0..values.len())];
        match kind {
            FaultKind::Loss => actions.push(Action::NetDrop(pick(
                &mut self.rng,
                &[0.05, 0.1, 0.2, 0.3, 0.5],
            ))),
            FaultKind::Dup => actions.push(Action::NetDup(pick(&mut self.rng, &[0.05, 0.1, 0.3]))),
            FaultKind::Delay => {
                let max_ms = [10, 30, 80, 150][self.rng.random_range(0..4)];
                actions.push(Action::NetDelay {
                    min_us: MS,
                    max_us: max_ms * MS,
                });
            }
            _ => {
                actions.push(Action::NetReorder(true));
                if self.rng.random_bool(0.5) {
                    let max_ms = self.rng.random_range(10..=60);
                    actions.push(Action::NetDelay {
                        min_us: MS,
                        max_us: max_ms * MS,
                    });
                }
            }
        }
    }

    /// Each client whose last operation finished, and whose pause is over, sends the next.
    /// Their pending operations are looked up only when an event came since the last look
    /// (see [`Generator::clients_looked_at`]).
    fn client_operations(&mut self, at_us: u64, sim: &mut Scheduler, applied: &mut Vec<Timed>) {
        let events = sim.observers().events_emitted();
        let look = self.clients_looked_at != Some(events);
        self.clients_looked_at = Some(events);
        for index in 0..self.clients.len() {
            let client = &mut self.clients[index];
            if look
                && let Some(op) = client.pending
                && !sim.is_pending(op)
            {
                client.pending = None;
                client.next_us = at_us + self.rng.random_range(0..=self.client_pause_ms) * MS;
            }
            let client = &self.clients[index];
            if client.pending.is_some() || at_us < client.next_us {
                continue;
            }
            let action = self.client_action(sim);
            if let Ok(Some(op)) = action.apply(sim) {
                self.clients[index].pending = Some(op);
                applied.push(Timed { at_us, action });
            }
        }
    }

    /// A random operation on one of the keys. Written values are unique, which is what
    /// lets the linearizability checker tell every write apart.
    fn client_action(&mut self, sim: &Scheduler) -> Action {
        let key = format!("k{}", self.rng.random_range(1..=self.keys));
        self.values += 1;
        let value = format!("v{}", self.values);
        let op = match self.rng.random_range(0..100) {
            0..35 => KvOp::Put { key, value },
            35..70 => KvOp::Get { key },
            70..90 => KvOp::Append { key, value },
            _ => {
                let old = self
                    .last_value
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| "v0".into());
                KvOp::Cas {
                    key,
                    old,
                    new: value,
                }
            }
        };
        if let KvOp::Put { key, value }
        | KvOp::Cas {
            key, new: value, ..
        } = &op
        {
            self.last_value.insert(key.clone(), value.clone());
        }
        let nodes = self.live(sim);
        let via = (self.rng.random_bool(0.15) && !nodes.is_empty()).then(|| {
            // While more than one node believes it leads (a deposed one not yet told of
            // the newer term), a client that picks its node picks among those: the reads
            // a deposed leader must not answer alone are what read-path bugs get wrong.
            // Otherwise any live node (one that is not the leader refuses).
            let mut leaders = sim.world().leaders();
            leaders.retain(|n| nodes.contains(n));
            let among = if leaders.len() > 1 { &leaders } else { &nodes };
            among[self.rng.random_range(0..among.len())]
        });
        Action::Client { op, via }
    }
}

/// `nodes` split at the positions `cuts` (increasing) into groups, each sorted.
fn sides(nodes: &[NodeId], cuts: &[usize]) -> Vec<Vec<NodeId>> {
    let mut groups = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&nodes.len())) {
        let mut group = nodes[start..cut].to_vec();
        group.sort_unstable();
        groups.push(group);
        start = cut;
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{CheckOptions, setup};

    /// While a deposed leader has not heard of the newer term, a client that picks its node
    /// picks one of the two leaders, so that reads reach the deposed one too; with one
    /// leader, any live node.
    #[test]
    fn a_client_that_picks_its_node_picks_among_the_leaders_while_there_are_two() {
        // The fixed shape: no PreVote or CheckQuorum, which would keep n2 from winning
        // while n1's term is fresh.
        let options = CheckOptions {
            swarm: false,
            ..CheckOptions::default()
        };
        let setup = setup(1, &options);
        let mut generator = Generator::new(setup.seed, &setup, &setup.faults);
        let mut sim = Scheduler::start(setup.config.clone()).expect("starts");
        let picked = |generator: &mut Generator, sim: &Scheduler| -> BTreeSet<NodeId> {
            (0..400)
                .filter_map(|_| match generator.client_action(sim) {
                    Action::Client { via, .. } => via,
                    _ => None,
                })
                .collect()
        };
        sim.campaign(1).expect("campaigns");
        sim.run_until_time(200 * MS).expect("runs");
        assert_eq!(sim.world().leaders(), vec![1]);
        let live: BTreeSet<NodeId> = generator.live(&sim).into_iter().collect();
        assert_eq!(picked(&mut generator, &sim), live, "any live node");

        sim.isolate(1).expect("isolates");
        sim.campaign(2).expect("campaigns");
        sim.run_until_time(400 * MS).expect("runs");
        assert_eq!(sim.world().leaders(), vec![1, 2], "n1 was not told");
        assert_eq!(picked(&mut generator, &sim), [1, 2].into());
    }
}
