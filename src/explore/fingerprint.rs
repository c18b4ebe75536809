//! States as fingerprints: a 64-bit digest of exactly the fields of a [`State`] that
//! decide what can happen next and what the rules will find.
//!
//! The search keeps fingerprints, not states: two states with one fingerprint are one
//! state, explored once. What counts, written down here and nowhere else:
//!
//! - each node, in order of id: whether it is up; its durable storage (term, vote, log); and,
//!   if up, its processor's logical state ([`RaftProcessor::hash_logical`], whose module
//!   doc lists the fields: role and role state, term, vote, log, commit, applied, a
//!   leader's progress per follower);
//! - the messages in flight, as a multiset: each message's digest without its clock
//!   reading (`sent_us` of AppendEntries and its response), sorted;
//! - the crashes, client writes, reads and membership changes used so far, and the nodes
//!   added (they bound what may still happen);
//! - the [`Ghost`] history of the rules: who led each term, what was seen committed (term,
//!   digest, and the term it was seen committed in), what was applied (digests), and the
//!   clients' side: each write's node and whether it was acknowledged, the reads waiting.
//!
//! What does not count: `now_us` and every deadline, RNG positions and incarnation counts
//! (timing only: a timer firing is an action, and the core's behaviour without PreVote,
//! CheckQuorum and lease reads never reads the clock otherwise), message ids (names for
//! the replay, not state), and the nodes the ghost names in its reports.
//!
//! With symmetry reduction on, the fingerprint is the least over every permutation of the
//! initial node ids (each node id, wherever it appears, is renamed): states that are the
//! same up to the names of the nodes are one state. A node added by a membership change
//! keeps its name: it is no voter of the configuration every node starts with.
//!
//! [`RaftProcessor::hash_logical`]: crate::raft::RaftProcessor::hash_logical

use std::hash::{Hash, Hasher};

use crate::raft::{Envelope, Message, NodeId};

use super::model::State;
use super::rules::Ghost;

/// The crate's one hasher ([`crate::digest`]), which mixes every word fully: a 64-bit
/// fingerprint is only as good as its spread.
pub use crate::digest::Digest as Fingerprinter;
pub use crate::digest::{chain, entry_digest};

/// The digest of a message in flight, with node ids renamed, without clock readings.
pub fn message_digest(envelope: &Envelope, rename: &dyn Fn(NodeId) -> NodeId) -> u64 {
    let mut h = Fingerprinter::default();
    (rename(envelope.from), rename(envelope.to), envelope.term).hash(&mut h);
    h.write_u8(message_tag(&envelope.message));
    match &envelope.message {
        Message::RequestVote {
            last_log_index,
            last_log_term,
            leadership_transfer,
        } => (last_log_index, last_log_term, leadership_transfer).hash(&mut h),
        Message::PreVote {
            last_log_index,
            last_log_term,
        } => (last_log_index, last_log_term).hash(&mut h),
        Message::PreVoteResponse { granted } | Message::VoteResponse { granted } => {
            granted.hash(&mut h)
        }
        Message::TimeoutNow => {}
        Message::LeaderCheck { round } | Message::LeaderCheckResponse { round } => {
            round.hash(&mut h)
        }
        Message::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
            sent_us: _,
        } => (prev_log_index, prev_log_term, entries, leader_commit).hash(&mut h),
        Message::AppendResponse {
            success,
            index,
            conflict_term,
            conflict_index,
            sent_us: _,
        } => (success, index, conflict_term, conflict_index).hash(&mut h),
        Message::InstallSnapshot { snapshot } => {
            (snapshot.index, snapshot.term, &snapshot.data).hash(&mut h)
        }
        Message::SnapshotResponse {
            snapshot_index,
            last_index,
        } => (snapshot_index, last_index).hash(&mut h),
    }
    h.finish()
}

fn message_tag(message: &Message) -> u8 {
    match message {
        Message::RequestVote { .. } => 0,
        Message::PreVote { .. } => 1,
        Message::PreVoteResponse { .. } => 2,
        Message::TimeoutNow => 3,
        Message::LeaderCheck { .. } => 4,
        Message::LeaderCheckResponse { .. } => 5,
        Message::VoteResponse { .. } => 6,
        Message::AppendEntries { .. } => 7,
        Message::AppendResponse { .. } => 8,
        Message::InstallSnapshot { .. } => 9,
        Message::SnapshotResponse { .. } => 10,
    }
}

/// The fingerprint of `state`: see the module documentation. With `symmetry`, the least
/// over the permutations of the node ids.
pub fn fingerprint(state: &State, symmetry: bool) -> u64 {
    let nodes = state.nodes.len() as NodeId;
    let initial = nodes - NodeId::from(state.added);
    let identity: Vec<NodeId> = (1..=nodes).collect();
    if !symmetry || initial < 2 {
        return fingerprint_renamed(state, &identity);
    }
    let mut permutation = identity;
    let mut least = u64::MAX;
    loop {
        least = least.min(fingerprint_renamed(state, &permutation));
        if !next_permutation(&mut permutation[..initial as usize]) {
            return least;
        }
    }
}

/// The fingerprint of `state` with node `n` renamed `to[n - 1]`.
fn fingerprint_renamed(state: &State, to: &[NodeId]) -> u64 {
    let rename = |n: NodeId| to.get(n as usize - 1).copied().unwrap_or(n);
    let mut h = Fingerprinter::default();
    // The nodes in order of their new ids.
    let mut order: Vec<usize> = (0..state.nodes.len()).collect();
    order.sort_unstable_by_key(|&i| to[i]);
    for i in order {
        let node = &state.nodes[i];
        let storage = &node.storage;
        (storage.term, storage.vote.map(rename)).hash(&mut h);
        storage.log.hash_entries(&mut h);
        match &node.processor {
            Some(processor) => {
                h.write_u8(1);
                processor.hash_logical(&mut h, &rename);
            }
            None => h.write_u8(0),
        }
    }
    let mut messages: Vec<u64> = state
        .flights
        .iter()
        .map(|f| message_digest(&f.envelope, &rename))
        .collect();
    messages.sort_unstable();
    messages.hash(&mut h);
    (
        state.crashes,
        state.writes,
        state.reads,
        state.changes,
        state.added,
    )
        .hash(&mut h);
    hash_ghost(&state.ghost, &rename, &mut h);
    h.finish()
}

fn hash_ghost(ghost: &Ghost, rename: &dyn Fn(NodeId) -> NodeId, h: &mut Fingerprinter) {
    let leaders: Vec<NodeId> = ghost
        .leaders
        .iter()
        .map(|&n| if n == 0 { 0 } else { rename(n) })
        .collect();
    leaders.hash(h);
    ghost.commit_terms.hash(h);
    for committed in &ghost.committed {
        (committed.term, committed.chain, committed.in_term).hash(h);
    }
    for (digest, _, _) in &ghost.applied {
        digest.hash(h);
    }
    for write in &ghost.writes {
        (rename_some(write.origin, rename), write.acknowledged).hash(h);
    }
    for read in &ghost.reads {
        (read.number, rename(read.node), read.key, read.must_see).hash(h);
    }
}

fn rename_some(node: NodeId, rename: &dyn Fn(NodeId) -> NodeId) -> NodeId {
    if node == 0 { 0 } else { rename(node) }
}

/// The next permutation in lexicographic order; `false` after the last.
fn next_permutation(items: &mut [NodeId]) -> bool {
    let Some(pivot) = items.windows(2).rposition(|w| w[0] < w[1]) else {
        return false;
    };
    let Some(swap) = items.iter().rposition(|&x| x > items[pivot]) else {
        return false;
    };
    items.swap(pivot, swap);
    items[pivot + 1..].reverse();
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::model::{Action, Bounds, Model, Outcome};
    use crate::raft::RaftProcessor;

    fn after(model: &Model, state: &State, actions: &[Action]) -> State {
        let mut state = state.clone();
        for &action in actions {
            match model.next(&state, action) {
                Outcome::Next { state: next, .. } => state = next,
                Outcome::Broken(finding) => panic!("{}", finding.detail),
            }
        }
        state
    }

    #[test]
    fn states_that_differ_only_in_timing_have_one_fingerprint() {
        let model = Model::new(Bounds::default(), &[], 1);
        // n1 campaigns (#1, #2), n2 votes (#3), n1 wins and sends AppendEntries (#4, #5).
        let path = [
            Action::Timeout { node: 1 },
            Action::Deliver { msg: 1 },
            Action::Deliver { msg: 3 },
        ];
        let early = after(&model, &model.init(), &path);
        // The same path 5 s later, every node's RNG seeded otherwise.
        let mut late = model.init();
        late.now_us = 5_000_000;
        for (position, node) in late.nodes.iter_mut().enumerate() {
            let id = position as NodeId + 1;
            let raft = model.raft.clone();
            let seed = 77 + id;
            let node = std::sync::Arc::make_mut(node);
            node.incarnation = 9;
            let storage = &node.storage;
            let now_us = late.now_us;
            node.processor = Some(RaftProcessor::new(
                id,
                &[1, 2, 3],
                raft,
                storage,
                seed,
                now_us,
            ));
        }
        let late = after(&model, &late, &path);
        let deadline = |s: &State| s.nodes[0].processor.as_ref().map(|p| p.next_deadline_us());
        assert_ne!(deadline(&early), deadline(&late));
        assert_ne!(sent_us(&early), sent_us(&late));
        assert_eq!(fingerprint(&early, false), fingerprint(&late, false));
        let beat = [Action::Heartbeat { node: 1 }];
        assert_eq!(
            fingerprint(&after(&model, &early, &beat), false),
            fingerprint(&after(&model, &late, &beat), false)
        );
        // What the nodes hold and what is in flight do count.
        assert_ne!(
            fingerprint(&early, false),
            fingerprint(&model.init(), false)
        );
        let dropped = after(&model, &early, &[Action::Drop { msg: 4 }]);
        assert_ne!(fingerprint(&dropped, false), fingerprint(&early, false));
    }

    fn sent_us(state: &State) -> Vec<u64> {
        let sent = state
            .flights
            .iter()
            .filter_map(|f| match f.envelope.message {
                Message::AppendEntries { sent_us, .. } => Some(sent_us),
                _ => None,
            });
        sent.collect()
    }

    #[test]
    fn states_that_differ_only_in_node_names_are_one_under_symmetry() {
        let model = Model::new(Bounds::default(), &[], 1);
        let one = after(&model, &model.init(), &[Action::Timeout { node: 1 }]);
        let three = after(&model, &model.init(), &[Action::Timeout { node: 3 }]);
        assert_ne!(fingerprint(&one, false), fingerprint(&three, false));
        assert_eq!(fingerprint(&one, true), fingerprint(&three, true));
    }
}
