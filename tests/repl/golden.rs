//! Output that must not change, byte for byte, for a fixed seed in virtual time.

use assert_cmd::Command;

#[test]
fn an_election_and_a_write_print_exactly_this() {
    let output = Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["--clock", "virtual", "--seed", "3", "--nodes", "3"])
        .write_stdin("wait leader\nput x 1\nstatus\nlog\n")
        .output()
        .expect("runs");
    let expected = "\
wait leader: held at t=187.5ms (leader is n1)
put x 1: ok (index 2@1) in 4.9ms
t=192.5ms  clock=virtual  speed=1  leader=n1  in flight=2
node  role       term  vote  leader  last      commit  applied  group
n1    leader        1  n1    n1      2@1            2        2  -
n2    follower      1  n1    n1      2@1            0        0  -
n3    follower      1  n1    n1      2@1            0        0  -
index    1  2
n1*      1  1|
n2       1  1
n3       1  1
| = commit point (entries up to it are committed)   n1* = leader   n1x = down
";
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout, expected, "stdout was:\n{stdout}");
}
