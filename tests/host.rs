//! `raftlab host` with the project's own node (`raftlab node`) and small shell programs as
//! the hosted children. These run real processes in real time: each is bounded to a few
//! seconds of wall time, and none asserts a timing.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use raftlab::host::HostArgs;
use raftlab::host::clients::{End, Workload};
use raftlab::host::protocol::{Body, KvRequest};
use raftlab::host::run::Host;
use raftlab::host::summary;

const BIN: &str = env!("CARGO_BIN_EXE_raftlab");

fn out_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("raftlab-host-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

fn args(nodes: usize, command: &[&str], out: &Path) -> HostArgs {
    HostArgs {
        nodes,
        workload: Workload::LinKv,
        clients: 2,
        rate: 10.0,
        keys: 1,
        time: 1_000_000,
        nemesis: Vec::new(),
        interval: 1_000_000,
        delay: "1ms..2ms".to_string(),
        drop: 0.0,
        dup: 0.0,
        timeout: 1_000_000,
        init_timeout: 3_000_000,
        seed: 1,
        out: Some(out.to_path_buf()),
        interactive: false,
        watch: false,
        command: command.iter().map(|s| s.to_string()).collect(),
    }
}

/// Whether a process with this id exists (a reaped child does not).
fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// Whether any process of the group this process led runs (a zombie waiting for init to
/// reap it does not).
fn group_alive(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let after_name = stat.rsplit(')').next().unwrap_or("");
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // After the command's name: state, parent, process group.
        fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
    })
}

/// A host of `nodes` project nodes whose clients act only when told.
fn started(nodes: usize, extra: &[&str], name: &str) -> Host {
    let mut command = vec![BIN, "node"];
    command.extend_from_slice(extra);
    let mut host = Host::new(args(nodes, &command, &out_dir(name))).expect("a host");
    host.auto_clients = false;
    host.start_all().expect("the nodes start");
    let all_init = host.run_until(Duration::from_secs(5), |h| {
        h.slots.iter().all(|s| s.initialised)
    });
    assert!(all_init, "every node answers init with init_ok");
    host
}

fn leader(host: &Host) -> Option<usize> {
    let mut best = None;
    for (i, slot) in host.slots.iter().enumerate() {
        let Some(state) = &slot.state else { continue };
        if state["role"] == "leader" {
            let term = state["term"].as_u64().unwrap_or(0);
            if best.is_none_or(|(t, _)| term > t) {
                best = Some((term, i));
            }
        }
    }
    best.map(|(_, i)| i)
}

fn write(key: u64, value: u64) -> Body {
    KvRequest::Write {
        key: key.into(),
        value: value.into(),
    }
    .body()
}

fn read(key: u64) -> Body {
    KvRequest::Read { key: key.into() }.body()
}

/// Sends `body` from `client` to the node that says it leads, until one takes it; that
/// node. (The leader a node last reported may have just lost its place.)
fn write_at_leader(host: &mut Host, client: usize, body: Body) -> usize {
    for _ in 0..20 {
        host.run_until(Duration::from_secs(2), |h| leader(h).is_some());
        let Some(l) = leader(host) else { continue };
        if matches!(
            host.call(client, l, body.clone(), Duration::from_secs(1)),
            End::Ok(_)
        ) {
            return l;
        }
    }
    panic!("no leader took the write within 20 tries");
}

#[test]
fn the_handshake_and_routing_elect_a_leader_that_serves_writes() {
    let mut host = started(3, &[], "handshake");
    let l = write_at_leader(&mut host, 0, write(1, 7));
    assert!(matches!(
        host.call(1, l, read(1), Duration::from_secs(2)),
        End::Ok(_)
    ));
    assert!(host.routed > 0, "raft messages went through the network");
    let pids = host.pids();
    assert_eq!(
        summary::finish(&mut host),
        0,
        "a correct node's history is linearizable"
    );
    drop(host);
    assert!(
        pids.iter().all(|&pid| !alive(pid)),
        "no child outlives the host"
    );
}

#[test]
fn a_partition_stops_traffic_to_the_cut_off_node() {
    let mut host = started(3, &[], "partition");
    host.run_for(Duration::from_millis(500));
    host.partition(&[vec![0], vec![1, 2]]);
    // What was on the wire to n1 when the link was cut is lost on arrival.
    host.run_for(Duration::from_millis(50));
    let (cut_off, others) = (host.slots[0].received, host.slots[1].received);
    host.run_for(Duration::from_millis(600));
    assert_eq!(
        host.slots[0].received, cut_off,
        "nothing reaches n1 across the cut"
    );
    assert!(host.slots[1].received > others, "n2 and n3 still talk");
    host.heal();
    let healed = host.run_until(Duration::from_secs(2), |h| h.slots[0].received > cut_off);
    assert!(healed, "after heal n1 hears again");
}

#[test]
fn a_killed_node_is_gone_and_restarts_fresh() {
    let mut host = started(3, &[], "kill");
    let old = host.slots[2].pids[0];
    host.kill(2);
    assert!(!alive(old), "the killed process is gone");
    host.restart(2).expect("a fresh process");
    let new = host.slots[2].pids[1];
    assert_ne!(old, new);
    let ok = host.run_until(Duration::from_secs(3), |h| h.slots[2].initialised);
    assert!(ok, "the restarted node answers init again");
    drop(host);
    assert!(!alive(new));
}

#[test]
fn a_paused_node_is_stopped_and_resumes() {
    let mut host = started(3, &[], "pause");
    let pid = host.slots[0].pids[0];
    let state = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next())
            .map(str::to_string)
    };
    host.pause(0, true);
    host.run_until(Duration::from_secs(1), |_| {
        state(pid).as_deref() == Some("T")
    });
    assert_eq!(state(pid).as_deref(), Some("T"), "SIGSTOP stopped it");
    host.pause(0, false);
    host.run_until(Duration::from_secs(1), |_| {
        state(pid).as_deref() != Some("T")
    });
    assert_ne!(state(pid).as_deref(), Some("T"), "SIGCONT resumed it");
}

/// Isolates the leader after a write, lets the others elect a new one and write again,
/// then reads at the old leader: with the bug it answers from its own stale state.
fn stale_read_scenario(bug: &[&str], name: &str) -> u8 {
    let mut host = started(3, bug, name);
    let old = write_at_leader(&mut host, 0, write(0, 1));
    let rest: Vec<usize> = (0..3).filter(|&n| n != old).collect();
    host.partition(&[vec![old], rest.clone()]);
    let new_leader = |h: &Host| {
        rest.iter()
            .find(|&&n| {
                let state = h.slots[n].state.as_ref();
                state.is_some_and(|s| s["role"] == "leader")
            })
            .copied()
    };
    let mut written = false;
    for _ in 0..20 {
        host.run_until(Duration::from_secs(2), |h| new_leader(h).is_some());
        let Some(new) = new_leader(&host) else {
            continue;
        };
        if matches!(
            host.call(1, new, write(0, 2), Duration::from_secs(1)),
            End::Ok(_)
        ) {
            written = true;
            break;
        }
    }
    assert!(written, "the majority elected a leader that took a write");
    host.call(0, old, read(0), Duration::from_millis(300));
    summary::finish(&mut host)
}

#[test]
fn a_teaching_bug_shows_as_a_violation_in_the_clients_history() {
    assert_eq!(
        stale_read_scenario(&["--bug", "leader-local-reads"], "bug"),
        1
    );
    assert_eq!(
        stale_read_scenario(&[], "nobug"),
        0,
        "the correct node stays linearizable"
    );
}

/// `raftlab host` for 200 ms of `(nodes, init timeout)` copies of `sh -c SCRIPT`, its
/// files in a folder of its own (`name`).
fn short_run(
    name: &str,
    (nodes, init_timeout): (&str, &str),
    script: &str,
) -> (i32, String, String) {
    let out = out_dir(name);
    let out_arg = out.to_str().expect("a UTF-8 path");
    host_cli(&[
        "--nodes",
        nodes,
        "--init-timeout",
        init_timeout,
        "--time",
        "200ms",
        "--timeout",
        "100ms",
        "--out",
        out_arg,
        "--",
        "sh",
        "-c",
        script,
    ])
}

fn host_cli(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .arg("host")
        .args(args)
        .timeout(Duration::from_secs(30))
        .output()
        .expect("raftlab host runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (
        output.status.code().unwrap_or(-1),
        text(&output.stdout),
        text(&output.stderr),
    )
}

fn pids_in(summary: &str) -> Vec<u32> {
    summary
        .lines()
        .filter_map(|l| l.split("(pid ").nth(1)?.split(')').next())
        .flat_map(|list| {
            list.split(", ")
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

#[test]
fn the_command_line_runs_clients_kills_and_writes_a_history_lincheck_reads() {
    let out = out_dir("cli");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let (code, stdout, _) = host_cli(&[
        "--nodes",
        "3",
        "--time",
        "1500ms",
        "--rate",
        "40",
        "--nemesis",
        "kill",
        "--interval",
        "500ms",
        "--out",
        out_arg,
        "--",
        BIN,
        "node",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("linearizability: linearizable"), "{stdout}");
    assert!(
        stdout.contains("started 2 time(s)"),
        "the killed node restarted: {stdout}"
    );
    let pids = pids_in(&stdout);
    assert!(pids.len() >= 4, "{stdout}");
    assert!(
        pids.iter().all(|&pid| !alive(pid)),
        "no child outlives raftlab"
    );
    let history = out.join("history.jsonl");
    let check = Command::new(BIN)
        .arg("lincheck")
        .arg(&history)
        .output()
        .expect("lincheck");
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// A node that answers init, then writes a line that is not JSON, a message to a node that
/// does not exist and a reply to nobody, and exits with status 3.
const BAD_NODE: &str = r#"read line
id=$(echo "$line" | sed 's/.*"node_id":"\([^"]*\)".*/\1/')
echo "{\"src\":\"$id\",\"dest\":\"c0\",\"body\":{\"type\":\"init_ok\",\"in_reply_to\":1}}"
echo "this is not json"
echo "{\"src\":\"$id\",\"dest\":\"n99\",\"body\":{\"type\":\"gossip\"}}"
echo "{\"src\":\"$id\",\"dest\":\"c1\",\"body\":{\"type\":\"read_ok\",\"in_reply_to\":123456}}"
exit 3"#;

#[test]
fn malformed_output_and_a_crashing_child_are_counted_and_shown() {
    let out = out_dir("bad");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = host_cli(&[
        "--nodes",
        "2",
        "--time",
        "500ms",
        "--timeout",
        "200ms",
        "--out",
        out_arg,
        "--",
        "sh",
        "-c",
        BAD_NODE,
    ]);
    assert_eq!(code, 0, "no answer is no violation: {stdout}");
    // No operation was ok: no latency to give (it said "p50 0.0 ms, p99 0.0 ms").
    assert!(
        stdout.contains("  latency of ok operations: none was ok\n"),
        "{stdout}"
    );
    for problem in [
        "unreadable line",
        "unknown destination",
        "exited",
        "unknown in_reply_to",
    ] {
        assert!(
            stdout.contains(problem),
            "{problem} in the summary: {stdout}"
        );
        assert!(
            stderr.contains(problem),
            "{problem} shown as it happens: {stderr}"
        );
    }
    assert!(pids_in(&stdout).iter().all(|&pid| !alive(pid)));
}

/// A node that answers init, then every request with a reply of a type no request has.
const BOGUS_NODE: &str = r#"while read line; do
  id=$(echo "$line" | sed 's/.*"msg_id":\([0-9]*\).*/\1/')
  src=$(echo "$line" | sed 's/.*"src":"\([^"]*\)".*/\1/')
  case "$line" in
    *'"type":"init"'*) type=init_ok ;;
    *) type=bogus ;;
  esac
  echo "{\"src\":\"n1\",\"dest\":\"$src\",\"body\":{\"type\":\"$type\",\"in_reply_to\":$id}}"
done"#;

/// A reply of a type the operation cannot get is a problem of the program, shown as it
/// happens and counted in the summary, and the operation's outcome is unknown.
#[test]
fn a_reply_of_the_wrong_type_is_a_counted_and_shown_problem() {
    let (code, stdout, stderr) = short_run("bogus", ("1", "1s"), BOGUS_NODE);
    assert_eq!(code, 0, "no answer is no violation: {stdout}{stderr}");
    assert!(
        stdout.contains(" wrong reply type") && !stdout.contains("problems: none"),
        "{stdout}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("wrong reply type: n1 answered ") && l.ends_with(" with bogus")),
        "{stderr}"
    );
    assert!(stdout.contains(" 0 ok,"), "{stdout}");
}

/// Which reply types fit which request: `<request>_ok` or an error with a code.
#[test]
fn a_reply_fits_its_request_by_type() {
    use raftlab::host::clients::misfit;
    let error = Body::new("error").with("code", 11);
    let kv = Workload::LinKv;
    assert_eq!(misfit(kv, &write(1, 2), &Body::new("write_ok")), None);
    assert_eq!(misfit(kv, &read(1), &error), None);
    assert_eq!(
        misfit(kv, &write(1, 2), &Body::new("read_ok")),
        Some("write with read_ok".to_string())
    );
    assert_eq!(
        misfit(kv, &read(1), &Body::new("error")),
        Some("read with an error without a code".to_string())
    );
    let echo = Body::new("echo").with("echo", "hi");
    assert_eq!(misfit(Workload::Echo, &echo, &Body::new("echo_ok")), None);
    assert_eq!(
        misfit(Workload::Echo, &echo, &Body::new("bogus")),
        Some("echo with bogus".to_string())
    );
}

/// `raftlab host ... 2>&1 | head -1`: the live problem lines meet a closed stderr. The run
/// goes on to its summary on stdout and its exit status, as with an open stderr.
#[test]
fn a_closed_stderr_keeps_the_summary_and_the_exit_status() {
    use std::os::fd::FromRawFd;
    use std::process::Stdio;
    let out = out_dir("closed-stderr");
    let mut ends = [0 as libc::c_int; 2];
    // SAFETY: `ends` has room for the two descriptors pipe() writes.
    assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0, "a pipe");
    // SAFETY: the read end is ours, and closed once; the write end is owned by the Stdio.
    let write_end = unsafe {
        libc::close(ends[0]);
        Stdio::from_raw_fd(ends[1])
    };
    // The run is bounded by --time and the default --init-timeout (3 s).
    let output = std::process::Command::new(BIN)
        .args([
            "host",
            "--nodes",
            "2",
            "--time",
            "500ms",
            "--timeout",
            "200ms",
        ])
        .arg("--out")
        .arg(&out)
        .args(["--", "sh", "-c", BAD_NODE])
        .stderr(write_end)
        .output()
        .expect("raftlab host runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "no panic: {stdout}");
    assert!(stdout.contains("unreadable line"), "{stdout}");
    assert!(stdout.contains("linearizability: linearizable"), "{stdout}");
}

#[test]
fn a_program_that_cannot_start_is_one_clear_error() {
    let (code, _, stderr) = host_cli(&["--", "/nonexistent/raft-node"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot start /nonexistent/raft-node"),
        "{stderr}"
    );
}

#[test]
fn a_flooding_child_is_bounded_counted_and_told_as_it_happens() {
    let out = out_dir("flood");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let flood = r#"read line
id=$(echo "$line" | sed 's/.*"node_id":"\([^"]*\)".*/\1/')
echo "{\"src\":\"$id\",\"dest\":\"c0\",\"body\":{\"type\":\"init_ok\",\"in_reply_to\":1}}"
yes garbage"#;
    let (code, stdout, stderr) = host_cli(&[
        "--nodes",
        "1",
        "--time",
        "300ms",
        "--timeout",
        "100ms",
        "--out",
        out_arg,
        "--",
        "sh",
        "-c",
        flood,
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("unreadable line"), "{stdout}");
    // The flood is told as it happens (it was only in the summary), and counted once.
    assert!(stderr.contains("flood: n1 floods: "), "{stderr}");
    assert!(stdout.contains("problems: 1 flood, "), "{stdout}");
    // `yes` is the shell's child: the node's whole process group is gone.
    let pids = pids_in(&stdout);
    assert!(!pids.is_empty() && pids.iter().all(|&pid| !alive(pid) && !group_alive(pid)));
}

#[test]
fn a_history_file_keeps_a_refused_cas_as_a_failure() {
    let dir = out_dir("history");
    let path = dir.join("cas.jsonl");
    let lines = [
        concat!(
            r#"{"event":"client_invoked","op":0,"client":1,"#,
            r#""request":{"op":"put","key":"0","value":"1"}}"#
        ),
        r#"{"event":"client_finished","op":0,"outcome":"done","output":"ok"}"#,
        concat!(
            r#"{"event":"client_invoked","op":1,"client":2,"#,
            r#""request":{"op":"cas","key":"0","old":"1","new":"2"}}"#
        ),
        r#"{"event":"client_finished","op":1,"outcome":"done","output":"cas failed"}"#,
    ];
    std::fs::write(&path, lines.join("\n")).expect("a history file");
    let check = Command::new(BIN)
        .arg("lincheck")
        .arg(&path)
        .output()
        .expect("lincheck");
    // The value was 1, so a cas from 1 cannot have been refused.
    assert_eq!(
        check.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn held_messages_wait_until_stepped_delivered_or_dropped() {
    let mut host = started(3, &[], "hold");
    host.held = true;
    let some = host.run_until(Duration::from_secs(3), |h| h.in_flight().len() >= 3);
    assert!(some, "the nodes' messages wait on the wire");
    let received = |h: &Host| h.slots.iter().map(|s| s.received).sum::<u64>();
    let before = received(&host);
    host.run_for(Duration::from_millis(100));
    assert_eq!(received(&host), before, "nothing is delivered while held");
    let first = host.in_flight()[0].0;
    assert_eq!(
        host.step_one(),
        Some(first),
        "step delivers the first in flight"
    );
    assert_eq!(received(&host), before + 1);
    let (id, _, to, _) = host.in_flight()[0].clone();
    assert!(host.drop_message(id));
    assert!(!host.in_flight().iter().any(|f| f.0 == id));
    assert!(!host.drop_message(id), "a message is dropped once");
    let (id, _, to2, _) = host.in_flight().last().cloned().expect("more in flight");
    let node_before = host.slots[to2].received;
    assert!(
        host.deliver_now(id),
        "a chosen message is delivered ahead of its turn"
    );
    assert_eq!(host.slots[to2].received, node_before + 1);
    let _ = to;
}

/// The pids `status` shows (`pid 1234`).
fn pids_in_status(stdout: &str) -> Vec<u32> {
    stdout
        .split("pid ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn the_host_shell_speaks_the_projects_language() {
    let out = out_dir("shell");
    let output = Command::new(BIN)
        .args(["host", "--interactive", "--nodes", "3", "--out"])
        .arg(&out)
        .args(["--", BIN, "node"])
        .write_stdin(
            "wait leader within 5s\nstatus\nput 1 5\nget 1\nexpect get 1 == 5\ncut 1 -> 2\nlink 1 -> 2\n\
             pause\nrun 100ms\nmsgs\nstep\ncampaign 1\nset-log 1 1,2\nstatus --bogus\nbogus\n\
             kill 9\nlogs 1\nquit\n",
        )
        .timeout(Duration::from_secs(30))
        .output()
        .expect("raftlab host runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "as the REPL, a piped session whose commands failed exits 1: {stdout}{stderr}"
    );
    assert!(
        stdout.contains(": ok\n") && stdout.contains(": 5\n") && stdout.contains("ok: get 1 == 5"),
        "{stdout}"
    );
    assert!(
        stdout.contains("n1   up"),
        "status shows the nodes: {stdout}"
    );
    assert!(
        stdout.contains("messages between nodes are held on the wire"),
        "{stdout}"
    );
    assert!(
        stdout.contains("AppendEntries term=1"),
        "msgs reads the project's node's messages as Raft's: {stdout}"
    );
    assert!(stdout.contains("delivered #"), "{stdout}");
    assert!(
        stdout.contains("n1 -> n2 cut") && stdout.contains("n1 -> n2 restored"),
        "{stdout}"
    );
    assert!(
        stdout.contains("raftlab-state"),
        "logs shows the node's stderr: {stdout}"
    );
    assert!(
        stderr.contains(
            "error: `campaign` needs the built-in cluster: a hosted node decides its own elections"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: `set-log` needs the built-in cluster"),
        "{stderr}"
    );
    // The REPL's parser answers a syntax error in the same words.
    let repl = Command::new(BIN)
        .write_stdin("status --bogus\nbogus\n")
        .timeout(Duration::from_secs(30))
        .output()
        .expect("raftlab runs");
    let repl_errors = String::from_utf8_lossy(&repl.stderr);
    assert_eq!(repl_errors.lines().count(), 2, "{repl_errors}");
    for line in repl_errors.lines() {
        assert!(stderr.contains(line), "{line:?} in {stderr}");
    }
    assert!(stderr.contains("error: node 9 does not exist"), "{stderr}");
    assert!(stdout.contains("linearizability: linearizable"), "{stdout}");
    assert!(
        stdout.contains("operations: 3: 3 ok"),
        "only what was typed: {stdout}"
    );
    let pids = pids_in_status(&stdout);
    assert_eq!(pids.len(), 3, "{stdout}");
    for pid in pids {
        assert!(!alive(pid), "node process {pid} outlived raftlab");
    }
}

#[test]
fn the_live_views_picture_of_a_hosted_cluster_holds_its_nodes_and_messages() {
    use raftlab::cluster::MsgInfo;
    use raftlab::cluster::NodeState;
    let mut host = started(3, &[], "picture");
    let elected = host.run_until(Duration::from_secs(5), |h| h.reported_leader().is_some());
    assert!(elected, "a node says it leads");
    host.held = true;
    let some = host.run_until(Duration::from_secs(3), |h| h.in_flight().len() >= 2);
    assert!(some, "messages wait on the wire");
    let leader = host.reported_leader().expect("a leader");
    let follower = (leader + 1) % 3;
    host.kill(follower);
    let picture = host.picture(0);
    assert_eq!(picture.nodes.len(), 3);
    assert_eq!(picture.nodes[follower].state, NodeState::Down);
    let leader = leader as u64 + 1;
    assert_eq!(picture.leader, Some(leader));
    let node = picture.node(leader).expect("the leader's picture");
    assert!(node.term >= 1, "the term from the state line");
    assert!(node.counts.is_some_and(|(sent, _)| sent > 0));
    assert_eq!(
        picture.in_flight.len(),
        host.in_flight().len(),
        "every message in flight is in the picture"
    );
    assert!(
        picture
            .in_flight
            .iter()
            .all(|m| !matches!(m.info, MsgInfo::Hosted(_))),
        "the project's node's messages read as Raft's"
    );
    assert!(
        picture
            .events
            .iter()
            .any(|e| matches!(&e.kind, raftlab::cluster::EventKind::Note { .. })),
        "the story has the host's notes"
    );
    assert_eq!(
        picture.mode,
        raftlab::cluster::ClockMode::Paused,
        "held messages show as a paused clock"
    );
    let later = host.picture(picture.events_emitted);
    assert!(later.events.is_empty(), "no note twice");
    // The live view draws it with its own code: the cards, the down node, the messages.
    let model = raftlab::repl::watch::model::Model::new(picture, false, (120, 40));
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    let mut buffer = ratatui::buffer::Buffer::empty(area);
    raftlab::repl::watch::draw::render(&model, area, &mut buffer);
    let screen: String = buffer.content().iter().map(|cell| cell.symbol()).collect();
    assert!(screen.contains(&format!("n{leader} LEADER")), "{screen}");
    assert!(screen.contains("DOWN"), "{screen}");
    assert!(screen.contains("AE ") || screen.contains("ok "), "{screen}");
}

#[test]
fn a_node_that_never_answers_init_is_named_and_the_run_goes_on() {
    let (code, stdout, stderr) = short_run("silent", ("2", "300ms"), "cat > /dev/null");
    assert_eq!(
        code, 2,
        "no node ran, so the program cannot start: {stdout}"
    );
    assert!(
        stderr.contains("n1 did not answer init in time"),
        "{stderr}"
    );
    assert!(stdout.contains("no node answered init"), "{stdout}");
    assert!(stdout.contains("2 no init_ok"), "{stdout}");
    assert!(stdout.contains("not checked"), "{stdout}");
}

/// A program that exits at once never answers init: the run is a program that cannot
/// start (exit 2), not a linearizable one, and each dead node is one problem, shown once
/// as "exited" and not again as "no init_ok".
#[test]
fn a_program_that_exits_at_once_cannot_start_and_each_node_counts_once() {
    let (code, stdout, stderr) = short_run("exits", ("3", "1s"), "exit 0");
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.contains("problems: 3 exited\n"), "{stdout}");
    assert!(!stdout.contains("linearizable"), "{stdout}");
    assert!(!stderr.contains("no init_ok"), "{stderr}");
    assert!(
        stderr.contains("error: no node answered init, so `sh -c exit 0` cannot start"),
        "{stderr}"
    );
}

/// A zero init timeout would report every node silent before its first line: it is
/// refused as a usage error, on the command line and in a hosted scenario.
#[test]
fn an_init_timeout_of_zero_is_refused_as_a_usage_error() {
    let (code, stdout, stderr) = host_cli(&["--init-timeout", "0s", "--", "true"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "nothing runs: {stdout}");
    assert!(
        stderr.contains("--init-timeout") && stderr.contains("give a duration above 0"),
        "{stderr}"
    );
    use raftlab::host::run::parse_init_timeout;
    assert!(parse_init_timeout("0ms").is_err());
    assert_eq!(parse_init_timeout("1ms"), Ok(1_000));
}

/// A node that answers init, then exits a moment later.
const SHORT_LIVED_NODE: &str = r#"read line
id=$(echo "$line" | sed 's/.*"node_id":"\([^"]*\)".*/\1/')
mid=$(echo "$line" | sed 's/.*"msg_id":\([0-9]*\).*/\1/')
echo "{\"src\":\"$id\",\"dest\":\"c0\",\"body\":{\"type\":\"init_ok\",\"in_reply_to\":$mid}}"
sleep 0.3"#;

/// Once every node's process has ended, nothing can answer: the run ends then, with its
/// summary, instead of waiting out `--time` (60 s here, longer than the test lets it run).
#[test]
fn a_run_whose_nodes_all_exit_ends_at_once_with_its_summary() {
    let out = out_dir("all-exit");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = host_cli(&[
        "--nodes",
        "2",
        "--time",
        "60s",
        "--timeout",
        "100ms",
        "--out",
        out_arg,
        "--",
        "sh",
        "-c",
        SHORT_LIVED_NODE,
    ]);
    assert_eq!(
        code, 0,
        "the nodes ran; no answer is no violation: {stdout}{stderr}"
    );
    assert!(
        stderr.contains("every node has exited: the run ends now"),
        "said as it happens: {stderr}"
    );
    assert!(
        stdout.contains("every node exited: the run ended early"),
        "{stdout}"
    );
    assert!(stdout.contains("problems: 2 exited"), "{stdout}");
    assert!(stdout.contains("nodes started and initialised"), "{stdout}");
}

#[test]
fn a_hosted_scenario_file_runs_its_steps_and_passes() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hosted/failover.yaml");
    let output = Command::new(BIN)
        .arg("run")
        .arg(&example)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("raftlab run runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("ok: get 1 == 5"), "{stdout}");
    assert!(stdout.contains("hosted-failover: passed"), "{stdout}");
    for pid in pids_in(&stdout) {
        assert!(!alive(pid), "node process {pid} outlived raftlab");
    }
}

#[test]
fn a_hosted_scenario_fails_on_a_wrong_expectation_and_names_a_bad_step() {
    let dir = out_dir("scenario");
    let wrong = dir.join("wrong.yaml");
    let text = "host:\n  command: [raftlab, node]\nsteps:\n  - wait leader within 5s\n  \
                - put 1 5\n  - expect get 1 == 6\n";
    std::fs::write(&wrong, text).expect("a scenario file");
    let output = Command::new(BIN)
        .arg("run")
        .arg(&wrong)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("raftlab run runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED: expect get 1 == 6"), "{stdout}");
    let bad = dir.join("bad.yaml");
    let text = "host:\n  command: [raftlab, node]\nsteps:\n  - status\n  - kill 7\n";
    std::fs::write(&bad, text).expect("a scenario file");
    let output = Command::new(BIN)
        .arg("run")
        .arg(&bad)
        .timeout(Duration::from_secs(30))
        .output()
        .expect("raftlab run runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.yaml:5:5: node 7 does not exist"),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_ends_a_hosted_session_with_its_summary_and_no_child_left() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let out = out_dir("interrupt");
    let mut child = std::process::Command::new(BIN)
        .args(["host", "--interactive", "--nodes", "3", "--out"])
        .arg(&out)
        .args(["--", BIN, "node"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("raftlab host starts");
    let mut stdin = child.stdin.take().expect("its stdin");
    stdin
        .write_all(b"wait leader within 5s\nstatus\nrun 60s\n")
        .expect("commands written");
    let mut stdout = BufReader::new(child.stdout.take().expect("its stdout"));
    let mut seen = String::new();
    for _ in 0..20 {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        seen.push_str(&line);
        if line.starts_with("in flight:") {
            break;
        }
    }
    let pids = pids_in_status(&seen);
    assert_eq!(pids.len(), 3, "{seen}");
    // SAFETY: sending SIGINT to the child this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut stdout, &mut rest);
    drop(stdin);
    let status = child.wait().expect("raftlab host ends");
    assert_eq!(status.code(), Some(0), "{seen}{rest}");
    assert!(rest.contains("interrupted (Ctrl-C)"), "{rest}");
    assert!(rest.contains("linearizability:"), "the summary: {rest}");
    for pid in pids {
        assert!(!alive(pid), "node process {pid} outlived raftlab");
    }
}

/// Options that leave nothing to run or test are refused, each in its own flag's words,
/// before any program starts: no keys, no time, no time to answer in, a rate that is not
/// a rate, or a nemesis that would fault without pause (it forked about 450 processes a
/// second with `--interval 0s`).
#[test]
fn degenerate_options_are_refused_before_anything_starts() {
    let cases: [(&[&str], &str); 6] = [
        (&["--keys", "0"], "--keys must be at least 1"),
        (&["--clients", "0"], "--clients must be at least 1"),
        (&["--time", "0s"], "--time must be more than 0s"),
        (&["--timeout", "0s"], "--timeout must be more than 0s"),
        (
            &["--rate=-1"],
            "--rate must be a number of operations per second",
        ),
        (
            &["--nemesis", "kill", "--interval", "0s"],
            "--interval must be at least 10ms with a --nemesis",
        ),
    ];
    for (options, said) in cases {
        let args: Vec<&str> = options.iter().copied().chain(["--", "true"]).collect();
        let (code, stdout, stderr) = host_cli(&args);
        assert_eq!(code, 2, "{options:?}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{options:?}: nothing runs: {stdout}");
        assert!(stderr.contains(said), "{options:?}: {stderr}");
    }
}

/// An operation that no node could take (its one node killed by the nemesis) did not
/// happen: it ends failed, "never sent", not unknown, and the history says so (it was
/// "unknown (may have)", which let the checker place it anywhere).
#[test]
fn an_operation_no_node_could_take_is_failed_not_unknown() {
    let out = out_dir("never-sent");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let (_, stdout, stderr) = host_cli(&[
        "--nodes",
        "1",
        "--nemesis",
        "kill",
        "--interval",
        "300ms",
        "--time",
        "1500ms",
        "--timeout",
        "100ms",
        "--out",
        out_arg,
        "--",
        BIN,
        "node",
    ]);
    let failed = stdout
        .split_once(" failed (did not happen)")
        .and_then(|(before, _)| before.rsplit(' ').next()?.parse::<u64>().ok());
    assert!(failed.is_some_and(|n| n > 0), "{stdout}{stderr}");
    let history = std::fs::read_to_string(out.join("history.jsonl")).expect("the history");
    assert!(
        history.contains("never sent: no node could take it"),
        "{history}"
    );
}
