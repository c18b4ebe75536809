//! Each teaching bug, shown on one processor: with the bug on, the rule it breaks is
//! skipped; with it off, the same input is handled correctly.

use super::*;
use crate::raft::{
    DurableWrite, Entry, Envelope, Input, Message, NodeId, Payload, RaftProcessor, Storage, Term,
};

fn with(bug: Option<Bug>) -> RaftConfig {
    RaftConfig {
        bugs: bug.into_iter().collect(),
        ..RaftConfig::default()
    }
}

fn noops(terms: &[Term]) -> Vec<Entry> {
    (1..)
        .zip(terms)
        .map(|(index, &term)| Entry {
            index,
            term,
            payload: Payload::Noop,
        })
        .collect()
}

/// Node 2 of three, started from a log of `terms` in term `term`.
fn follower(bug: Option<Bug>, terms: &[Term], term: Term) -> RaftProcessor {
    let storage = Storage::with_log(noops(terms), term);
    RaftProcessor::new(2, &[1, 2, 3], with(bug), &storage, 7, 0)
}

fn from(node: NodeId, term: Term, message: Message) -> Input {
    Input::message(Envelope {
        from: node,
        to: 2,
        term,
        message,
    })
}

fn reply(outputs: &crate::raft::Outputs) -> &Message {
    &outputs.messages[0].message
}

#[test]
fn bug_names_parse_back() {
    for &bug in Bug::ALL {
        assert_eq!(bug.name().parse::<Bug>(), Ok(bug));
    }
    let error = "no-such-bug".parse::<Bug>().unwrap_err().to_string();
    assert!(error.starts_with("unknown bug 'no-such-bug': expected one of commit-previous-term"));
}

#[test]
fn forget_vote_leaves_the_vote_out_of_the_durable_write() {
    for (bug, vote) in [(None, Some(2)), (Some(Bug::ForgetVote), None)] {
        let mut node = follower(bug, &[], 0);
        let outputs = node.step(1, Input::Campaign);
        assert_eq!(
            outputs.writes[0],
            DurableWrite::HardState { term: 1, vote },
            "{bug:?}"
        );
    }
}

#[test]
fn vote_without_log_check_votes_for_a_candidate_with_an_older_log() {
    let request = Message::RequestVote {
        last_log_index: 1,
        last_log_term: 1,
        leadership_transfer: false,
    };
    for (bug, granted) in [(None, false), (Some(Bug::VoteWithoutLogCheck), true)] {
        let mut node = follower(bug, &[1, 2], 2);
        let outputs = node.step(1, from(1, 3, request.clone()));
        assert_eq!(
            reply(&outputs),
            &Message::VoteResponse { granted },
            "{bug:?}"
        );
    }
}

#[test]
fn skip_prev_check_accepts_entries_after_a_mismatching_entry() {
    // The follower's index 2 is of term 1; the leader's is of term 2.
    let append = Message::AppendEntries {
        prev_log_index: 2,
        prev_log_term: 2,
        entries: noops(&[1, 2, 2]).split_off(2),
        leader_commit: 0,
        sent_us: 0,
    };
    for (bug, success) in [(None, false), (Some(Bug::SkipPrevCheck), true)] {
        let mut node = follower(bug, &[1, 1], 2);
        let outputs = node.step(1, from(1, 2, append.clone()));
        let Message::AppendResponse { success: got, .. } = reply(&outputs) else {
            panic!("expected an AppendResponse");
        };
        assert_eq!(*got, success, "{bug:?}");
        assert_eq!(node.log().last_index(), if success { 3 } else { 2 });
    }
}

#[test]
fn commit_beyond_match_commits_stale_entries_past_the_matched_ones() {
    // The follower holds stale entries 2 and 3 of term 1; the leader of term 2 sends only
    // entry 1 (which matches) with its commit index 3, covering its own entries 2 and 3.
    let append = Message::AppendEntries {
        prev_log_index: 0,
        prev_log_term: 0,
        entries: noops(&[1]),
        leader_commit: 3,
        sent_us: 0,
    };
    for (bug, commit) in [(None, 1), (Some(Bug::CommitBeyondMatch), 3)] {
        let mut node = follower(bug, &[1, 1, 1], 1);
        let outputs = node.step(1, from(1, 2, append.clone()));
        assert_eq!(node.commit(), commit, "{bug:?}");
        assert_eq!(outputs.committed.len() as u64, commit);
    }
}

#[test]
fn commit_previous_term_commits_an_old_entry_by_counting_replicas() {
    // Node 2 leads term 3 with an entry of term 2 at index 2 that node 3 now holds too:
    // two of three. Its own entry of term 3 (index 3) is on no one else yet.
    for (bug, commit) in [(None, 0), (Some(Bug::CommitPreviousTerm), 2)] {
        let mut node = follower(bug, &[1, 2], 2);
        node.step(1, Input::Campaign);
        node.step(2, from(1, 3, Message::VoteResponse { granted: true }));
        let ack = Message::AppendResponse {
            success: true,
            index: 2,
            conflict_term: None,
            conflict_index: 0,
            sent_us: 0,
        };
        node.step(3, from(3, 3, ack));
        assert_eq!(node.commit(), commit, "{bug:?}");
    }
}
