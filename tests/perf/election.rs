//! The election experiment (section 9.3 and Figure 16 of the Raft paper) on few trials.

use raftlab::cluster::experiment::{self, ElectionSetup, TimeoutRange};

fn setup(trials: u32, seed: u64) -> ElectionSetup {
    ElectionSetup {
        trials,
        seed,
        ..Default::default()
    }
}

fn range(text: &str) -> TimeoutRange {
    TimeoutRange::parse(text).expect("a valid range")
}

#[test]
fn the_same_seed_gives_the_same_trials() {
    let ranges = [range("150-300")];
    let first = experiment::run(&setup(20, 7), &ranges, &mut || {}).unwrap();
    let again = experiment::run(&setup(20, 7), &ranges, &mut || {}).unwrap();
    assert_eq!(first, again);
    let other = experiment::run(&setup(20, 8), &ranges, &mut || {}).unwrap();
    assert_ne!(first[0].times_us, other[0].times_us);
}

#[test]
fn a_ranges_trials_do_not_depend_on_the_other_ranges_run() {
    let alone = experiment::run(&setup(5, 3), &[range("50-100")], &mut || {}).unwrap();
    let ranges = [range("150-300"), range("50-100")];
    let together = experiment::run(&setup(5, 3), &ranges, &mut || {}).unwrap();
    assert_eq!(alone[0], together[1]);
}

/// Section 9.3: the leader crashes within its heartbeat interval (half the minimum
/// timeout), so the downtime is at least half the minimum timeout plus a vote's round
/// trip, and with 150ms of randomness a new leader comes within a few rounds.
#[test]
fn with_randomness_a_leader_is_elected_after_half_the_minimum_timeout() {
    let mut calls = 0;
    let results = experiment::run(&setup(20, 1), &[range("150-300")], &mut || calls += 1);
    let result = &results.unwrap()[0];
    assert_eq!(calls, 20);
    let stats = result.stats();
    assert_eq!((stats.trials, stats.not_converged), (20, 0));
    // Earliest: the heartbeat arrives after one delay, timeout 150ms, crash up to 75ms
    // after the broadcast, then a RequestVote, its answer and the new leader's first
    // heartbeat, at least one delay each.
    let delay_us = ElectionSetup::default().delay_min_us;
    let min_us = stats.min_us.expect("converged");
    assert!(min_us >= 75_000 + 4 * delay_us, "{min_us}us");
    let max_us = stats.max_us.expect("converged");
    assert!(max_us < 2_000_000, "{max_us}us");
    assert!(
        stats
            .median_us
            .is_some_and(|m| (min_us..=max_us).contains(&m))
    );
}

/// Section 9.3: "In the absence of randomness, leader election consistently took longer
/// than 10 seconds in our tests due to many split votes." Here the survivors' timers,
/// reset by one heartbeat, stay closer together than a RequestVote can travel.
#[test]
fn without_randomness_the_votes_split_every_round() {
    let setup = ElectionSetup {
        limit_us: 2_000_000,
        ..setup(30, 1)
    };
    let results = experiment::run(&setup, &[range("150-150")], &mut || {}).unwrap();
    let stats = results[0].stats();
    assert_eq!((stats.trials, stats.not_converged), (3, 3));
    assert!(stats.mean_is_lower_bound);
}

#[test]
fn an_experiment_needs_trials_and_ranges() {
    assert!(experiment::run(&setup(0, 1), &[range("150-300")], &mut || {}).is_err());
    assert!(experiment::run(&setup(1, 1), &[], &mut || {}).is_err());
}

/// Thesis section 9.4: a trial lasts until the other servers received the new leader's
/// first heartbeat, which is after the first candidate stood and the leader was elected.
#[test]
fn a_trial_ends_when_every_survivor_has_the_new_leaders_heartbeat() {
    let setup = setup(1, 1);
    for index in 0..10 {
        let detail = experiment::trial_detail(&setup, range("150-300"), index).unwrap();
        let candidate = detail.first_candidate_us.expect("a timer fired");
        let leader = detail.first_leader_us.expect("a leader was elected");
        let settled = detail.elected_us.expect("the survivors follow it");
        assert!(candidate < leader && leader + setup.delay_min_us <= settled);
        assert!(detail.terms >= 1);
        let trial = experiment::trial(&setup, range("150-300"), index).unwrap();
        assert_eq!(trial, Some(settled));
    }
}
