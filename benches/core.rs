//! The hot paths of the core, with criterion: a follower taking in an AppendEntries, a
//! leader taking in a batch of proposals, the log's conflict searches, and the
//! linearizability checker on a long history.
//!
//! `cargo bench --bench core`. Sample counts and times are kept small so that the whole
//! run takes well under a minute; each benchmark's input is rebuilt outside the timing.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use raftlab::cluster::kv::{KvMap, KvOp};
use raftlab::cluster::linearizability::{self, Operation, Outcome, SearchBudget, Verdict};
use raftlab::raft::{
    Command, Entry, Envelope, Index, Input, Message, Payload, RaftConfig, RaftLog, RaftProcessor,
    Storage, Term,
};

/// A command of the size a small `put` encodes to.
fn command(i: u64) -> Command {
    format!("put key{} value{i}", i % 100).into_bytes().into()
}

/// `count` entries of `term` from `first` on.
fn entries(first: Index, count: u64, term: Term) -> Vec<Entry> {
    (first..first + count)
        .map(|index| Entry {
            index,
            term,
            payload: Payload::Command(command(index)),
        })
        .collect()
}

/// Node 2 of three, a follower of node 1 in term 1 with a log of `length` entries, the
/// first `committed` of them known to be committed.
fn follower(length: u64, committed: u64) -> RaftProcessor {
    let storage = Storage::with_log(entries(1, length - 1, 1), 1);
    let mut node = RaftProcessor::new(2, &[1, 2, 3], RaftConfig::default(), &storage, 7, 0);
    // The last entry comes by AppendEntries, as in a running cluster: the log's vector then
    // has room to grow, as it has after a while (a fresh copy would be full, and the timed
    // append would pay for copying the whole log).
    node.step(1, Input::message(append(length - 1, 1, committed)));
    node
}

/// An AppendEntries from node 1 carrying `count` new entries after `last`, with the
/// leader's commit index `commit`.
fn append(last: Index, count: u64, commit: Index) -> Envelope {
    Envelope {
        from: 1,
        to: 2,
        term: 1,
        message: Message::AppendEntries {
            prev_log_index: last,
            prev_log_term: 1,
            entries: entries(last + 1, count, 1),
            leader_commit: commit,
            sent_us: 0,
        },
    }
}

/// The steady state of replication: each AppendEntries brings `count` new entries and
/// commits the `count` the previous one brought.
fn follower_append_entries(c: &mut Criterion) {
    let mut group = c.benchmark_group("follower handles AppendEntries");
    for count in [1, 64] {
        group.bench_function(format!("{count} entries"), |b| {
            b.iter_batched(
                || (follower(1_000, 1_000 - count), append(1_000, count, 1_000)),
                |(mut node, envelope)| {
                    let outputs = node.step(2, Input::message(envelope));
                    // Returned, so that dropping the node is not timed.
                    (node, outputs)
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// Node 1 of three, leader of term 1 with a log of 1,000 entries replicated everywhere.
fn leader() -> RaftProcessor {
    let storage = Storage::with_log(entries(1, 1_000, 1), 1);
    let mut node = RaftProcessor::new(1, &[1, 2, 3], RaftConfig::default(), &storage, 7, 0);
    node.step(1, Input::Campaign);
    let vote = Envelope {
        from: 2,
        to: 1,
        term: 2,
        message: Message::VoteResponse { granted: true },
    };
    node.step(2, Input::message(vote));
    assert_eq!(node.role(), raftlab::raft::Role::Leader);
    node
}

fn leader_proposals(c: &mut Criterion) {
    let leader = leader();
    c.bench_function("leader handles a batch of 1,000 proposals", |b| {
        b.iter_batched(
            || (leader.clone(), (0..1_000).map(command).collect::<Vec<_>>()),
            |(mut node, commands)| {
                let outputs = node.step(3, Input::Propose(commands));
                (node, outputs)
            },
            BatchSize::SmallInput,
        )
    });
}

/// A log of 100,000 entries whose term changes every 1,000 entries.
fn long_log() -> RaftLog {
    let entries = (1..=100_000)
        .map(|index| Entry {
            index,
            term: 1 + (index - 1) / 1_000,
            payload: Payload::Noop,
        })
        .collect();
    RaftLog::from_entries(entries)
}

fn log_searches(c: &mut Criterion) {
    let log = long_log();
    let mut group = c.benchmark_group("log of 100,000 entries");
    // A repeated AppendEntries: all 256 entries are already there, so every one is checked.
    let repeated: Vec<Entry> = log.slice(99_745, 256).to_vec();
    group.bench_function("first_new, 256 entries all present", |b| {
        b.iter(|| black_box(log.first_new(black_box(&repeated))))
    });
    group.bench_function("last_index_of_term", |b| {
        b.iter(|| black_box(log.last_index_of_term(black_box(50))))
    });
    group.bench_function("first_index_of_term_before, 1,000 entries back", |b| {
        b.iter(|| black_box(log.first_index_of_term_before(black_box(50_000), 50)))
    });
    group.finish();
}

/// A linearizable history of `count` operations on 10 keys: a sequential run whose
/// operations take effect 10us apart, each seen by its client over an interval of up to
/// 25us either side of that instant, so that neighbours overlap.
fn history(count: u64) -> Vec<Operation> {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let mut map = KvMap::default();
    (0..count)
        .map(|i| {
            let key = format!("k{}", rng.random_range(0..10));
            let value = i.to_string();
            let op = match rng.random_range(0..10) {
                0..4 => KvOp::Put { key, value },
                4..8 => KvOp::Get { key },
                8 => KvOp::Append { key, value },
                _ => KvOp::Cas {
                    old: map.get(&key).unwrap_or("").to_string(),
                    key,
                    new: value,
                },
            };
            let output = map.apply(&op);
            let at_us = 100 + i * 10;
            Operation {
                client: i % 16,
                op,
                invoke_us: at_us - rng.random_range(0..=25),
                outcome: Outcome::Returned {
                    output,
                    response_us: at_us + rng.random_range(0..=25),
                },
            }
        })
        .collect()
}

fn linearizability_check(c: &mut Criterion) {
    let history = history(10_000);
    let budget = SearchBudget::default();
    assert_eq!(
        linearizability::check(&history, budget),
        Verdict::Linearizable
    );
    c.bench_function("linearizability check, 10,000 operations", |b| {
        b.iter(|| black_box(linearizability::check(black_box(&history), budget)))
    });
}

fn quick() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = core;
    config = quick();
    targets = follower_append_entries, leader_proposals, log_searches, linearizability_check
}
criterion_main!(core);
