//! Driving a hosted cluster by hand, as a test, a script or a person would: run it for a
//! while or until something holds, cut and heal links, kill, restart, pause and resume a
//! node, and send one client operation to a chosen node. Every wait is bounded.

use std::time::Duration;

use super::HostError;
use super::clients::{Call, End, Record, kv_op};
use super::protocol::{Body, Message};
use super::run::Host;
use crate::cluster::EventKind;

impl Host {
    /// Whether Ctrl-C was pressed.
    pub fn interrupted(&self) -> bool {
        self.interrupted.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Forgets a Ctrl-C once the command it interrupted has stopped; whether there was one.
    pub fn clear_interrupt(&self) -> bool {
        self.interrupted
            .swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the run has begun: every node answered `init`, or the init timeout passed.
    pub fn begun(&self) -> bool {
        self.end_us != u64::MAX
    }

    /// Runs the loop for `duration` of wall time.
    pub fn run_for(&mut self, duration: Duration) {
        let until_us = self.now_us() + duration.as_micros() as u64;
        while self.now_us() < until_us && !self.interrupted() {
            if !self.turn(until_us) {
                return;
            }
        }
    }

    /// Runs the loop until `holds` or `within` passes; whether it held.
    pub fn run_until(&mut self, within: Duration, holds: impl Fn(&Host) -> bool) -> bool {
        let until_us = self.now_us() + within.as_micros() as u64;
        while self.now_us() < until_us && !self.interrupted() {
            if holds(self) {
                return true;
            }
            if !self.turn(until_us.min(self.now_us() + 10_000)) {
                break;
            }
        }
        holds(self)
    }

    /// Splits the nodes (indices from 0) into groups that cannot reach each other.
    pub fn partition(&mut self, groups: &[Vec<usize>]) {
        let all: Vec<u64> = (1..=self.slots.len() as u64).collect();
        let groups = groups
            .iter()
            .map(|g| g.iter().map(|&n| n as u64 + 1).collect())
            .collect();
        self.net.partition(&all, groups);
    }

    /// Cuts the link from `from` to `to` (one way), or restores it.
    pub fn set_link(&mut self, from: usize, to: usize, connected: bool) {
        let (a, b) = (from as u64 + 1, to as u64 + 1);
        if connected {
            self.net.link(a, b);
        } else {
            self.net.cut(a, b);
        }
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        self.net.heal();
    }

    /// Kills node `node` (SIGKILL); its messages in flight are lost.
    pub fn kill(&mut self, node: usize) {
        // What its state line said died with it.
        self.slots[node].state = None;
        if self.slots[node].child.take().is_some() {
            self.note(Some(node), "killed (SIGKILL)".to_string());
        }
        for event in self.net.drop_node_traffic(node as u64 + 1) {
            if matches!(event, EventKind::Dropped { .. }) {
                self.net_dropped += 1;
            }
        }
    }

    /// Starts node `node` again as a fresh process and sends it `init`.
    pub fn restart(&mut self, node: usize) -> Result<(), HostError> {
        self.kill(node);
        self.note(Some(node), "restarted as a fresh process".to_string());
        self.start_node(node)
    }

    /// The messages between nodes in flight, in delivery order: (id, from, to, message),
    /// nodes numbered from 0.
    pub fn in_flight(&self) -> Vec<(u64, usize, usize, Message)> {
        self.net
            .in_flight()
            .into_iter()
            .filter_map(|f| {
                let message = self.side.get(&f.id)?.clone();
                let (from, to) = (f.envelope.from as usize - 1, f.envelope.to as usize - 1);
                Some((f.id, from, to, message))
            })
            .collect()
    }

    /// The messages between nodes in flight, with when each was sent and is due.
    pub fn in_flight_timed(&self) -> Vec<(u64, usize, usize, Message, u64, u64)> {
        self.net
            .in_flight()
            .into_iter()
            .filter_map(|f| {
                let message = self.side.get(&f.id)?.clone();
                let (from, to) = (f.envelope.from as usize - 1, f.envelope.to as usize - 1);
                Some((f.id, from, to, message, f.sent_us, f.deliver_us))
            })
            .collect()
    }

    /// Delivers the first message in flight now, ahead of its time; its id, if any.
    pub fn step_one(&mut self) -> Option<u64> {
        let id = self.net.in_flight().first()?.id;
        self.deliver_now(id);
        Some(id)
    }

    /// Takes message `id` off the wire unseen; false when there is no such message.
    pub fn drop_message(&mut self, id: u64) -> bool {
        let found = self.net.take(id).is_some();
        self.side.remove(&id);
        if found {
            self.net_dropped += 1;
        }
        found
    }

    /// Stops (SIGSTOP) or continues (SIGCONT) node `node`'s process.
    pub fn pause(&mut self, node: usize, stop: bool) {
        if let Some(child) = &self.slots[node].child {
            child.signal(stop);
        }
        self.slots[node].paused = stop;
        let what = if stop {
            "stopped (SIGSTOP)"
        } else {
            "continued (SIGCONT)"
        };
        self.note(Some(node), what.to_string());
    }

    /// Client `client` (from 0) sends `body` to node `node` and waits up to `within` for
    /// the end; the operation is recorded in the history. Error 11 ends it as failed.
    pub fn call(&mut self, client: usize, node: usize, body: Body, within: Duration) -> End {
        self.call_from(client, node, body, within, true)
    }

    /// As [`Host::call`], but on error 11 the client tries the next node, as the workload's
    /// clients do, until `within` passes.
    pub fn call_any(&mut self, client: usize, node: usize, body: Body, within: Duration) -> End {
        self.call_from(client, node, body, within, false)
    }

    fn call_from(
        &mut self,
        client: usize,
        node: usize,
        body: Body,
        within: Duration,
        pinned: bool,
    ) -> End {
        let now_us = self.now_us();
        self.records.push(Record {
            client: client + 1,
            request: serde_json::to_value(&body).unwrap_or_default(),
            op: kv_op(&body),
            invoke_us: now_us,
            end: None,
            attempts: 0,
        });
        let record = self.records.len() - 1;
        self.clients[client].call = Some(Call {
            record,
            body,
            msg_id: 0,
            deadline_us: now_us + within.as_micros() as u64,
            retry_at_us: None,
            refusals: 0,
            pinned,
            reached: false,
        });
        self.clients[client].home = node;
        self.clients[client].node = node;
        self.attempt(client);
        self.run_until(within, |host| host.records[record].end.is_some());
        if self.records[record].end.is_none() {
            let end = self.clients[client].call.as_ref().map(Call::end_unanswered);
            self.end_call(client, end.unwrap_or(End::NotSent), self.now_us());
        }
        match &self.records[record].end {
            Some((end, _)) => end.clone(),
            None => End::Unknown("no answer in time".to_string()),
        }
    }
}
