//! The nemesis of `raftlab host`: the random faults (`--nemesis`), each begun and ended
//! at its interval, and told in the story.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::{Active, Fault, Host};
use crate::cluster::EventKind;
use crate::host::tell;

impl Host {
    pub(super) fn run_nemesis(&mut self, now_us: u64) {
        if now_us < self.next_fault_us || self.end_us == u64::MAX {
            return;
        }
        self.next_fault_us = now_us + self.args.interval;
        if let Some(active) = self.active.take() {
            return self.end_fault(active, now_us);
        }
        let Some(&fault) = self.args.nemesis.choose(&mut self.rng) else {
            self.next_fault_us = u64::MAX;
            return;
        };
        let node = self.rng.random_range(0..self.slots.len());
        let name = self.slots[node].name.clone();
        let (active, text) = match fault {
            Fault::Partition => {
                let groups = self.split();
                (
                    Active::Partition(groups.clone()),
                    format!("partition {groups}"),
                )
            }
            Fault::IsolateLeader => {
                let leader = self.reported_leader().unwrap_or(node);
                let rest: Vec<u64> = (1..=self.slots.len() as u64)
                    .filter(|&n| n != leader as u64 + 1)
                    .collect();
                let all: Vec<u64> = (1..=self.slots.len() as u64).collect();
                self.net
                    .partition(&all, vec![vec![leader as u64 + 1], rest]);
                let name = &self.slots[leader].name;
                (
                    Active::Partition(format!("{name} | the rest")),
                    format!("isolate {name}"),
                )
            }
            Fault::Kill => {
                self.slots[node].child = None;
                for event in self.net.drop_node_traffic(node as u64 + 1) {
                    if matches!(event, EventKind::Dropped { .. }) {
                        self.net_dropped += 1;
                    }
                }
                (Active::Kill(node), format!("kill {name}"))
            }
            Fault::Pause => {
                if let Some(child) = &self.slots[node].child {
                    child.signal(true);
                }
                self.slots[node].paused = true;
                (Active::Pause(node), format!("pause {name}"))
            }
        };
        self.note_fault(now_us, text);
        self.active = Some(active);
    }

    /// Splits the nodes at random into two groups; returns them in words.
    fn split(&mut self) -> String {
        let mut ids: Vec<u64> = (1..=self.slots.len() as u64).collect();
        ids.shuffle(&mut self.rng);
        let cut = self.rng.random_range(1..ids.len().max(2));
        let (a, b) = ids.split_at(cut.min(ids.len()));
        let (mut a, mut b) = (a.to_vec(), b.to_vec());
        a.sort_unstable();
        b.sort_unstable();
        let all: Vec<u64> = (1..=self.slots.len() as u64).collect();
        self.net.partition(&all, vec![a.clone(), b.clone()]);
        let words = |g: &[u64]| {
            g.iter()
                .map(|n| format!("n{n}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!("{} | {}", words(&a), words(&b))
    }

    fn end_fault(&mut self, active: Active, now_us: u64) {
        let text = match active {
            Active::Partition(groups) => {
                self.net.heal();
                format!("heal {groups}")
            }
            Active::Kill(node) => {
                let name = self.slots[node].name.clone();
                if let Err(error) = self.start_node(node) {
                    self.problem("restart failed", error.to_string());
                }
                format!("restart {name} (a fresh process)")
            }
            Active::Pause(node) => {
                if let Some(child) = &self.slots[node].child {
                    child.signal(false);
                }
                self.slots[node].paused = false;
                format!("resume {}", self.slots[node].name)
            }
        };
        self.note_fault(now_us, text);
    }

    fn note_fault(&mut self, now_us: u64, text: String) {
        let at = now_us as f64 / 1e6;
        if !self.quiet {
            tell(format_args!("host {at:8.3}s  nemesis: {text}"));
        }
        self.note(None, format!("nemesis: {text}"));
        self.faults.push(text);
    }
}
