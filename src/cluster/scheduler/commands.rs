//! What a user (or a check, or a model checker's counterexample) does to the cluster, as
//! the scheduler carries it out: nodes killed, restarted and crashed; links cut and
//! restored; one message delivered, dropped or duplicated by hand; a timer fired; a
//! control handed to one node (campaign, snapshot, transfer); members added and removed.
//! Each changes the [`World`](super::World), tells the checker, and emits its events, in
//! that order.

use crate::raft::{NodeId, RaftEvent, Term};

use super::super::event::{Crash, DropReason, EventKind, MsgId, MsgInfo, NetworkChange};
use super::super::node::NodeInput;
use super::super::world::stop_thread;
use super::super::{ClusterError, NetworkConfig};
use super::{Scheduler, StepReport};

impl Scheduler {
    // ---- nodes up and down ----------------------------------------------------------

    /// Builds node `id` from its durable storage and starts it.
    pub(super) fn launch(&mut self, id: NodeId) -> Result<(), ClusterError> {
        let now_us = self.now_us;
        let (timer_us, view) = self.world.launch(id, now_us, self.reports_tx.clone())?;
        self.observers.checker_mut().node_up(now_us, id, &view);
        self.timers.insert(timer_us, id);
        Ok(())
    }

    /// Ends node `id`'s thread; its volatile state is lost, its storage kept.
    pub fn kill(&mut self, id: NodeId) -> Result<(), ClusterError> {
        self.finish_busy();
        let slot = self.world.slot_mut(id)?;
        let running = slot.running.take().ok_or(ClusterError::NodeIsDown(id))?;
        self.timers.remove(running.timer_us, id);
        stop_thread(running);
        self.observers.checker_mut().node_down(id);
        let drops = self.world.network_mut().drop_node_traffic(id);
        self.emit(EventKind::NodeKilled { node: id });
        for kind in drops {
            self.emit(kind);
        }
        Ok(())
    }

    /// Rebuilds node `id` from its durable storage.
    pub fn restart(&mut self, id: NodeId) -> Result<(), ClusterError> {
        self.finish_busy();
        if self.world.slot(id)?.running.is_some() {
            return Err(ClusterError::NodeIsUp(id));
        }
        self.launch(id)?;
        self.emit(EventKind::NodeRestarted { node: id });
        self.publish_violations();
        Ok(())
    }

    /// Records that node `id` crashed: its thread is gone or hung.
    pub(super) fn mark_crashed(&mut self, id: NodeId, crash: Crash) {
        if let Ok(slot) = self.world.slot_mut(id) {
            // A hung thread is left to itself; a panicked one has already ended.
            let running = slot.running.take();
            slot.crashed = Some(crash.clone());
            if let Some(running) = running {
                self.timers.remove(running.timer_us, id);
            }
        }
        self.observers.record_crash(id, &crash);
        self.observers.checker_mut().node_down(id);
        for kind in self.world.network_mut().drop_node_traffic(id) {
            self.emit(kind);
        }
        self.emit(EventKind::NodeCrashed { node: id, crash });
    }

    /// Replaces a down node's durable log with entries of the given terms (to build the
    /// paper's figures). Its term becomes at least the last entry's term.
    pub fn set_log(&mut self, id: NodeId, terms: &[Term]) -> Result<(), ClusterError> {
        let replaced = self.world.set_log(id, terms)?;
        self.observers.checker_mut().log_replaced(id, &replaced);
        Ok(())
    }

    /// Stops every node thread and waits for each to end.
    pub fn shutdown(&mut self) {
        self.finish_busy();
        self.world.stop_all();
        self.timers.clear();
    }

    // ---- the network ----------------------------------------------------------------

    /// Records a change of the network, as an event.
    fn network_changed(&mut self, change: NetworkChange) {
        self.emit(EventKind::NetworkChanged { change });
    }

    /// Splits the cluster into `groups`; nodes named in none form one more group.
    pub fn partition(&mut self, groups: Vec<Vec<NodeId>>) -> Result<(), ClusterError> {
        let change = self.world.partition(groups)?;
        self.network_changed(change);
        Ok(())
    }

    /// Cuts every link to and from `node`, leaving the other links as they are: isolating
    /// several nodes one after another leaves them all cut off.
    pub fn isolate(&mut self, node: NodeId) -> Result<(), ClusterError> {
        let change = self.world.isolate(node)?;
        self.network_changed(change);
        Ok(())
    }

    /// Cuts (`up` false) or restores the link from `a` to `b`, and from `b` to `a` unless
    /// `one_way`.
    pub fn set_link(
        &mut self,
        a: NodeId,
        b: NodeId,
        one_way: bool,
        up: bool,
    ) -> Result<(), ClusterError> {
        let change = self.world.set_link(a, b, one_way, up)?;
        self.network_changed(change);
        Ok(())
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        let change = self.world.heal();
        self.network_changed(change);
    }

    /// Changes the network's faults (loss, delay, duplication, reordering).
    pub fn set_network(&mut self, config: NetworkConfig) -> Result<(), ClusterError> {
        let change = self.world.set_network(config)?;
        self.network_changed(change);
        Ok(())
    }

    // ---- one message by hand --------------------------------------------------------

    /// Delivers message `id` now, whatever its due time (`deliver MSG`).
    pub fn deliver(&mut self, id: MsgId) -> Result<StepReport, ClusterError> {
        let message = self
            .world
            .network_mut()
            .take(id)
            .ok_or(ClusterError::NoSuchMessage(id))?;
        self.observers.clear_step_events();
        let envelope = message.envelope;
        let info = MsgInfo::of(&envelope);
        let to = envelope.to;
        if !self.world.is_up(to) {
            self.emit(EventKind::Dropped {
                id,
                info,
                reason: DropReason::NodeDown,
            });
            return Ok(self.step_report(None, None));
        }
        self.emit(EventKind::Delivered { id, info });
        self.hand_off(to, vec![NodeInput::Deliver(envelope)])
    }

    /// Drops message `id` (`drop MSG`).
    pub fn drop_message(&mut self, id: MsgId) -> Result<(), ClusterError> {
        let message = self
            .world
            .network_mut()
            .take(id)
            .ok_or(ClusterError::NoSuchMessage(id))?;
        let info = MsgInfo::of(&message.envelope);
        self.emit(EventKind::Dropped {
            id,
            info,
            reason: DropReason::User,
        });
        Ok(())
    }

    /// Puts a second copy of message `id` on the wire (`dup MSG`). Returns the copy's id.
    pub fn duplicate(&mut self, id: MsgId) -> Result<MsgId, ClusterError> {
        let copy = self
            .world
            .network_mut()
            .duplicate(id)
            .ok_or(ClusterError::NoSuchMessage(id))?;
        self.emit(EventKind::Duplicated { id, copy });
        Ok(copy)
    }

    // ---- one node, by hand ----------------------------------------------------------

    /// Fires `node`'s timer now (`tick NODE`): the clock moves on to the timer's deadline
    /// if that is later, and the node alone is handed its tick, whatever else is due. A
    /// leader sends heartbeats; a follower or candidate starts an election. A model
    /// checker's counterexample, in which a timer firing is an action, replays with it.
    pub fn fire_timer(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        self.world.check_up(node)?;
        let due_us = self.world.timer_of(node).map_or(0, |(due_us, _)| due_us);
        self.now_us = self.now_us.max(due_us);
        self.observers.clear_step_events();
        self.emit(EventKind::Timer { node });
        self.hand_off(node, vec![NodeInput::Tick])
    }

    /// Makes `node`'s thread panic with `message`: a fault to show (and test) that a
    /// crashing node is contained and reported.
    pub fn inject_panic(&mut self, node: NodeId, message: String) -> Result<(), ClusterError> {
        self.control(node, NodeInput::Panic(message)).map(|_| ())
    }

    /// Makes `node` take a snapshot of its state machine now and compact its log.
    pub fn snapshot(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        self.control(node, NodeInput::Snapshot)
    }

    /// Makes `node` start an election now.
    pub fn campaign(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        self.control(node, NodeInput::Campaign)
    }

    /// Hands `node`, which must be up, one control input now.
    fn control(&mut self, node: NodeId, input: NodeInput) -> Result<StepReport, ClusterError> {
        self.world.check_up(node)?;
        self.observers.clear_step_events();
        self.hand_off(node, vec![input])
    }

    /// Makes the leader hand its leadership to `target`. A target that is down fails at
    /// once; one that does not catch up or take over within an election timeout makes the
    /// leader give up, with a `TransferFailed` event.
    pub fn transfer(&mut self, target: NodeId) -> Result<StepReport, ClusterError> {
        self.world.check_node(target)?;
        if !self.world.is_up(target) {
            return Err(ClusterError::NodeIsDown(target));
        }
        let leader = self.world.leader().ok_or(ClusterError::NoLeader)?;
        if leader == target {
            return Err(ClusterError::AlreadyLeads(target));
        }
        self.observers.clear_step_events();
        self.hand_off(leader, vec![NodeInput::TransferLeader(target)])
    }

    // ---- membership -----------------------------------------------------------------

    /// Asks the leader to add `node`, first starting it, with empty storage, if the
    /// cluster does not host it yet. It joins as a learner and is promoted once caught up.
    pub fn add(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        if node == 0 {
            return Err(self.world.no_such_node(node));
        }
        if node > super::super::config::MAX_NODES {
            let nodes = super::super::describe_node_ids(&self.world.hosted());
            return Err(ClusterError::NodeIdTooLarge { node, nodes });
        }
        let leader = self.world.leader().ok_or(ClusterError::NoLeader)?;
        let new = self.world.add_slot(node);
        if new && let Err(error) = self.launch(node) {
            self.unhost(node);
            return Err(error);
        }
        self.observers.clear_step_events();
        let report = self.hand_off(leader, vec![NodeInput::AddNode(node)])?;
        let refused = report.events.iter().any(|event| {
            matches!(
                event.kind,
                EventKind::Raft {
                    event: RaftEvent::ChangeRefused { .. },
                    ..
                }
            )
        });
        if new && refused {
            // A refused command changes nothing: the node started for it goes again.
            self.unhost(node);
        }
        Ok(report)
    }

    /// Stops and forgets a node that was started for an `add` the leader refused. No time
    /// has passed since it started, so it has sent nothing and nobody knows of it.
    fn unhost(&mut self, node: NodeId) {
        if self.world.slot(node).is_err() {
            return;
        }
        // The network's receivers are checked again: this one is no longer hosted.
        self.receivers_hosted = 0;
        if let Some(running) = self.world.remove_slot(node) {
            self.timers.remove(running.timer_us, node);
            stop_thread(running);
        }
        let _ = self.world.network_mut().drop_node_traffic(node);
        self.observers.checker_mut().forget(node);
    }

    /// Asks the leader to remove `node` from the cluster. The node keeps running (`stop`
    /// it once the change committed); a removed leader steps down once it commits.
    pub fn remove(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        self.world.check_node(node)?;
        let leader = self.world.leader().ok_or(ClusterError::NoLeader)?;
        self.observers.clear_step_events();
        self.hand_off(leader, vec![NodeInput::RemoveNode(node)])
    }
}
