//! `timers` (when each node's timer fires next) and the followers' progress of `status -v`.

use std::fmt::Write as _;

use crate::cluster::ClusterView;
use crate::cluster::view::TimerKind;
use crate::repl::words::fmt_ms;

/// One line per node: which timer it waits on, when it fires, and how much is left.
pub fn timers(view: &ClusterView) -> String {
    let mut out = format!("t={}\n", fmt_ms(view.now_us));
    for node in &view.nodes {
        let id = node.id;
        let Some(timer) = node.timer else {
            let _ = writeln!(out, "n{id:<4} down");
            continue;
        };
        let what = match timer.kind {
            TimerKind::Election => "election timeout",
            TimerKind::Heartbeat => "heartbeat",
        };
        let left = timer.deadline_us.saturating_sub(view.now_us);
        let share = (timer.remaining(view.now_us) * 100.0).round();
        let _ = writeln!(
            out,
            "n{id:<4} {what:<16} at {:>10}  in {:>9}  ({share:.0}% left)",
            fmt_ms(timer.deadline_us),
            fmt_ms(left),
        );
    }
    out
}

/// `status -v`: the leader's `nextIndex` and `matchIndex` for each follower, one a line.
pub fn followers(status: &crate::cluster::ClusterView) -> String {
    let Some(leader) = status
        .leader
        .and_then(|l| status.nodes.iter().find(|n| n.id == l))
    else {
        return "no leader: no follower progress\n".to_string();
    };
    let mut out = format!(
        "n{} (leader, term {}): follower  next  match\n",
        leader.id, leader.term
    );
    for f in &leader.progress {
        let _ = writeln!(
            out,
            "{:>28}n{:<4} {:>5}  {:>5}",
            "", f.node, f.next_index, f.match_index
        );
    }
    out
}
