//! The RaftProcessor: one node's Raft, driven by inputs, producing outputs.
//!
//! This file holds the inputs and outputs, the node's state, the timers, the role changes
//! and the one place where every message's term is checked before it is dispatched by
//! kind. The handlers live beside it in `processor/`: `election` (campaigns, votes,
//! PreVote, CheckQuorum, leadership transfer), `replication` (AppendEntries both ways,
//! proposals, the commit index), `snapshot` (compaction and InstallSnapshot),
//! `membership` (adding and removing nodes), `read` (ReadIndex and lease reads) and `logical`
//! (the fingerprint of a node's logical state, for the model checker).

use std::collections::BTreeSet;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

mod election;
mod logical;
mod membership;
mod read;
mod replication;
mod snapshot;

pub use read::{NoLease, ReadId, ReadState};

use super::{
    Bug, Command, Entry, Envelope, Index, Message, NodeId, NodeMap, Payload, RaftConfig, RaftLog,
    Snapshot, Storage, Term,
};

/// What can happen to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A message from a peer arrived. Shared, not owned: the caller may hold the same
    /// envelope elsewhere (a network queue, an event log), and the node copies out only
    /// what it keeps, the entries it appends or the snapshot it installs.
    Message(Arc<Envelope>),
    /// The node's timer fired: the caller saw `now_us >= next_deadline_us`.
    Tick,
    /// A batch of client commands to append to the log, as one proposal.
    Propose(Vec<Command>),
    /// Start an election now, as if the election timer had fired.
    Campaign,
    /// Hand the leadership to this node: bring its log up to date, then tell it to start
    /// an election (TimeoutNow). Only a leader can; proposals are refused meanwhile.
    TransferLeader(NodeId),
    /// Client reads to answer by ReadIndex or under the leader's lease, each named by the
    /// caller.
    Read(Vec<ReadId>),
    /// The state machine's state after applying the entries up to `index` (at most the
    /// applied index): the node makes it its snapshot and compacts its log up to there.
    Snapshot { index: Index, data: Vec<u8> },
    /// Add this node to the cluster, as a learner first (a single-server change).
    AddNode(NodeId),
    /// Remove this node, voter or learner, from the cluster (a single-server change).
    RemoveNode(NodeId),
}

impl Input {
    /// A message from a peer that nothing else holds: [`Input::Message`] with the envelope
    /// wrapped for it.
    pub fn message(envelope: Envelope) -> Input {
        Input::Message(Arc::new(envelope))
    }
}

/// A change to durable state, to be applied to the node's [`Storage`] before the
/// messages of the same [`Outputs`] are sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DurableWrite {
    /// The term changed, or a vote was cast.
    HardState { term: Term, vote: Option<NodeId> },
    /// The entries from `from` on conflicted with the leader's and are removed.
    Truncate { from: Index },
    /// Entries appended at the end of the log.
    Append { entries: Vec<Entry> },
    /// A snapshot taken or received: the storage keeps it and compacts its log up to its
    /// index by [`RaftLog::compact`]'s rule.
    Snapshot(Snapshot),
}

/// The three roles of Section 5.1, as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Follower,
    Candidate,
    Leader,
}

impl Role {
    /// The role's name in lower case, as typed in commands.
    pub fn name(self) -> &'static str {
        match self {
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        }
    }
}

/// Something notable that happened inside the node, for observers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftEvent {
    /// The node moved to a new term.
    TermChanged { from: Term, to: Term },
    /// The node became a follower (of `leader`, when it knows it).
    BecameFollower { term: Term, leader: Option<NodeId> },
    /// The node started a pre-vote round for `term` (its own term + 1), keeping its term.
    PreVoteStarted { term: Term },
    /// The node started an election.
    BecameCandidate { term: Term },
    /// The leader of `term` had not heard from a majority within an election timeout and
    /// stepped down (CheckQuorum).
    LostQuorum { term: Term },
    /// The node won an election.
    BecameLeader { term: Term },
    /// A leader or candidate became a follower, for `cause` (after its `TermChanged` and
    /// `BecameFollower`): the reason is the lesson.
    SteppedDown {
        was: Role,
        term: Term,
        cause: StepDownCause,
    },
    /// The node learned who leads its term.
    LeaderKnown { term: Term, leader: NodeId },
    /// The node cast its vote.
    Voted { term: Term, candidate: NodeId },
    /// The leader started handing its leadership to `target`.
    TransferStarted { term: Term, target: NodeId },
    /// The leader told `target`, now up to date, to start an election.
    TimeoutNowSent { term: Term, target: NodeId },
    /// A leadership transfer to `target` did not happen.
    TransferFailed {
        term: Term,
        target: NodeId,
        reason: &'static str,
    },
    /// The node's commit index advanced.
    CommitAdvanced { from: Index, to: Index },
    /// Conflicting entries from `from` on were removed from the node's log.
    LogTruncated { from: Index, removed: u64 },
    /// The node took a snapshot of its state machine and compacted its log up to `index`.
    SnapshotTaken { index: Index, term: Term },
    /// The node installed a snapshot from the leader, up to `index`.
    SnapshotInstalled { index: Index, term: Term },
    /// The node's configuration changed: the latest configuration entry in its log is now
    /// the one at `index` (0: the configuration it was built with).
    ConfigChanged {
        index: Index,
        voters: Vec<NodeId>,
        learners: Vec<NodeId>,
    },
    /// An `add` or `remove` at this node was refused.
    ChangeRefused { reason: ProposeError },
    /// The leader took `reads` reads at commit index `index` under its lease, which holds
    /// until `lease_until_us`: no message round (lease reads).
    LeaseRead {
        term: Term,
        reads: usize,
        index: Index,
        lease_until_us: u64,
    },
    /// The leader, with lease reads on, could not serve `reads` reads under its lease, for
    /// the reason `why`: they wait for a ReadIndex round instead.
    ReadWithoutLease {
        term: Term,
        reads: usize,
        why: NoLease,
    },
    /// `campaign` was ignored: with lease reads, the node refuses to vote, itself included,
    /// until `until_us`, since a leader's lease may count on that.
    CampaignIgnored { term: Term, until_us: u64 },
}

/// Why a leader or candidate stepped down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepDownCause {
    /// A message from `from` carried a higher term (Figure 2, "Rules for all servers").
    HigherTerm { from: NodeId },
    /// A candidate heard from `leader`, which won its term (section 5.2).
    LeaderOfTerm { leader: NodeId },
}

/// Why a proposal was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ProposeError {
    #[error("not the leader (leader is {})", leader.map_or("unknown".to_string(), |n| format!("n{n}")))]
    NotLeader { leader: Option<NodeId> },
    #[error("the leader is handing its leadership to n{target}")]
    Transferring { target: NodeId },
    #[error("the leader has not committed an entry of its term yet")]
    NoCommitInTerm,
    #[error("the configuration change at index {index} has not committed yet")]
    ChangePending { index: Index },
    #[error("n{node} is already in the cluster")]
    AlreadyMember { node: NodeId },
    #[error("n{node} is not in the cluster")]
    NotMember { node: NodeId },
    #[error("n{node} is the last voter")]
    LastVoter { node: NodeId },
}

/// Where a proposal's commands went in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proposed {
    pub first_index: Index,
    pub last_index: Index,
    pub term: Term,
}

/// Everything one step produced. The caller applies `writes` to durable storage first,
/// then sends `messages`, applies `committed` to its state machine in order, and calls
/// `step(.., Input::Tick)` when its clock reaches `next_deadline_us`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outputs {
    /// Durable writes, in the order they must be applied.
    pub writes: Vec<DurableWrite>,
    /// Messages to send.
    pub messages: Vec<Envelope>,
    /// Newly committed entries, in log order, to apply to the state machine.
    pub committed: Vec<Entry>,
    /// Notable events, in the order they happened.
    pub events: Vec<RaftEvent>,
    /// Reads of `Input::Read` that may now be answered, or must be refused.
    pub reads: Vec<ReadState>,
    /// A snapshot from the leader that replaces the state machine's state, applied before
    /// `committed` (which then follows on from it).
    pub restore: Option<Snapshot>,
    /// The result of an `Input::Propose`.
    pub proposal: Option<Result<Proposed, ProposeError>>,
    /// When the node's timer must fire next.
    pub next_deadline_us: u64,
}

impl Outputs {
    /// Empties every list, keeping its room, and resets the rest as
    /// [`Outputs::default`] has it.
    #[inline]
    pub fn clear(&mut self) {
        // Called on every step, when most lists are empty (the caller took or emptied
        // them): an empty list is left alone, since clearing one still calls the drop of
        // its (no) elements.
        fn clear<T>(list: &mut Vec<T>) {
            if !list.is_empty() {
                list.clear();
            }
        }
        clear(&mut self.writes);
        clear(&mut self.messages);
        clear(&mut self.committed);
        clear(&mut self.events);
        clear(&mut self.reads);
        self.restore = None;
        self.proposal = None;
        self.next_deadline_us = 0;
    }
}

/// The state of one node at a glance, for views and checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeView {
    pub id: NodeId,
    pub role: Role,
    pub term: Term,
    pub vote: Option<NodeId>,
    pub leader: Option<NodeId>,
    pub last_index: Index,
    pub last_term: Term,
    pub commit: Index,
    pub applied: Index,
    /// The voters of the node's latest configuration, sorted.
    pub voters: Arc<[NodeId]>,
    /// The learners of the node's latest configuration, sorted.
    pub learners: Arc<[NodeId]>,
    /// A candidate's (or a PreVote round's) votes granted so far, its own included; 0 for
    /// a follower or a leader.
    pub votes_granted: u32,
    /// A leader's view of each follower's log, in id order; `None` for other roles.
    pub progress: Option<Arc<[FollowerProgress]>>,
}

/// What a leader knows of one follower's log, as the views show it (Figure 2's
/// `nextIndex[]` and `matchIndex[]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowerProgress {
    pub node: NodeId,
    /// The next index the leader will send. Invariant: `match_index < next_index`.
    pub next_index: Index,
    /// The highest index known to match the leader's log.
    pub match_index: Index,
}

/// What a leader knows of one follower's log.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Progress {
    /// The next index to send. Invariant: `match_index < next_index`.
    next_index: Index,
    /// The highest index known to match the leader's log. Never decreases in a term.
    match_index: Index,
    /// AppendEntries with entries sent and not yet answered.
    inflight: u32,
    /// When the leader last heard from the follower in its term (or became leader), for
    /// CheckQuorum.
    last_heard_us: u64,
    /// The latest `sent_us` the follower echoed in the leader's term: it heard from the
    /// leader at or after that time, by the leader's clock (lease reads). Never decreases.
    acked_sent_us: Option<u64>,
}

/// Each role with the state only that role has.
#[derive(Clone, Debug, PartialEq, Eq)]
enum RoleState {
    Follower {
        leader: Option<NodeId>,
    },
    /// A follower running a pre-vote round for `term + 1` (PreVote): `votes` holds the
    /// voters that said yes, itself included if it is one. Shown as a follower: its term
    /// is unchanged.
    PreCandidate {
        votes: BTreeSet<NodeId>,
    },
    /// `votes` holds the voters of the candidate's latest configuration that granted their
    /// vote, the candidate included if it is one of them.
    Candidate {
        votes: BTreeSet<NodeId>,
    },
    Leader {
        progress: ProgressMap,
    },
}

/// A leader's [`Progress`] of each follower, by node id: it looks one up on every answer
/// it gets.
type ProgressMap = NodeMap<Progress>;

/// One node's Raft. See the module documentation of [`crate::raft`].
#[derive(Clone, Debug)]
pub struct RaftProcessor {
    id: NodeId,
    /// The other members, voters and learners, of the latest configuration, sorted, so
    /// that every loop over them is in a fixed order.
    peers: Vec<NodeId>,
    /// The latest configuration in the log (committed or not).
    membership: membership::Membership,
    /// The configuration in force just before `membership`'s entry (`membership` itself
    /// when that is the snapshot's or the initial one): a node it leaves out may campaign,
    /// and a leader replicates to its members, until `membership` is known to be committed.
    previous_membership: membership::Membership,
    /// The configuration as of the snapshot (or construction).
    base_membership: membership::Membership,
    /// The last log index `membership` accounts for.
    membership_scanned: Index,
    /// The log was truncated or compacted: the configuration is looked up again whole.
    membership_rescan: bool,
    /// A configuration entry was appended since the configuration was last looked up:
    /// entries appended without one are accounted for without being looked at again.
    config_appended: bool,
    /// A leader's progress is known to hold exactly its peers under a committed
    /// configuration, so `sync_progress` has nothing to do (and `majority_value` knows
    /// that each follower is a member). Only `sync_progress` sets it; becoming leader and
    /// finding a configuration in the log clear it.
    progress_settled: bool,
    config: RaftConfig,
    /// Invariant: never decreases.
    term: Term,
    /// The vote cast in `term`; cast at most once per term.
    vote: Option<NodeId>,
    log: RaftLog,
    /// The latest snapshot (index 0 and no data before the first).
    /// Invariant: `snapshot.index == log.snapshot_index() <= applied`.
    snapshot: Snapshot,
    /// Invariant: never decreases, `applied <= commit <= log.last_index()`.
    commit: Index,
    /// The last entry handed to the caller to apply.
    applied: Index,
    role: RoleState,
    rng: ChaCha8Rng,
    now_us: u64,
    /// When a follower or candidate starts an election.
    election_deadline_us: u64,
    /// When a leader next sends heartbeats.
    heartbeat_deadline_us: u64,
    /// When the node last accepted AppendEntries from the leader of its term, for
    /// PreVote and leader stickiness. Invariant: at most `now_us`.
    leader_contact_us: Option<u64>,
    /// The leadership transfer in progress. Invariant: `Some` only while leader.
    transfer: Option<election::Transfer>,
    /// Reads waiting for their index and the confirmation of leadership. Invariant:
    /// empty unless leader.
    reads: read::PendingReads,
    /// When this processor was built: the node started, or restarted from its storage.
    /// With lease reads it grants no vote within the shortest election timeout of that,
    /// since it may have acknowledged a leader's lease just before it went down.
    started_us: u64,
    /// The term in which this node, leading, sent TimeoutNow: it serves no lease reads
    /// for the rest of that term (see `processor/read.rs`).
    timeout_now_term: Option<Term>,
    /// What the step under way caused; between steps, what the caller left of the last
    /// step's (see [`RaftProcessor::step_in_place`]).
    out: Outputs,
    /// The term or vote changed in this step and must be written.
    hard_state_dirty: bool,
}

impl RaftProcessor {
    /// A node `id` of the cluster `voters`, started from `storage` at time `now_us`, as a
    /// follower with an election timer drawn from `seed`. The latest configuration entry
    /// in the log, if any, replaces `voters`; a node in no configuration (a node being
    /// added) waits to hear from the leader and never campaigns.
    pub fn new(
        id: NodeId,
        voters: &[NodeId],
        config: RaftConfig,
        storage: &Storage,
        seed: u64,
        now_us: u64,
    ) -> RaftProcessor {
        let base_membership = storage
            .snapshot
            .as_ref()
            .and_then(membership::Membership::of_snapshot)
            .unwrap_or_else(|| membership::Membership::new(voters, &[], 0));
        let snapshot = storage.snapshot.clone().unwrap_or_default();
        assert_eq!(snapshot.index, storage.log.snapshot_index());
        let mut node = RaftProcessor {
            id,
            peers: Vec::new(),
            membership: base_membership.clone(),
            previous_membership: base_membership.clone(),
            base_membership,
            membership_scanned: 0,
            membership_rescan: true,
            config_appended: false,
            progress_settled: false,
            config,
            term: storage.term,
            vote: storage.vote,
            log: storage.log.clone(),
            // What the snapshot covers is committed and applied (the caller restores its
            // state machine from it).
            commit: snapshot.index,
            applied: snapshot.index,
            snapshot,
            role: RoleState::Follower { leader: None },
            rng: ChaCha8Rng::seed_from_u64(seed),
            now_us,
            election_deadline_us: 0,
            heartbeat_deadline_us: 0,
            leader_contact_us: None,
            transfer: None,
            reads: read::PendingReads::default(),
            started_us: now_us,
            timeout_now_term: None,
            out: Outputs::default(),
            hard_state_dirty: false,
        };
        node.reset_election_timer();
        node.sync_membership();
        node.out = Outputs::default();
        node
    }

    /// Handles one input at time `now_us` and returns what it caused.
    pub fn step(&mut self, now_us: u64, input: Input) -> Outputs {
        self.step_in_place(now_us, input);
        std::mem::take(&mut self.out)
    }

    /// Handles one input at time `now_us`, as [`RaftProcessor::step`] does, and leaves
    /// what it caused in the processor's own [`Outputs`] ([`RaftProcessor::outputs_mut`]),
    /// cleared first. Their lists keep their room from step to step: a caller that takes
    /// out only what it hands on, and empties or swaps the rest, lets a step that fits
    /// in that room allocate no list.
    pub fn step_in_place(&mut self, now_us: u64, input: Input) {
        self.out.clear();
        assert!(
            now_us >= self.now_us,
            "time went backwards: {now_us} < {}",
            self.now_us
        );
        self.now_us = now_us;
        let (term_before, commit_before) = (self.term, self.commit);
        match input {
            Input::Message(envelope) => self.handle_message(&envelope),
            Input::Tick => self.handle_tick(),
            Input::Propose(commands) => {
                let result = self.propose(commands);
                self.out.proposal = Some(result);
            }
            Input::Campaign => self.campaign_requested(),
            Input::TransferLeader(target) => self.transfer_leader(target),
            Input::Read(ids) => self.read(ids),
            Input::Snapshot { index, data } => self.take_snapshot(index, data),
            Input::AddNode(node) => self.request_change(membership::Change::Add(node)),
            Input::RemoveNode(node) => self.request_change(membership::Change::Remove(node)),
        }
        self.sync_membership();
        self.after_membership_commit();
        self.release_reads();
        assert!(self.term >= term_before, "term decreased");
        assert!(self.commit >= commit_before, "commit decreased");
        assert!(self.applied <= self.commit);
        assert!(self.transfer.is_none() || matches!(self.role, RoleState::Leader { .. }));
        assert!(self.reads.is_empty() || matches!(self.role, RoleState::Leader { .. }));
        assert!(
            self.snapshot.index <= self.applied,
            "a snapshot of unapplied entries"
        );
        assert_eq!(self.snapshot.index, self.log.snapshot_index());
        // Relaxed under a log-safety bug: a follower that committed a stale entry (which a
        // correct Raft never does) has it truncated by the leader, leaving its commit index
        // past its last entry. The checker reports what led there.
        assert!(self.commit <= self.log.last_index() || self.config.log_safety_bugs());
        if self.hard_state_dirty {
            self.hard_state_dirty = false;
            // Teaching bug `forget-vote`: the vote is not made durable.
            let vote = if self.config.has_bug(Bug::ForgetVote) {
                None
            } else {
                self.vote
            };
            let write = DurableWrite::HardState {
                term: self.term,
                vote,
            };
            self.out.writes.insert(0, write);
        }
        self.out.next_deadline_us = self.next_deadline_us();
    }

    /// The outputs of the last [`RaftProcessor::step_in_place`], for the caller to take,
    /// empty or swap out; the next step clears what is left.
    pub fn outputs_mut(&mut self) -> &mut Outputs {
        &mut self.out
    }

    /// When the node's timer must fire next.
    pub fn next_deadline_us(&self) -> u64 {
        match self.role {
            RoleState::Leader { .. } => match &self.transfer {
                Some(transfer) => self.heartbeat_deadline_us.min(transfer.deadline_us),
                None => self.heartbeat_deadline_us,
            },
            _ => self.election_deadline_us,
        }
    }

    /// The node's state at a glance.
    pub fn view(&self) -> NodeView {
        NodeView {
            id: self.id,
            role: self.role(),
            term: self.term,
            vote: self.vote,
            leader: self.leader(),
            last_index: self.log.last_index(),
            last_term: self.log.last_term(),
            commit: self.commit,
            applied: self.applied,
            voters: Arc::clone(&self.membership.voters),
            learners: Arc::clone(&self.membership.learners),
            votes_granted: self.votes_granted(),
            progress: self.follower_progress(),
        }
    }

    /// Whether `view` shows this node as it is now: equal to what [`RaftProcessor::view`]
    /// would build, found without building it (no list allocated, no reference counted).
    pub fn view_is_current(&self, view: &NodeView) -> bool {
        // The fields that change most often first: most changed views fail early.
        let scalars_current = view.commit == self.commit
            && view.applied == self.applied
            && view.last_index == self.log.last_index()
            && view.term == self.term
            && view.role == self.role()
            && view.id == self.id
            && view.vote == self.vote
            && view.leader == self.leader()
            && view.last_term == self.log.last_term()
            && view.votes_granted == self.votes_granted();
        scalars_current
            && view.voters == self.membership.voters
            && view.learners == self.membership.learners
            && match (&self.role, &view.progress) {
                (RoleState::Leader { progress }, Some(shown)) => {
                    progress.len() == shown.len()
                        && progress.iter().zip(shown.iter()).all(|((&node, p), row)| {
                            row.node == node
                                && row.next_index == p.next_index
                                && row.match_index == p.match_index
                        })
                }
                (RoleState::Leader { .. }, None) => false,
                (_, shown) => shown.is_none(),
            }
    }

    /// A candidate's (or a PreVote round's) votes granted so far; 0 in other roles.
    pub fn votes_granted(&self) -> u32 {
        match &self.role {
            RoleState::Candidate { votes } | RoleState::PreCandidate { votes } => {
                votes.len() as u32
            }
            RoleState::Follower { .. } | RoleState::Leader { .. } => 0,
        }
    }

    /// A leader's `nextIndex` and `matchIndex` for each follower, in id order.
    pub fn follower_progress(&self) -> Option<Arc<[FollowerProgress]>> {
        let RoleState::Leader { progress } = &self.role else {
            return None;
        };
        let rows = progress.iter().map(|(&node, p)| FollowerProgress {
            node,
            next_index: p.next_index,
            match_index: p.match_index,
        });
        Some(rows.collect())
    }

    /// The highest index applied to the state machine.
    pub fn applied(&self) -> Index {
        self.applied
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn term(&self) -> Term {
        self.term
    }

    pub fn commit(&self) -> Index {
        self.commit
    }

    pub fn log(&self) -> &RaftLog {
        &self.log
    }

    pub fn role(&self) -> Role {
        match self.role {
            RoleState::Follower { .. } | RoleState::PreCandidate { .. } => Role::Follower,
            RoleState::Candidate { .. } => Role::Candidate,
            RoleState::Leader { .. } => Role::Leader,
        }
    }

    /// The leader of the node's term, as far as the node knows.
    pub fn leader(&self) -> Option<NodeId> {
        match self.role {
            RoleState::Follower { leader } => leader,
            RoleState::Candidate { .. } | RoleState::PreCandidate { .. } => None,
            RoleState::Leader { .. } => Some(self.id),
        }
    }

    fn quorum(&self) -> usize {
        let voters = self.membership.voters.len();
        voters / 2 + 1
    }

    // ---- timers -------------------------------------------------------------------

    fn reset_election_timer(&mut self) {
        let (min_us, max_us) = (
            self.config.election_timeout_min_us,
            self.config.election_timeout_max_us,
        );
        let timeout_us = self.rng.random_range(min_us..=max_us);
        self.election_deadline_us = self.now_us + timeout_us;
    }

    fn handle_tick(&mut self) {
        match self.role {
            RoleState::Leader { .. } => {
                self.check_transfer_deadline();
                if self.now_us >= self.heartbeat_deadline_us && !self.check_quorum() {
                    self.send_heartbeats();
                }
            }
            RoleState::Follower { .. }
            | RoleState::PreCandidate { .. }
            | RoleState::Candidate { .. } => {
                if self.now_us >= self.election_deadline_us {
                    self.start_election();
                }
            }
        }
    }

    // ---- role changes -------------------------------------------------------------

    fn set_term(&mut self, term: Term) {
        assert!(term > self.term, "a term change must move forward");
        self.out.events.push(RaftEvent::TermChanged {
            from: self.term,
            to: term,
        });
        self.term = term;
        self.vote = None;
        self.hard_state_dirty = true;
    }

    fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        let new_term = term > self.term;
        if new_term {
            self.set_term(term);
        }
        let was_follower = matches!(self.role, RoleState::Follower { .. });
        let was_leader = matches!(self.role, RoleState::Leader { .. });
        self.transfer = None;
        self.refuse_reads(leader);
        self.role = RoleState::Follower { leader };
        if !was_follower || new_term {
            self.out
                .events
                .push(RaftEvent::BecameFollower { term, leader });
        }
        if let Some(leader) = leader {
            self.out
                .events
                .push(RaftEvent::LeaderKnown { term, leader });
        }
        // Figure 2: the election timer restarts on AppendEntries from the leader (and on
        // granting a vote), not on merely seeing a higher term. A candidate whose log is
        // behind cannot win, and must not hold back, round after round, the nodes that
        // can. A former leader's timer was its heartbeat timer, so it needs a fresh one.
        if leader.is_some() || was_leader {
            self.reset_election_timer();
        }
    }

    /// The node learns that `leader` leads its own term: a candidate gives up its election.
    pub(super) fn follow_leader_of_term(&mut self, leader: NodeId) {
        let was = self.role();
        self.become_follower(self.term, Some(leader));
        if was == Role::Candidate {
            let (term, cause) = (self.term, StepDownCause::LeaderOfTerm { leader });
            self.out
                .events
                .push(RaftEvent::SteppedDown { was, term, cause });
        }
    }

    /// Starts an election (section 5.2).
    pub(super) fn campaign(&mut self) {
        self.campaign_for(false);
    }

    /// Starts an election; `leadership_transfer` when the leader asked for it (TimeoutNow).
    pub(super) fn campaign_for(&mut self, leadership_transfer: bool) {
        if matches!(self.role, RoleState::Leader { .. }) {
            return;
        }
        self.set_term(self.term + 1);
        self.vote = Some(self.id);
        self.role = RoleState::Candidate {
            votes: self.own_vote(),
        };
        self.out
            .events
            .push(RaftEvent::BecameCandidate { term: self.term });
        self.out.events.push(RaftEvent::Voted {
            term: self.term,
            candidate: self.id,
        });
        self.reset_election_timer();
        // A single voter elects itself at once; a candidate that is not a voter of its
        // latest configuration (see `processor/membership.rs`) needs the others' votes.
        if self.own_vote().len() >= self.quorum() {
            self.become_leader();
            return;
        }
        let message = Message::RequestVote {
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            leadership_transfer,
        };
        for peer in self.voter_peers() {
            self.send(peer, message.clone());
        }
    }

    fn become_leader(&mut self) {
        self.role = RoleState::Leader {
            progress: ProgressMap::default(),
        };
        self.progress_settled = false;
        // A progress for each peer (and each node being removed), from the next index.
        self.sync_progress();
        self.out
            .events
            .push(RaftEvent::BecameLeader { term: self.term });
        // A no-op of the new term lets the leader commit what earlier terms left (section 8).
        self.append_to_own_log(vec![Payload::Noop]);
        self.send_heartbeats();
        self.maybe_commit();
    }

    // ---- messages -------------------------------------------------------------------

    pub(super) fn send(&mut self, to: NodeId, message: Message) {
        self.out.messages.push(Envelope {
            from: self.id,
            to,
            term: self.term,
            message,
        });
    }

    /// The term rules of Figure 2, in one place for every message, then dispatch by type.
    fn handle_message(&mut self, envelope: &Envelope) {
        assert_eq!(envelope.to, self.id, "message delivered to the wrong node");
        let &Envelope {
            from,
            term,
            ref message,
            ..
        } = envelope;
        if term > self.term && !self.takes_response_as_own_term(message) {
            if self.skips_term_rule(from, term, message) {
                return;
            }
            let from_leader = matches!(
                message,
                Message::AppendEntries { .. }
                    | Message::LeaderCheck { .. }
                    | Message::InstallSnapshot { .. }
            );
            let leader = from_leader.then_some(from);
            let was = self.role();
            self.become_follower(term, leader);
            if was != Role::Follower {
                let cause = StepDownCause::HigherTerm { from };
                self.out
                    .events
                    .push(RaftEvent::SteppedDown { was, term, cause });
            }
        } else if term < self.term {
            self.reject_stale(from, message);
            return;
        }
        match *message {
            Message::RequestVote {
                last_log_index,
                last_log_term,
                ..
            } => self.handle_vote_request(from, last_log_index, last_log_term),
            Message::TimeoutNow => self.handle_timeout_now(from),
            Message::LeaderCheck { round } => self.handle_leader_check(from, round),
            Message::LeaderCheckResponse { round } => {
                self.handle_leader_check_response(from, round)
            }
            Message::VoteResponse { granted } => self.handle_vote_response(from, granted),
            Message::PreVote {
                last_log_index,
                last_log_term,
            } => self.handle_prevote_request(from, term, last_log_index, last_log_term),
            Message::PreVoteResponse { granted } => self.handle_prevote_response(from, granted),
            Message::AppendEntries {
                prev_log_index,
                prev_log_term,
                ref entries,
                leader_commit,
                sent_us,
            } => {
                let prev = (prev_log_index, prev_log_term);
                self.handle_append_entries(from, prev, entries, leader_commit, sent_us)
            }
            Message::AppendResponse {
                success,
                index,
                conflict_term,
                conflict_index,
                sent_us,
            } => {
                let conflict = (conflict_term, conflict_index);
                self.handle_append_response(from, success, index, conflict, sent_us)
            }
            Message::InstallSnapshot { ref snapshot } => {
                self.handle_install_snapshot(from, snapshot)
            }
            Message::SnapshotResponse {
                snapshot_index,
                last_index,
            } => self.handle_snapshot_response(from, snapshot_index, last_index),
        }
    }

    /// Teaching bug `ignore-higher-term-response`: a response from a higher term is
    /// handled as though it were of this node's term (the term rule of Figure 2 skipped).
    fn takes_response_as_own_term(&self, message: &Message) -> bool {
        self.config.has_bug(Bug::IgnoreHigherTermResponse)
            && matches!(
                message,
                Message::VoteResponse { .. }
                    | Message::PreVoteResponse { .. }
                    | Message::AppendResponse { .. }
                    | Message::SnapshotResponse { .. }
                    | Message::LeaderCheckResponse { .. }
            )
    }

    /// A request from an older term is refused, so that its sender learns our term and
    /// steps down; a response from an older term is ignored.
    fn reject_stale(&mut self, from: NodeId, message: &Message) {
        match message {
            Message::RequestVote { .. } => {
                self.send(from, Message::VoteResponse { granted: false })
            }
            Message::PreVote { .. } => self.send(from, Message::PreVoteResponse { granted: false }),
            Message::AppendEntries {
                prev_log_index,
                sent_us,
                ..
            } => self.send(
                from,
                Message::AppendResponse {
                    success: false,
                    index: *prev_log_index,
                    conflict_term: None,
                    conflict_index: 0,
                    sent_us: *sent_us,
                },
            ),
            // The snapshot was not installed: the answer claims a match only up to what
            // this node has committed, which every leader's log holds. Its sender may lead
            // again, in the term of this answer, by the time it arrives, and would take a
            // claim of the snapshot's index as the follower's match: the follower's log,
            // shorter than that, would never be repaired.
            Message::InstallSnapshot { snapshot } => self.send(
                from,
                Message::SnapshotResponse {
                    snapshot_index: snapshot.index.min(self.commit),
                    last_index: self.log.last_index(),
                },
            ),
            Message::VoteResponse { .. }
            | Message::PreVoteResponse { .. }
            | Message::TimeoutNow
            | Message::LeaderCheck { .. }
            | Message::LeaderCheckResponse { .. }
            | Message::AppendResponse { .. }
            | Message::SnapshotResponse { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote_from(from: NodeId) -> Input {
        Input::message(Envelope {
            from,
            to: 1,
            term: 1,
            message: Message::VoteResponse { granted: true },
        })
    }

    /// `step_in_place` leaves in the processor what `step` returns, and a list the caller
    /// emptied keeps its room: a step that sends nothing after one that sent does not
    /// find it gone.
    #[test]
    fn a_step_in_place_causes_what_a_step_returns_and_keeps_the_room_of_emptied_lists() {
        let storage = Storage::default();
        let mut returned = RaftProcessor::new(1, &[1, 2, 3], RaftConfig::default(), &storage, 7, 0);
        let mut in_place = returned.clone();
        let command = Command::from(&b"x"[..]);
        // Elected by n2's vote, the leader replicates a proposal, then its timer has not
        // come yet: the last step sends nothing.
        let inputs = [
            Input::Campaign,
            vote_from(2),
            Input::Propose(vec![command]),
            Input::Tick,
        ];
        let mut room = 0;
        let mut sent = 0;
        for input in inputs {
            let expected = returned.step(10, input.clone());
            in_place.step_in_place(10, input);
            let outputs = in_place.outputs_mut();
            assert_eq!(*outputs, expected);
            assert!(outputs.messages.capacity() >= room, "the room was lost");
            sent += outputs.messages.len();
            outputs.messages.clear();
            room = outputs.messages.capacity();
        }
        assert_eq!(in_place.role(), Role::Leader);
        assert!(sent > 0 && room > 0);
    }
}
