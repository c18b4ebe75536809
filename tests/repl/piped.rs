//! Every command of the language, typed into the binary through a pipe.

use assert_cmd::Command;
use predicates::prelude::*;

/// Runs `lines` through `raftlab --clock virtual` on 5 nodes, seed 3.
fn raftlab(lines: &str) -> assert_cmd::assert::Assert {
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["--clock", "virtual", "--seed", "3"])
        .write_stdin(lines)
        .assert()
}

#[test]
fn look_commands_show_the_cluster() {
    let lines = "wait leader within 2s\nput x 1\nrun 100ms\nstatus\nlog\nlog -v 1\nkv\nkv 2\n\
                 net\nmsgs\nevents 3\ntrace messages\ntrace off\nhelp\nhelp put\n";
    raftlab(lines)
        .success()
        .stdout(predicate::str::contains("node  role       term"))
        .stdout(predicate::str::contains("| = commit point"))
        .stdout(predicate::str::contains("put x 1  (client 1 #1)"))
        .stdout(predicate::str::contains("n2:\n  x = 1"))
        .stdout(predicate::str::contains("from\\to"))
        .stdout(predicate::str::contains("trace messages"))
        .stdout(predicate::str::contains("Commands (help COMMAND for more)"))
        .stdout(predicate::str::contains("usage: put K V [via NODE]"));
}

#[test]
fn time_commands_move_a_paused_clock_exactly() {
    let lines = "pause\nrun 150ms\nstep\ndrop 2\nstep 2\nmsgs\nback 1\nresume\nspeed 0.5\npause\n";
    raftlab(lines)
        .success()
        .stdout(predicate::str::contains("paused at t=0.0ms"))
        .stdout(predicate::str::contains("t=150.0ms"))
        .stdout(predicate::str::contains("182.8ms  n1  timer fired"))
        .stdout(predicate::str::contains(
            "changed: role follower -> candidate",
        ))
        .stdout(predicate::str::contains("#2 dropped"))
        .stdout(
            predicate::str::contains("n1 => n3  RequestVote term=1 last=0@0  #2 delivered").not(),
        )
        .stdout(predicate::str::contains("back to t="))
        .stdout(predicate::str::contains("speed 0.5"));
}

#[test]
fn deliver_hands_one_chosen_message_to_its_receiver() {
    // Seed 3: n1 times out first and sends RequestVote #1..#4; deliver the last one first.
    let lines = "pause\nstep\ndeliver 4\n";
    raftlab(lines)
        .success()
        .stdout(predicate::str::contains("#4 delivered"))
        .stdout(predicate::str::contains("n5  votes for n1 in term 1"));
}

#[test]
fn fault_commands_change_links_and_nodes() {
    let lines = "wait leader\nkill 1\nrestart 1\npartition 1,2 | 3,4,5\nisolate 3\ncut 1 2\n\
                 cut 1 -> 3\nlink 1 2\nlink 1 -> 3\nheal\nnet drop 0.1\nnet delay 2ms..4ms\n\
                 net dup 0.05\nnet reorder on\nnet\n";
    raftlab(lines)
        .success()
        .stdout(predicate::str::contains("n1 killed"))
        .stdout(predicate::str::contains("n1 restarted from durable state"))
        .stdout(predicate::str::contains(
            "cut n1 <-> n3, n4, n5; n2 <-> n3, n4, n5\n\
             network: partitioned: n1, n2 | n3, n4, n5\n",
        ))
        // Each network command says what it changed, and `isolate` keeps earlier cuts.
        .stdout(predicate::str::contains(
            "cut n3 <-> n4, n5\nnetwork: partitioned: n1, n2 | n3 | n4, n5\n",
        ))
        .stdout(predicate::str::contains("cut n1 <-> n2\n"))
        .stdout(predicate::str::contains(
            "no link changed\nnetwork: partitioned: n1 | n2 | n3 | n4, n5\n",
        ))
        .stdout(predicate::str::contains("restored n1 <-> n2\n"))
        .stdout(predicate::str::contains(
            "restored n1 -> n3\nnetwork: 15 of 20 one-way links cut\n",
        ))
        .stdout(predicate::str::contains("network: every link is up\n"))
        .stdout(predicate::str::contains(
            "drop 0.1  dup 0.05  delay 2.0ms..4.0ms  reorder on",
        ));
}

#[test]
fn client_commands_return_results_with_index_and_term() {
    let lines = "wait leader\nput k a\nappend k b\nget k\ncas k ab c\ncas k zz y\nget k\ndel k\n\
                 get k\n";
    // A cas that finds another value is a completed operation, not a failed command.
    raftlab(lines)
        .success()
        .stdout(predicate::str::contains("put k a: ok (index 2@1)"))
        .stdout(predicate::str::contains("get k = ab (index 4@1)"))
        .stdout(predicate::str::contains("cas k zz y: failed, k is c"))
        .stdout(predicate::str::contains("get k: no such key"));
}

#[test]
fn a_client_command_via_a_follower_is_refused() {
    raftlab("wait leader\nwait commit 1\nput x 1 via 2\n")
        .code(1)
        .stdout(predicate::str::contains(
            "refused: n2 is not the leader (leader: n1)",
        ));
}

#[test]
fn raft_commands_campaign_and_set_log() {
    let lines = "pause\ncampaign 2\nkill 4\nset-log 4 1,1,2\nstatus\n";
    raftlab(lines)
        .success()
        .stdout(predicate::str::contains("n2  candidate in term 1"))
        .stdout(predicate::str::contains(
            "n4's durable log set to 3 entries",
        ))
        .stdout(predicate::str::contains(
            "n4    down          2  -     -       3@2",
        ));
}

#[test]
fn set_log_cutting_entries_the_node_held_says_a_leader_will_not_resend_them() {
    // x = 1 is entry 2@1 on every node; the first set-log cuts it, the second cuts
    // nothing (the log is [1] already), the third replaces entry 1 by a term-2 one.
    let lines = "wait leader\nput x 1\nwait until applied all >= 2\nkill 3\nset-log 3 1\n\
                 set-log 3 1\nset-log 3 1,2\nkill 2\nset-log 2 2\n";
    raftlab(lines).success().stdout(predicate::str::contains(
        "n3's durable log set to 1 entry\nit removed n3's entry 2@1: a leader that saw it \
         acknowledged will not send it again, as Raft assumes storage keeps it\n\
         n3's durable log set to 1 entry\nn3's durable log set to 2 entries\n\
         n2 killed\nn2's durable log set to 1 entry\nit removed n2's entries 1..2 (the last \
         2@1): a leader that saw them acknowledged will not send them again, as Raft assumes \
         storage keeps them\n",
    ));
}

#[test]
fn set_log_refuses_a_term_too_large_to_grow() {
    // A node's next election takes its term + 1: a log may not start where that overflows.
    let max = raftlab::raft::MAX_GIVEN_TERM;
    let lines = format!(
        "kill 3\nset-log 3 1,18446744073709551615\nset-log 3 {}\nset-log 3 99999999999999999999\n\
         set-log 3 {max}\nhelp set-log\n",
        max + 1
    );
    raftlab(&lines)
        .code(1)
        .stderr(predicate::str::contains(format!(
            "error: term 18446744073709551615 is too large: log terms go up to {max}\n"
        )))
        .stderr(predicate::str::contains(format!(
            "error: term {} is too large: log terms go up to {max}\n",
            max + 1
        )))
        .stderr(predicate::str::contains(format!(
            "error: term 99999999999999999999 is too large: log terms go up to {max}\n"
        )))
        .stdout(predicate::str::contains("n3's durable log set to 1 entry"))
        .stdout(predicate::str::contains(format!(
            "at most {max} (2^32 - 1)"
        )));
}

#[test]
fn transfer_hands_the_leadership_over_or_says_why_not() {
    let lines = "wait leader within 2s\ntransfer 3\nrun 200ms\nexpect leader 3\nkill 4\n\
                 transfer 4\ntransfer 3\n";
    raftlab(lines)
        .code(1)
        .stdout(predicate::str::contains("n1 hands its leadership to n3"))
        .stdout(predicate::str::contains("✓ expect leader 3"))
        .stderr(predicate::str::contains("error: n4 is down"))
        .stderr(predicate::str::contains("error: n3 already leads"));
}

#[test]
fn membership_changes_need_a_leader() {
    for line in ["add 6", "remove 1"] {
        raftlab(line)
            .code(1)
            .stderr(predicate::str::contains("error: there is no leader"));
    }
}

#[test]
fn add_and_remove_change_the_configuration_shown_by_status() {
    let lines = "wait leader within 2s\nput a 1\nrun 100ms\nadd 6\nrun 300ms\nstatus\n\
                 remove 6\nrun 300ms\nremove 6\n";
    raftlab(lines)
        .success()
        .stdout(predicate::str::contains("n1 adds n6"))
        .stdout(predicate::str::contains(
            "config: voters n1,n2,n3,n4,n5,n6 learners -",
        ))
        .stdout(predicate::str::contains("n1 removes n6"))
        .stdout(predicate::str::contains(
            "n1 refuses: n6 is not in the cluster",
        ));
}

#[test]
fn script_commands_wait_expect_try_and_say() {
    let lines = "wait leader within 1s\nwait commit 1\nwait until role all follower within 1ms\n\
                 expect leader 1\nexpect term all == 1\nexpect logs-match\ntry put x 1 via 2\n\
                 say Hello, class\nexpect kv 1 x == 1\nquit\nstatus\n";
    raftlab(lines)
        .code(1)
        .stdout(predicate::str::contains("wait leader: held at t="))
        .stdout(predicate::str::contains("wait until: not within 1ms"))
        .stdout(predicate::str::contains("✓ expect leader 1"))
        .stdout(predicate::str::contains("✓ expect term all == 1"))
        .stdout(predicate::str::contains("(failure accepted by try)"))
        .stdout(predicate::str::contains("Hello, class"))
        .stdout(predicate::str::contains(
            "✗ expect kv 1 x == 1: n1: x absent",
        ))
        .stdout(predicate::str::contains("node  role").not());
}

#[test]
fn an_expectation_on_a_down_node_fails_because_it_is_down() {
    // n2's durable term is 1, but a down node has no live term, commit or role to test.
    let lines = "wait leader\nkill 2\nexpect term 2 == 1\nexpect commit 2 >= 0\n\
                 expect applied 2 >= 0\nexpect role 2 follower\nexpect kv 2 x == 1\n\
                 expect term all >= 1\n";
    raftlab(lines).code(1).stdout(predicate::str::contains(
        "✗ expect term 2 == 1: n2 is down\n✗ expect commit 2 >= 0: n2 is down\n\
             ✗ expect applied 2 >= 0: n2 is down\n✗ expect role 2 follower: n2 is down\n\
             ✗ expect kv 2 x == 1: n2 is down\n✓ expect term all >= 1\n",
    ));
}

#[test]
fn save_writes_a_scenario_of_the_session() {
    let dir = std::env::temp_dir().join(format!("raftlab-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("session.yaml");
    let lines = format!("wait leader\nput x 1\nkill 2\nsave {}\n", file.display());
    raftlab(&lines).success().stdout(predicate::str::contains(
        "session.yaml: 3 commands, with 0 run steps",
    ));
    let saved = std::fs::read_to_string(&file).expect("saved file");
    assert!(saved.contains("  seed: 3\n  clock: virtual\n"), "{saved}");
    assert!(
        saved.contains("  - wait leader\n  - put x 1\n  - kill 2\n"),
        "{saved}"
    );
    // From a `pause` on, the file is on a paused clock too.
    let lines = format!("wait leader\npause\nput x 1\nsave {}\n", file.display());
    raftlab(&lines)
        .success()
        .stdout(predicate::str::contains("saved 3 steps to "))
        .stdout(predicate::str::contains(
            "session.yaml: 2 commands, with 0 run steps for the time between them and a `pause` \
         where the session paused",
        ));
    let saved = std::fs::read_to_string(&file).expect("saved file");
    assert!(
        saved.contains("  - wait leader\n  - pause\n  - put x 1\n"),
        "{saved}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_lines_give_one_error_each_and_the_repl_goes_on() {
    let lines = "stauts\nput x\nkill 9\nkill leader\nnet drop 2\nnet delay 5ms..1ms\nrestart 1\n\
                 status\n";
    raftlab(lines)
        .code(1)
        .stderr(predicate::str::contains(
            "error: unknown command 'stauts' (did you mean 'status'?)",
        ))
        .stderr(predicate::str::contains(
            "error: missing V (usage: put K V [via NODE])",
        ))
        .stderr(predicate::str::contains(
            "error: node 9 does not exist (the cluster has nodes 1..5)",
        ))
        .stderr(predicate::str::contains("error: there is no leader now"))
        .stderr(predicate::str::contains("error: n1 is up"))
        .stdout(predicate::str::contains("node  role"));
}

#[test]
fn shell_completions_are_generated() {
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_raftlab()"));
}

#[test]
fn expect_get_on_a_paused_clock_reads_the_leaders_state_machine() {
    raftlab("pause\nwait leader\nput x 1\nrun 100ms\nexpect get x == 1\nexpect get x == 2\n")
        .code(1)
        .stdout(predicate::str::contains(
            "✓ expect get x == 1 (paused: judged by the leader's state machine)",
        ))
        .stdout(predicate::str::contains(
            "✗ expect get x == 2 (paused: judged by the leader's state machine): x is 1",
        ));
}

#[test]
fn wait_until_get_with_no_leader_says_there_is_none_to_read_from() {
    // x is 2 and committed; with every node down no leader can answer, so x is not absent.
    raftlab("wait leader\nput x 2\nkill 1 2 3 4 5\nwait until get x == 2 within 1s\n")
        .code(1)
        .stdout(predicate::str::contains(
            "; there is no leader to read x from)",
        ))
        .stdout(predicate::str::contains("x is absent").not());
}

#[test]
fn a_line_that_is_not_utf8_is_an_error_and_the_lines_after_it_still_run() {
    // `\xff` is never UTF-8; `\xe9` is a Latin-1 é.
    let lines: &[u8] = b"say one\nsay \xff\nsay three\nput x \xe9\r\nsay five";
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["--clock", "virtual", "--seed", "3"])
        .write_stdin(lines)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: line 2 is not valid UTF-8\nerror: line 4 is not valid UTF-8\n",
        ))
        .stdout("one\nthree\nfive\n");
}

/// A leader cut off in an old term is not "the leader" once the newer one is gone: the
/// others are in a later term and would refuse it, so `status` shows none and `wait
/// leader` waits for the next election.
#[test]
fn a_cut_off_leader_of_an_old_term_is_not_the_leader() {
    let lines = "wait leader\nput x 1\nisolate 1\nwait until role 2 leader within 2s\n\
                 kill leader\nstatus\nexpect leader 1\nwait leader within 2s\n";
    raftlab(lines)
        .failure()
        .stdout(predicate::str::contains("n2 killed"))
        .stdout(predicate::str::contains("speed=1  leader=-"))
        .stdout(predicate::str::contains(
            "✗ expect leader 1: there is no leader",
        ))
        .stdout(predicate::str::contains("(leader is n1)").count(1));
}
