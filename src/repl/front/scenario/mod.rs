//! Scenario files: a cluster and a list of steps, in YAML, loaded whole and checked before
//! anything runs, then played against a [`Session`](crate::repl::session::Session).
//!
//! ```yaml
//! name: leader-failover
//! description: Kill the leader; a new one is elected and no committed write is lost.
//! cluster:
//!   nodes: 5
//!   seed: 7
//!   clock: virtual              # virtual (default in files) | realtime | paused
//!   election_timeout: 150ms..300ms
//!   heartbeat: 50ms
//!   network: { delay: 1ms..5ms, drop: 0.0, duplicate: 0.0, reorder: false }
//!   raft: { prevote: false, check_quorum: false }
//! steps:
//!   - wait leader within 1s
//!   - put x 1
//!   - say: The entry is committed once a majority has it.
//!   - pause: Look at the logs before the leader dies.
//!   - kill leader
//!   - wait leader within 2s
//!   - expect get x == 1
//! ```
//!
//! [`load`] reads a file into a [`Scenario`]: serde-saphyr deserializes it into documents
//! whose every value keeps its line and column ([`serde_saphyr::Spanned`]), and each value
//! is then read with the command language's own parsers (durations, probabilities, command
//! lines), so a file and the REPL accept the same spellings and give the same messages.
//! Every problem is reported as `FILE:LINE:COLUMN: message`; problems in the cluster
//! settings and in the steps are all collected, so one run shows them all. A YAML syntax or
//! type error stops the reading at the first one.
//!
//! [`run()`] plays loaded scenarios and prints what happens; see there for the output.
//!
//! Choices where the design is silent:
//!
//! - Every key may be left out: `name` defaults to the file's stem, the cluster to five
//!   nodes on a virtual clock with seed 1 and the settings of [`ClusterConfig::default`].
//!   `raftlab run` refuses a file without steps (it would pass while showing nothing);
//!   `raftlab FILE` accepts one, as a way to set up a cluster for the REPL.
//! - `election_timeout` and `network.delay` take a range `A..B` or one duration (a fixed
//!   value); `reorder`, `prevote` and `check_quorum` take `true`/`false` (or `on`/`off`).
//! - `raft.prevote: true` turns PreVote on, `raft.check_quorum: true` CheckQuorum and
//!   leader stickiness (see [`RaftConfig`](crate::raft::RaftConfig)); both are off by default.
//!   `raft.reads: read-index` serves `get` by ReadIndex instead of through the log
//!   (`reads: log`, the default); `raft.reads: lease` under the leader's lease, falling
//!   back to ReadIndex (it needs `check_quorum: true`).
//! - `raft.bugs` is a list of teaching bugs to turn on (`bugs: [commit-previous-term]`),
//!   the names `raftlab check --bug` takes; `raft.max_append_entries` bounds the entries
//!   one AppendEntries carries; `raft.snapshot_every: N` makes each node take a snapshot
//!   every N applied entries (0, the default: only on `snapshot NODE`).
//! - A step that is a command line is parsed and its nodes checked against the cluster
//!   size when the file loads; what only the running cluster can refuse (an `add` when
//!   there is no leader, say) fails when it runs.
//! - `say TEXT` as a command line is narration too, just like `say: TEXT`.
//! - `quit` (or `try quit`) is refused as a step: it would end the run with the steps
//!   after it unrun, and a run that skips steps must not pass. A file ends after its last
//!   step; a reader who stops a `--step` run with `q` gets "stopped at step N of M", and
//!   the file does not count as passed.
//! - A `#` after a space starts a YAML comment, even inside a step: quote a step that
//!   needs one (`- 'say Step #1'`).
//!
//! [`ClusterConfig::default`]: crate::cluster::ClusterConfig

mod doc;
mod load;
pub mod run;
pub mod write;

pub use load::{LoadError, Position, Problem, Scenario, Step, StepKind, load, load_str};
pub use run::{RunOptions, SvgOutput, Verdict, open, play, report_load_error, run};
pub use write::{Header, scenario_yaml};
