//! The observers: everyone who watches the cluster run and records what happened, without
//! changing what happens.
//!
//! [`Observers`] holds the event log (the latest events, for `events` and the views), the
//! subscribers that see each event as it is emitted (the trace, the live view), the
//! events of the current hand-off (for a `step` report), the [`Checker`] with its safety
//! violations, the storm watch (the network's load and the events of each second of
//! cluster time, see [`super::storm`]) and the list of node crashes. The clients' history
//! of operations is kept with the clients, in the scheduler's client table.
//!
//! Every event passes through [`Observers::emit`], in the order the scheduler makes
//! things happen; nothing here draws a random number or moves the clock.

use crossbeam_channel::{Receiver, Sender};

use crate::raft::NodeId;

use super::checker::{Checker, Violation};
use super::event::{ClusterEvent, Crash, EventKind};
use super::network::Network;
use super::storm::{self, StormLimits};
use ring::Ring;

/// How many events the observers keep for `events`, unless told otherwise
/// ([`Observers::keep_events`]).
const EVENT_LOG_CAPACITY: usize = 100_000;
/// How many crashes the observers remember for [`Observers::crash_log`].
pub const CRASHES_KEPT: usize = 100;

/// Which events the event log keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogScope {
    /// Every event: always, but in a bench.
    #[default]
    Every,
    /// Only the messages sent ([`EventKind::Sent`]): all a bench reads back.
    MessagesSent,
    /// None: a `check` run reads no event back (its verdict comes from the checker, the
    /// clients' history and the cluster itself), so it keeps none.
    Nothing,
}

impl LogScope {
    fn keeps(self, kind: &EventKind) -> bool {
        match self {
            LogScope::Every => true,
            LogScope::MessagesSent => matches!(kind, EventKind::Sent { .. }),
            LogScope::Nothing => false,
        }
    }

    /// Whether it keeps the events other than messages sent (a client's, a delivery, a
    /// timer, a Raft event).
    fn keeps_unsent_events(self) -> bool {
        match self {
            LogScope::Every => true,
            LogScope::MessagesSent | LogScope::Nothing => false,
        }
    }
}

/// The events kept for `events`, and the subscribers that see each one as it happens.
struct EventLog {
    recent: Ring,
    /// How many events were logged (kept in `recent` at the time): every event unless
    /// `scope` leaves some out.
    logged: u64,
    /// Which events are logged.
    scope: LogScope,
    subscribers: Vec<Sender<ClusterEvent>>,
}

impl EventLog {
    /// Sends a copy of the event to every subscriber and keeps it (built in place: an
    /// event is large, and most runs have no subscriber) unless out of the log's scope.
    /// Returns the event, kept or not, for the step report.
    fn push(&mut self, time_us: u64, kind: EventKind) -> Option<ClusterEvent> {
        if !self.scope.keeps(&kind) {
            let event = ClusterEvent { time_us, kind };
            send(&mut self.subscribers, &event);
            return Some(event);
        }
        self.logged += 1;
        let event = self.recent.push(time_us, kind);
        send(&mut self.subscribers, event);
        None
    }
}

/// Sends a copy of `event` to every subscriber, and lets go of those that hung up.
fn send(subscribers: &mut Vec<Sender<ClusterEvent>>, event: &ClusterEvent) {
    if !subscribers.is_empty() {
        subscribers.retain(|s| s.send(event.clone()).is_ok());
    }
}

/// What is recorded of a run: events, violations, load, crashes.
pub struct Observers {
    log: EventLog,
    /// How many events the cluster has emitted.
    events: u64,
    /// Events since the last hand-off began, for `step` reports.
    step_events: Vec<ClusterEvent>,
    /// Whether hand-offs report what they did (`step`, `deliver`, ...). A run of many
    /// hand-offs (`run`, waits) does not: it skips the copies a report needs.
    reporting: bool,
    checker: Checker,
    /// The bounds on the network's load ([`super::storm`]).
    storm_limits: StormLimits,
    /// The second of cluster time being counted, and its events so far.
    rate: (u64, u64),
    /// The most events of one second of cluster time before the current one (see
    /// [`Observers::peak_events_per_second`], which counts the current one too).
    peak_rate: u64,
    /// Whether a storm was reported (once per run).
    storm_reported: bool,
    /// Every crash of the run, in order (the first [`CRASHES_KEPT`]).
    crash_log: Vec<(NodeId, Crash)>,
}

impl Observers {
    /// Observers of a cluster whose initial voters are `voters`.
    pub(super) fn new(voters: &[NodeId], storm_limits: StormLimits) -> Observers {
        Observers {
            log: EventLog {
                recent: Ring::with_capacity(EVENT_LOG_CAPACITY),
                logged: 0,
                scope: LogScope::Every,
                subscribers: Vec::new(),
            },
            events: 0,
            step_events: Vec::new(),
            reporting: true,
            checker: Checker::with_voters(voters),
            storm_limits,
            rate: (0, 0),
            peak_rate: 0,
            storm_reported: false,
            crash_log: Vec::new(),
        }
    }

    /// Keeps only the latest `count` events (at least one) from now on, for a run whose
    /// events nobody looks back on far (a bench reads each one as it goes): a smaller log
    /// keeps the memory the events pass through warm, and lets go of each event's shared
    /// parts while they are still in the cache.
    pub(super) fn keep_events(&mut self, count: usize) {
        self.log.recent.set_capacity(count);
    }

    /// Keeps in the event log only the events in `scope` from now on (by default every
    /// event): for a run that reads only some kinds back (a bench counts the messages
    /// sent), so that the others need not pass through the log. Every event is still
    /// counted ([`Observers::events_emitted`]), sent to every subscriber and, while
    /// reporting, put in the step report; only [`Observers::events_since`] and
    /// [`Observers::recent_events`] see fewer.
    pub fn log_only(&mut self, scope: LogScope) {
        self.log.scope = scope;
    }

    /// Whether an event other than a message sent (a client's, a delivery, a timer, a Raft
    /// event) would be seen: logged, sent to a subscriber or put in a step report. If not,
    /// [`Observers::count`] may stand for [`Observers::emit`], and the event need
    /// not be built.
    pub(super) fn sees_unsent_events(&self) -> bool {
        self.log.scope.keeps_unsent_events() || self.watched()
    }

    /// Whether every event is seen whatever the log keeps: put in step reports, or sent
    /// to a subscriber.
    fn watched(&self) -> bool {
        self.reporting || !self.log.subscribers.is_empty()
    }

    /// Counts an event at `now_us`, in all and in its second of cluster time: all
    /// [`Observers::emit`] does with an event nobody would see (see
    /// [`Observers::sees_unsent_events`]), which then need not be built.
    pub(super) fn count(&mut self, now_us: u64) {
        self.events += 1;
        let second = now_us / 1_000_000;
        if self.rate.0 != second {
            self.peak_rate = self.peak_rate.max(self.rate.1);
            self.rate = (second, 0);
        }
        self.rate.1 += 1;
    }

    /// Emits an event other than a message sent, built only if someone would see it
    /// ([`Observers::sees_unsent_events`]); otherwise only counts it, as emitting it would.
    /// Inlined, as [`Observers::emit_inline`]: a delivery and a Raft event come through here.
    #[inline(always)]
    pub(super) fn emit_unsent(&mut self, now_us: u64, event: impl FnOnce() -> EventKind) {
        if self.sees_unsent_events() {
            self.emit_inline(now_us, event());
        } else {
            self.count(now_us);
        }
    }

    /// Records an event at `now_us`: counted, kept (if in the log's scope, see
    /// [`Observers::log_only`]), sent to every subscriber.
    pub(super) fn emit(&mut self, now_us: u64, kind: EventKind) {
        self.emit_inline(now_us, kind);
    }

    /// [`Observers::emit`], inlined into the callers that emit an event for each message
    /// sent or delivered, so that the event is built in its place in the log.
    #[inline(always)]
    pub(super) fn emit_inline(&mut self, now_us: u64, kind: EventKind) {
        self.count(now_us);
        if !self.watched() {
            // The usual case (a run, a bench): no subscriber and no step report, so the
            // log is the only one who might see it.
            if self.log.scope.keeps(&kind) {
                self.log.logged += 1;
                self.log.recent.push(now_us, kind);
            }
            return;
        }
        self.emit_watched(now_us, kind);
    }

    /// [`Observers::emit`] of an event someone watches: logged (if in scope), sent to
    /// every subscriber, and put in the step report when hand-offs are reported.
    fn emit_watched(&mut self, now_us: u64, kind: EventKind) {
        match self.log.push(now_us, kind) {
            Some(unlogged) if self.reporting => self.step_events.push(unlogged),
            Some(_) => {}
            None if self.reporting => {
                let event = self.log.recent.back().expect("just logged");
                self.step_events.push(event.clone());
            }
            None => {}
        }
    }

    /// Emits the violations the checker found since the last call.
    pub(super) fn publish_violations(&mut self, now_us: u64) {
        if !self.checker.has_new() {
            return;
        }
        for violation in self.checker.take_new() {
            self.emit(now_us, EventKind::Violation(Box::new(violation)));
        }
    }

    /// Reports a message storm to the checker, once: the network past a bound of messages
    /// in flight, or too many events in one second of cluster time.
    pub(super) fn watch_storm(&mut self, now_us: u64, network: &mut Network) {
        if self.storm_reported {
            return;
        }
        let found = network.take_storm().or_else(|| {
            let (second, events) = self.rate;
            (events > self.storm_limits.events_per_second).then(|| {
                let load = storm::Load::EventsInSecond { events, second };
                let messages = network.in_flight().into_iter();
                storm::summarise(load, messages.map(|m| storm::kind_and_link(&m)))
            })
        });
        if let Some((detail, nodes)) = found
            && !self.storm_reported
        {
            self.storm_reported = true;
            self.checker.report_storm(now_us, nodes, detail);
            self.publish_violations(now_us);
        }
    }

    pub(super) fn set_storm_limits(&mut self, limits: StormLimits) {
        self.storm_limits = limits;
    }

    /// Remembers a node's crash (the first [`CRASHES_KEPT`]).
    pub(super) fn record_crash(&mut self, node: NodeId, crash: &Crash) {
        if self.crash_log.len() < CRASHES_KEPT {
            self.crash_log.push((node, crash.clone()));
        }
    }

    /// Turns step reports on or off; returns whether they were on.
    pub(super) fn set_reporting(&mut self, on: bool) -> bool {
        std::mem::replace(&mut self.reporting, on)
    }

    /// Whether hand-offs build step reports.
    pub(super) fn reporting(&self) -> bool {
        self.reporting
    }

    /// Forgets the events of the hand-off before: a new one begins.
    pub(super) fn clear_step_events(&mut self) {
        self.step_events.clear();
    }

    /// Takes the events of the current hand-off, for its report.
    pub(super) fn take_step_events(&mut self) -> Vec<ClusterEvent> {
        std::mem::take(&mut self.step_events)
    }

    pub(super) fn checker_mut(&mut self) -> &mut Checker {
        &mut self.checker
    }

    /// The checker, with every violation found so far.
    pub fn checker(&self) -> &Checker {
        &self.checker
    }

    /// Every violation kept so far (see [`Checker::violations`]).
    pub fn violations(&self) -> &[Violation] {
        self.checker.violations()
    }

    /// Every node crash of the run so far, in order, with its message (a restarted node's
    /// too): the first hundred (`CRASHES_KEPT`).
    pub fn crash_log(&self) -> &[(NodeId, Crash)] {
        &self.crash_log
    }

    /// The most events the cluster emitted in one second of cluster time so far.
    pub fn peak_events_per_second(&self) -> u64 {
        self.peak_rate.max(self.rate.1)
    }

    /// How many events the cluster has emitted since it started.
    pub fn events_emitted(&self) -> u64 {
        self.events
    }

    /// How many events the event log took in since the cluster started: every event
    /// emitted ([`Observers::events_emitted`]) unless its scope is narrower
    /// ([`Observers::log_only`]). [`Observers::events_since`] counts in these.
    pub fn events_logged(&self) -> u64 {
        self.log.logged
    }

    /// The events logged after the first `seen` ([`Observers::events_logged`]: by
    /// default, those emitted), oldest first, without copying them: for a caller inside the
    /// driver that reads every event as it goes (a closed-loop load), where a
    /// subscription would copy each one through a channel. Events older than the event
    /// log keeps are gone; the count of those missed comes first.
    pub fn events_since(&self, seen: u64) -> (u64, impl Iterator<Item = &ClusterEvent>) {
        let kept_from = self.log.logged - self.log.recent.len() as u64;
        let missed = kept_from.saturating_sub(seen);
        let skip = seen.saturating_sub(kept_from) as usize;
        (missed, self.log.recent.iter_from(skip))
    }

    /// The last `count` events, oldest first.
    pub fn recent_events(&self, count: usize) -> Vec<ClusterEvent> {
        let skip = self.log.recent.len().saturating_sub(count);
        self.log.recent.iter_from(skip).cloned().collect()
    }

    /// A channel that receives every event from now on.
    pub fn subscribe(&mut self) -> Receiver<ClusterEvent> {
        let (tx, rx) = crossbeam_channel::unbounded();
        self.log.subscribers.push(tx);
        rx
    }

    /// Hands these subscribers over, so that a cluster rebuilt in this one's place
    /// (`back`) goes on feeding the same channels.
    pub fn take_subscribers(&mut self) -> Vec<Sender<ClusterEvent>> {
        std::mem::take(&mut self.log.subscribers)
    }

    /// Takes over subscribers from a cluster this one replaces.
    pub fn add_subscribers(&mut self, subscribers: Vec<Sender<ClusterEvent>>) {
        self.log.subscribers.extend(subscribers);
    }
}

mod ring;

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(observers: &mut Observers, time_us: u64) {
        observers.emit(time_us, EventKind::Timer { node: 1 });
    }

    fn sent(observers: &mut Observers, time_us: u64) {
        let message = super::super::event::HostedMsg {
            from: 1,
            to: 2,
            term: 1,
            kind: "ping".into(),
            fields: Vec::new(),
        };
        let info = super::super::event::MsgInfo::Hosted(std::sync::Arc::new(message));
        let kind = EventKind::Sent {
            id: time_us,
            info,
            deliver_us: time_us,
        };
        observers.emit(time_us, kind);
    }

    #[test]
    fn the_peak_rate_is_the_busiest_second_so_far_the_current_one_included() {
        let mut observers = Observers::new(&[1, 2, 3], StormLimits::for_nodes(3));
        observers.set_reporting(false);
        assert_eq!(observers.peak_events_per_second(), 0);
        for time_us in [0, 10, 20, 1_000_000] {
            timer(&mut observers, time_us);
        }
        assert_eq!(observers.peak_events_per_second(), 3);
        for time_us in [1_000_001, 1_000_002, 1_999_999] {
            timer(&mut observers, time_us);
        }
        assert_eq!(observers.peak_events_per_second(), 4);
        observers.count(5_000_000);
        assert_eq!(observers.peak_events_per_second(), 4);
        assert_eq!(observers.events_emitted(), 8);
    }

    #[test]
    fn a_log_of_nothing_keeps_no_event_but_counts_each_and_still_reports() {
        let mut observers = Observers::new(&[1, 2, 3], StormLimits::for_nodes(3));
        observers.log_only(LogScope::Nothing);
        observers.set_reporting(false);
        assert!(!observers.sees_unsent_events());
        timer(&mut observers, 0);
        sent(&mut observers, 1);
        assert_eq!(observers.events_emitted(), 2, "every event is counted");
        assert_eq!(observers.events_logged(), 0, "none is kept");
        assert!(observers.recent_events(10).is_empty());
        observers.set_reporting(true);
        assert!(observers.sees_unsent_events(), "a step report sees them");
        timer(&mut observers, 2);
        let reported: Vec<u64> = (observers.take_step_events().iter())
            .map(|e| e.time_us)
            .collect();
        assert_eq!(reported, [2]);
        assert_eq!(observers.events_logged(), 0);
    }

    #[test]
    fn a_log_of_sent_messages_only_still_counts_reports_and_sends_every_event() {
        let mut observers = Observers::new(&[1, 2, 3], StormLimits::for_nodes(3));
        assert!(observers.sees_unsent_events());
        observers.log_only(LogScope::MessagesSent);
        assert!(observers.sees_unsent_events(), "step reports are on");
        observers.set_reporting(false);
        assert!(!observers.sees_unsent_events());
        timer(&mut observers, 0);
        assert_eq!(
            observers.events_emitted(),
            1,
            "counted though nobody sees it"
        );
        assert_eq!(observers.events_logged(), 0);
        let events = observers.subscribe();
        assert!(observers.sees_unsent_events(), "a subscriber sees them");
        observers.clear_step_events();
        observers.set_reporting(true);
        timer(&mut observers, 1);
        sent(&mut observers, 2);
        timer(&mut observers, 3);
        observers.count(4);
        sent(&mut observers, 5);
        assert_eq!(observers.events_emitted(), 6);
        assert_eq!(observers.events_logged(), 2);
        let times = |events: &[ClusterEvent]| events.iter().map(|e| e.time_us).collect::<Vec<_>>();
        assert_eq!(times(&observers.recent_events(10)), [2, 5]);
        let (missed, since) = observers.events_since(1);
        assert_eq!(missed, 0);
        assert_eq!(since.map(|e| e.time_us).collect::<Vec<_>>(), [5]);
        assert_eq!(times(&observers.take_step_events()), [1, 2, 3, 5]);
        assert_eq!(times(&events.try_iter().collect::<Vec<_>>()), [1, 2, 3, 5]);
        observers.log_only(LogScope::Every);
        timer(&mut observers, 6);
        assert_eq!(observers.events_logged(), 3);
    }

    #[test]
    fn a_smaller_event_log_keeps_the_latest_and_counts_what_it_let_go() {
        let mut observers = Observers::new(&[1, 2, 3], StormLimits::for_nodes(3));
        for time_us in 0..10 {
            timer(&mut observers, time_us);
        }
        observers.keep_events(4);
        let kept: Vec<u64> = observers
            .recent_events(100)
            .iter()
            .map(|e| e.time_us)
            .collect();
        assert_eq!(kept, [6, 7, 8, 9], "shrinking keeps the latest events");
        for time_us in 10..13 {
            timer(&mut observers, time_us);
        }
        assert_eq!(
            observers.events_emitted(),
            13,
            "every event is still counted"
        );
        let (missed, since) = observers.events_since(5);
        let since: Vec<u64> = since.map(|e| e.time_us).collect();
        assert_eq!(missed, 4, "events 5 to 8 were let go");
        assert_eq!(since, [9, 10, 11, 12]);
        let (missed, since) = observers.events_since(11);
        assert_eq!(missed, 0);
        assert_eq!(since.map(|e| e.time_us).collect::<Vec<_>>(), [11, 12]);
    }
}
