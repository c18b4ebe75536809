//! Crash and restart: what a node keeps (Figure 2's persistent state) and what it learns
//! again.

use raftlab::raft::{Input, Message, NodeId, RaftConfig, RaftProcessor, Role, Storage};

use crate::harness::{Cluster, MS, Net, envelope, messages_of_kind};

fn vote_request(from: NodeId, term: u64) -> Input {
    let request = Message::RequestVote {
        last_log_index: 10,
        last_log_term: 10,
        leadership_transfer: false,
    };
    Input::message(envelope(from, 1, term, request))
}

fn granted(node: &mut RaftProcessor, storage: &mut Storage, input: Input) -> bool {
    let outputs = node.step(0, input);
    for write in &outputs.writes {
        storage.apply(write);
    }
    messages_of_kind(&outputs, "VoteResponse")[0].message == Message::VoteResponse { granted: true }
}

/// Reference: Figure 2, "Persistent state on all servers: currentTerm, votedFor, log[]
/// (updated on stable storage before responding to RPCs)". A node rebuilt from its storage
/// has the term, vote and log it had, and starts as a follower with nothing committed.
#[test]
fn a_restarted_node_has_the_same_term_vote_and_log() {
    let mut cluster = Cluster::new(5, 21);
    let leader = cluster.run_until_leader(3_000 * MS).expect("a leader");
    cluster.propose(leader, vec![b"a".to_vec(), b"b".to_vec()]);
    cluster.run_for(300 * MS);
    for id in 1..=5 {
        let before = cluster.node(id).view();
        let log = cluster.node(id).log().clone();
        cluster.crash(id);
        cluster.restart(id);
        let after = cluster.node(id).view();
        assert_eq!(
            (after.term, after.vote),
            (before.term, before.vote),
            "n{id}"
        );
        assert_eq!(cluster.node(id).log(), &log, "n{id}");
        assert_eq!(
            (after.role, after.commit, after.leader),
            (Role::Follower, 0, None)
        );
    }
}

/// Reference: section 5.2 and Figure 2 (votedFor is persistent). A node that voted in a
/// term and restarted still refuses every other candidate of that term.
#[test]
fn a_restarted_node_does_not_vote_twice_in_a_term() {
    let voters = [1, 2, 3];
    let config = RaftConfig::default();
    let mut storage = Storage::default();
    let mut node = RaftProcessor::new(1, &voters, config.clone(), &storage, 1, 0);
    assert!(granted(&mut node, &mut storage, vote_request(2, 3)));
    drop(node);
    let mut node = RaftProcessor::new(1, &voters, config.clone(), &storage, 2, 0);
    assert!(
        !granted(&mut node, &mut storage, vote_request(3, 3)),
        "n3 in term 3"
    );
    assert!(
        granted(&mut node, &mut storage, vote_request(2, 3)),
        "n2 again"
    );

    // A candidate voted for itself: after a restart it still refuses others in its term.
    let mut storage = Storage::default();
    let mut candidate = RaftProcessor::new(1, &voters, config.clone(), &storage, 3, 0);
    for write in candidate.step(0, Input::Campaign).writes {
        storage.apply(&write);
    }
    assert_eq!((storage.term, storage.vote), (1, Some(1)));
    drop(candidate);
    let mut restarted = RaftProcessor::new(1, &voters, config, &storage, 4, 0);
    assert!(!granted(&mut restarted, &mut storage, vote_request(2, 1)));
}

/// Reference: section 5.3 and Figure 2 (commitIndex and lastApplied are volatile). A
/// restarted node knows nothing committed; as it learns the commit index from the
/// leader it hands every committed entry to its state machine again, in order, once.
#[test]
fn committed_entries_are_delivered_again_after_a_restart() {
    let mut cluster = Cluster::new(3, 4);
    let leader = cluster.run_until_leader(3_000 * MS).expect("a leader");
    for i in 0..5u8 {
        cluster.propose(leader, vec![vec![i]]);
    }
    cluster.run_for(200 * MS);
    let expected = cluster.applied[&leader].clone();
    assert_eq!(expected.len(), 6, "the noop and 5 commands");
    for id in [1, 2, 3] {
        assert_eq!(cluster.applied[&id], expected, "n{id} before");
    }
    for id in [1, 2, 3] {
        cluster.crash(id);
        cluster.restart(id);
        assert!(!cluster.applied.contains_key(&id));
        // Someone leads (perhaps after a new election), and n{id} hears the commit index.
        cluster.run_for(1_000 * MS);
        let applied = &cluster.applied[&id];
        assert_eq!(
            &applied[..expected.len()],
            &expected[..],
            "n{id} after its restart"
        );
    }
}

/// Reference: section 5.4 (Leader Completeness, State Machine Safety). A whole cluster
/// that stops and starts again keeps every committed entry and goes on committing.
#[test]
fn a_cluster_restarted_entirely_keeps_its_committed_entries() {
    let mut cluster = Cluster::new(5, 9);
    let leader = cluster.run_until_leader(3_000 * MS).expect("a leader");
    cluster.propose(leader, vec![b"x".to_vec()]);
    cluster.run_for(200 * MS);
    let committed = cluster.checker.committed.clone();
    assert_eq!(committed.len(), 2);
    for id in 1..=5 {
        cluster.crash(id);
    }
    for id in 1..=5 {
        cluster.restart(id);
    }
    let leader = cluster.run_until_leader(3_000 * MS).expect("a new leader");
    cluster.propose(leader, vec![b"y".to_vec()]);
    cluster.run_for(300 * MS);
    for id in 1..=5 {
        let log = cluster.node(id).log();
        assert_eq!(log.last_index(), 4, "x, y and two noops on n{id}");
        for (index, entry) in &committed {
            assert_eq!(log.get(*index), Some(entry));
        }
        assert_eq!(cluster.node(id).commit(), 4);
    }
}

/// Reference: Figure 2 ("updated on stable storage before responding to RPCs"). After
/// every step, once its writes are applied, a node's storage holds exactly the
/// processor's term, vote and log, through loss, duplication, delay, crashes and
/// truncations. (The harness compares them after every step; here with whole logs.)
#[test]
fn storage_always_equals_the_processor_state_after_the_writes() {
    for seed in 0..10 {
        let mut cluster = Cluster::new(3, seed);
        cluster.full_storage_check = true;
        cluster.net = Net {
            loss: 0.2,
            dup: 0.1,
            delay_min_us: MS,
            delay_max_us: 20 * MS,
        };
        for round in 0..20u8 {
            if let Some(leader) = cluster.leader() {
                cluster.propose(leader, vec![vec![round]; 3]);
            }
            if round % 5 == 4 {
                let victim = cluster.leader().unwrap_or(1);
                cluster.crash(victim);
                cluster.run_for(300 * MS);
                cluster.restart(victim);
            }
            cluster.run_for(100 * MS);
        }
        for id in 1..=3 {
            assert_eq!(&cluster.storages[&id].log, cluster.node(id).log());
        }
        let steps = cluster.checker.steps_checked;
        let entries = cluster.node(1).log().last_index();
        assert!(
            steps > 100 && entries > 10,
            "seed {seed}: {steps} steps, {entries} entries"
        );
    }
}
