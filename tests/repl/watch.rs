//! The live view, frame by frame: golden frames drawn with ratatui's `TestBackend` from
//! deterministic clusters (a paused or virtual clock and a fixed seed), compared as text
//! with the files in `tests/golden/watch/`. `UPDATE_GOLDEN=1 cargo test --test repl
//! watch` writes the files again (then read the diff before committing it).
//!
//! And the rule the view lives by: it only reads. A run's trace is the same, byte for
//! byte, whether or not the view draws it after every hand-off.

use std::path::PathBuf;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use raftlab::cluster::{ClockMode, ClusterConfig, ClusterView, ViewLimits};
use raftlab::raft::Message;
use raftlab::repl::session::Session;
use raftlab::repl::watch::draw;
use raftlab::repl::watch::model::Model;

fn session(nodes: u64, seed: u64, clock: ClockMode) -> Session {
    let config = ClusterConfig {
        nodes,
        seed,
        clock,
        ..ClusterConfig::default()
    };
    Session::new(config).expect("the cluster starts")
}

fn run(session: &mut Session, lines: &[&str]) {
    for line in lines {
        let outcome = session.run_line(line).expect("the command runs");
        assert!(outcome.passed, "{line}: {}", outcome.text);
    }
}

fn view(session: &Session) -> ClusterView {
    session
        .cluster()
        .view(ViewLimits::default())
        .expect("a view")
}

/// The frame's text, one line a row, trailing spaces cut.
fn frame(model: &Model, (width, height): (u16, u16)) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    let mut model = model.clone();
    model.size = (width, height);
    terminal
        .draw(|f| draw::view(&model, f))
        .expect("the frame draws");
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..height {
        let row: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
        text.push_str(row.trim_end());
        text.push('\n');
    }
    text
}

fn golden(name: &str, text: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/watch")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("the folder");
        std::fs::write(&path, text).expect("the golden file is written");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert!(
        expected == text,
        "the frame differs from {}:\n{text}",
        path.display()
    );
}

fn elected() -> Session {
    let mut session = session(5, 1, ClockMode::Virtual);
    run(&mut session, &["wait leader within 2s"]);
    session
}

#[test]
fn after_the_first_election_at_120x40() {
    let session = elected();
    let model = Model::new(view(&session), false, (120, 40));
    let text = frame(&model, (120, 40));
    assert!(text.contains("LEADER") && text.contains("✓ safe"), "{text}");
    golden("first_election_120x40", &text);
}

#[test]
fn at_80x24_the_panes_fold_one_at_a_time() {
    let session = elected();
    let mut model = Model::new(view(&session), false, (80, 24));
    let cluster = frame(&model, (80, 24));
    golden("first_election_80x24_cluster", &cluster);
    model.pane = model.pane.next();
    let log = frame(&model, (80, 24));
    assert!(
        log.contains(" log ") && !log.contains(" cluster: "),
        "{log}"
    );
    golden("first_election_80x24_log", &log);
}

#[test]
fn at_200x60_every_pane_shows() {
    let session = elected();
    let text = frame(&Model::new(view(&session), false, (200, 60)), (200, 60));
    for pane in [" cluster: 5 nodes ", " story ", " log "] {
        assert!(text.contains(pane), "{pane}: {text}");
    }
    golden("first_election_200x60", &text);
}

#[test]
fn a_terminal_too_small_gets_one_line() {
    let session = elected();
    let text = frame(&Model::new(view(&session), false, (60, 20)), (60, 20));
    assert!(text.starts_with("raftlab watch needs at least 80x24 (this terminal is 60x20)"));
    assert_eq!(text.lines().filter(|l| !l.is_empty()).count(), 1, "{text}");
}

/// A candidate cut off from the others has its own vote only, and its timer runs down.
#[test]
fn a_candidate_with_one_vote_of_three_and_half_its_timer_gone() {
    let mut session = session(3, 2, ClockMode::Paused);
    run(&mut session, &["isolate 1", "campaign 1"]);
    let timer = view(&session)
        .node(1)
        .and_then(|n| n.timer)
        .expect("a timer");
    let half_ms = (timer.deadline_us - timer.set_us) / 2 / 1000;
    run(&mut session, &[&format!("run {half_ms}ms")]);
    let model = Model::new(view(&session), false, (120, 40));
    let text = frame(&model, (120, 40));
    assert!(
        text.contains("n1 candidate") && text.contains("t1 1/3 votes"),
        "{text}"
    );
    assert!(text.contains("◷█████░░░░░"), "half the bar is left: {text}");
    golden("candidate_one_vote_half_timer", &text);
}

/// RequestVotes sent with a 10ms delay, drawn 5ms later: halfway along their lines.
#[test]
fn messages_in_flight_halfway() {
    let mut session = session(5, 1, ClockMode::Paused);
    run(&mut session, &["net delay 10ms", "campaign 1", "run 5ms"]);
    let view = view(&session);
    assert!(
        view.in_flight
            .iter()
            .all(|m| m.progress(view.now_us) == 0.5)
    );
    let text = frame(&Model::new(view, false, (120, 40)), (120, 40));
    assert_eq!(text.matches("RV t1").count(), 4, "{text}");
    golden("messages_halfway", &text);
}

/// The old leader with one follower on the minority side leads on in its term; the
/// majority elects a leader of a higher term.
#[test]
fn a_partition_with_a_minority_leader() {
    let mut session = elected();
    let leader = view(&session).leader.expect("a leader");
    let other = if leader == 1 { 2 } else { 1 };
    let rest: Vec<String> = (1..=5)
        .filter(|n| *n != leader && *n != other)
        .map(|n| n.to_string())
        .collect();
    let partition = format!("partition {leader},{other} | {}", rest.join(","));
    run(&mut session, &[&partition, "run 1s"]);
    let view = view(&session);
    let leaders = view
        .nodes
        .iter()
        .filter(|n| n.role == Some(raftlab::raft::Role::Leader))
        .count();
    assert_eq!(leaders, 2, "a leader on each side");
    let text = frame(&Model::new(view, false, (120, 40)), (120, 40));
    assert!(text.contains("✂"), "cut links are drawn: {text}");
    golden("partition_minority_leader", &text);
}

/// Figure 7: the new leader of term 8 backs up a follower's nextIndex, and the repair is
/// on its way.
#[test]
fn a_leader_backs_up_a_followers_next_index() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/clusters/figure7.yaml"),
    )
    .expect("figure7.yaml");
    let mut session = session(7, 1, ClockMode::Virtual);
    let steps = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter(|l| !l.starts_with("say:"))
        .take_while(|l| !l.starts_with("wait leader"));
    for step in steps {
        run(&mut session, &[step]);
    }
    run(&mut session, &["wait leader within 100ms"]);
    // The leader sends entries optimistically, so its nextIndex for a follower is back
    // at the end of its log as soon as the repair is sent: what shows the backing up is
    // the AppendEntries in flight with an early `prev`, while `matchIndex` is still 0.
    let backed_up = |view: &ClusterView| {
        view.in_flight.iter().any(|m| {
            let repair = match m.info.message() {
                Some(Message::AppendEntries {
                    prev_log_index,
                    entries,
                    ..
                }) => *prev_log_index < 9 && !entries.is_empty(),
                _ => false,
            };
            let unmatched = view
                .leader
                .and_then(|l| view.node(l))
                .and_then(|l| l.progress.iter().find(|f| f.node == m.info.to()))
                .is_some_and(|f| f.match_index == 0);
            repair && unmatched && m.progress(view.now_us) >= 0.4
        })
    };
    for _ in 0..200 {
        if backed_up(&view(&session)) {
            break;
        }
        run(&mut session, &["step"]);
    }
    let view = view(&session);
    assert!(backed_up(&view), "a repair is on its way to a follower");
    let text = frame(&Model::new(view, false, (120, 40)), (120, 40));
    assert!(text.contains("▲") && text.contains("match 0"), "{text}");
    golden("figure7_backing_up", &text);
}

#[test]
fn a_hundred_and_one_nodes_are_summarised() {
    let mut session = session(101, 1, ClockMode::Virtual);
    run(&mut session, &["wait leader within 5s"]);
    let text = frame(&Model::new(view(&session), false, (200, 60)), (200, 60));
    assert!(
        text.contains("101 nodes: too many to draw one by one"),
        "{text}"
    );
    golden("nodes_101_200x60", &text);
}

/// The view reads only: a run drawn after every hand-off has the same trace as a run
/// that is not drawn at all.
#[test]
fn the_trace_is_the_same_watched_or_not() {
    let lines = [
        "wait leader within 2s",
        "put x 1",
        "kill leader",
        "wait leader within 2s",
        "put y 2",
        "step 40",
    ];
    let trace = |watched: bool| {
        let mut session = session(5, 9, ClockMode::Virtual);
        let mut frames = 0;
        for line in lines {
            run(&mut session, &[line]);
            if watched {
                let model = Model::new(view(&session), true, (120, 40));
                frames += frame(&model, (120, 40)).len();
            }
        }
        assert_eq!(watched, frames > 0);
        let events = session.cluster().events(100_000).expect("events");
        events.iter().map(|e| format!("{e}\n")).collect::<String>()
    };
    let (plain, watched) = (trace(false), trace(true));
    assert!(plain.lines().count() > 100, "a real trace");
    assert!(plain == watched, "the traces differ");
}

/// A tick redraws nothing when nothing changed: the model the runtime compares is the
/// same picture.
#[test]
fn a_paused_cluster_gives_the_same_picture_twice() {
    let session = session(5, 1, ClockMode::Paused);
    let (a, b) = (view(&session), view(&session));
    assert_eq!((a.now_us, a.events_emitted), (b.now_us, b.events_emitted));
    assert_eq!(a, b);
}

/// A lesson played as slides, its `run` and `wait` steps shown a frame at a time, goes
/// through the same hand-offs as `raftlab run` plays it.
#[test]
fn a_lesson_as_slides_has_the_trace_of_raftlab_run() {
    use raftlab::repl::scenario::{self, RunOptions};
    use raftlab::repl::watch::lesson::Lesson;
    use std::time::Duration;

    for file in [
        "leader-failover.yaml",
        "minority-leader.yaml",
        "step-by-step-election.yaml",
    ] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("examples/clusters")
            .join(file);
        let loaded = scenario::load(&path).expect("the lesson loads");
        let mut plain = Session::new(loaded.config.clone()).expect("a cluster");
        let mut out = Vec::new();
        let verdict = scenario::play(
            &mut plain,
            &loaded,
            RunOptions::default(),
            &mut out,
            &mut None,
        )
        .expect("the lesson plays");
        assert_eq!(verdict, scenario::Verdict::Passed, "{file}");
        let mut slides = Session::new(loaded.config.clone()).expect("a cluster");
        let mut lesson = Lesson::new(loaded.clone());
        let mut frames = 0;
        while !lesson.done() || lesson.pending.is_some() {
            frames += 1;
            assert!(frames < 100_000, "{file}: the lesson ends");
            if lesson.pending.is_some() {
                lesson
                    .advance(&mut slides, Duration::from_millis(33), 0.05)
                    .expect("time passes");
            } else {
                lesson
                    .play_next(&mut slides, 0.05, true)
                    .expect("a step plays");
            }
            if frames % 25 == 0 {
                let model = Model::new(view(&slides), true, (120, 40));
                assert!(!frame(&model, (120, 40)).is_empty());
            }
        }
        assert!(
            lesson.played.iter().all(|p| p.check != Some(false)),
            "{file}"
        );
        let trace = |session: &Session| {
            let events = session.cluster().events(100_000).expect("events");
            events.iter().map(|e| format!("{e}\n")).collect::<String>()
        };
        let (a, b) = (trace(&plain), trace(&slides));
        assert!(a.lines().count() > 20, "{file}: a real trace");
        assert!(a == b, "{file}: the traces differ");
        assert!(
            frames > 30,
            "{file}: time was shown passing ({frames} frames)"
        );
    }
}

mod keys {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use raftlab::repl::watch::update::{Effect, Msg, update};

    use super::*;

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn paused_model() -> Model {
        let session = session(5, 1, ClockMode::Paused);
        Model::new(view(&session), false, (120, 40))
    }

    fn run(line: &str) -> Vec<Effect> {
        vec![Effect::Run(line.to_string())]
    }

    #[test]
    fn a_node_key_acts_on_the_selected_node_only() {
        let mut model = paused_model();
        assert_eq!(update(&mut model, key(KeyCode::Char('k'))), vec![]);
        let answer = model.answer.clone().expect("an answer");
        assert!(!answer.passed && answer.text.contains("select a node first"));
        assert_eq!(update(&mut model, key(KeyCode::Char('3'))), vec![]);
        assert_eq!(model.selected, Some(3));
        for (c, line) in [('k', "kill 3"), ('r', "restart 3"), ('c', "campaign 3")] {
            assert_eq!(update(&mut model, key(KeyCode::Char(c))), run(line));
        }
        assert_eq!(
            update(&mut model, key(KeyCode::Char('i'))),
            run("isolate 3")
        );
        assert_eq!(
            update(&mut model, key(KeyCode::Char('t'))),
            run("transfer 3")
        );
        assert_eq!(update(&mut model, key(KeyCode::Char('9'))), vec![]);
        assert_eq!(model.selected, Some(3), "there is no n9");
    }

    #[test]
    fn time_keys_are_the_time_commands() {
        let mut model = paused_model();
        assert_eq!(update(&mut model, key(KeyCode::Char(' '))), run("resume"));
        assert_eq!(update(&mut model, key(KeyCode::Char('.'))), run("step"));
        assert_eq!(update(&mut model, key(KeyCode::Right)), run("step"));
        assert_eq!(update(&mut model, key(KeyCode::Left)), run("back 1"));
        assert_eq!(update(&mut model, key(KeyCode::Char('+'))), run("speed 2"));
        assert_eq!(
            update(&mut model, key(KeyCode::Char('-'))),
            run("speed 0.5")
        );
        model.cluster.mode = ClockMode::Realtime;
        assert_eq!(update(&mut model, key(KeyCode::Char(' '))), run("pause"));
        let back = update(&mut model, key(KeyCode::Left));
        assert_eq!(back, [run("pause"), run("back 1")].concat());
        let step = update(&mut model, key(KeyCode::Char('.')));
        assert_eq!(step, [run("pause"), run("step")].concat());
        assert_eq!(update(&mut model, key(KeyCode::Char('h'))), run("heal"));
        let w = key(KeyCode::Char('w'));
        assert_eq!(update(&mut model, w.clone()), vec![Effect::Write(1)]);
        assert_eq!(
            update(&mut model, w),
            vec![Effect::Write(2)],
            "a fresh key each time"
        );
    }

    #[test]
    fn the_command_line_runs_a_line_and_esc_cancels_it() {
        let mut model = paused_model();
        update(&mut model, key(KeyCode::Char(':')));
        for c in "stat".chars() {
            assert_eq!(update(&mut model, key(KeyCode::Char(c))), vec![]);
        }
        update(&mut model, key(KeyCode::Tab));
        assert_eq!(model.input.as_deref(), Some("status "), "Tab completes");
        assert_eq!(update(&mut model, key(KeyCode::Enter)), run("status"));
        assert_eq!(model.input, None);
        update(&mut model, key(KeyCode::Char(':')));
        update(&mut model, key(KeyCode::Char('q')));
        update(&mut model, key(KeyCode::Esc));
        assert!(
            model.input.is_none() && !model.quit,
            "q is a letter on the command line"
        );
        update(&mut model, key(KeyCode::Char('?')));
        assert!(model.help);
        update(&mut model, key(KeyCode::Char('q')));
        assert!(!model.help && !model.quit, "a key closes the help first");
        update(&mut model, key(KeyCode::Char('q')));
        assert!(model.quit);
        let mut model = paused_model();
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        update(&mut model, Msg::Key(ctrl_c));
        assert!(model.quit, "Ctrl-C leaves");
    }

    #[test]
    fn a_click_on_a_card_selects_its_node_and_a_resize_redraws() {
        let mut model = paused_model();
        let text = frame(&model, (120, 40));
        let (row, line) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains("n4 follower"))
            .expect("n4's card");
        let column = line[..line.find("n4 follower").expect("n4")]
            .chars()
            .count();
        update(&mut model, Msg::Click(column as u16 + 2, row as u16 + 1));
        assert_eq!(model.selected, Some(4));
        update(&mut model, Msg::Click(0, 39));
        assert_eq!(
            model.selected,
            Some(4),
            "a click elsewhere keeps the selection"
        );
        update(&mut model, Msg::Resize(80, 24));
        assert_eq!(model.size, (80, 24));
        assert!(frame(&model, (80, 24)).contains("cluster: 5 nodes"));
    }
}

/// Without a terminal, or with a file that cannot be used, `raftlab watch` says so once
/// and exits with 2; it never draws into a pipe.
#[test]
fn watch_without_a_terminal_or_with_a_bad_file_is_bad_input() {
    use assert_cmd::Command;
    use predicates::str::contains;

    Command::cargo_bin("raftlab")
        .expect("the binary")
        .arg("watch")
        .write_stdin("")
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("raftlab watch needs a terminal"));
    Command::cargo_bin("raftlab")
        .expect("the binary")
        .args(["watch", "no-such-lesson.yaml"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(contains("no-such-lesson.yaml: cannot read the file"));
}

/// From 10 to 25 nodes the cards stand in a grid, each with its role, term and timer.
#[test]
fn sixteen_nodes_stand_in_a_grid() {
    let mut session = session(16, 1, ClockMode::Virtual);
    run(&mut session, &["wait leader within 2s"]);
    let text = frame(&Model::new(view(&session), false, (200, 60)), (200, 60));
    assert_eq!(text.matches("┌n").count(), 16, "{text}");
    assert_eq!(
        text.matches("LEADER─").count(),
        1,
        "one leader card: {text}"
    );
    golden("grid_16_nodes_200x60", &text);
}

/// ← in a lesson: a new cluster, played again up to the step before, at the same instant
/// a first play reached it.
#[test]
fn a_lesson_goes_back_a_step_exactly() {
    use raftlab::repl::scenario;
    use raftlab::repl::watch::lesson::Lesson;

    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/clusters/leader-failover.yaml");
    let loaded = scenario::load(&path).expect("the lesson loads");
    let mut session = Session::new(loaded.config.clone()).expect("a cluster");
    let mut lesson = Lesson::new(loaded.clone());
    let mut times = Vec::new();
    for _ in 0..10 {
        lesson.play_next(&mut session, 1.0, false).expect("a step");
        times.push((
            lesson.next,
            view(&session).now_us,
            view(&session).events_emitted,
        ));
    }
    lesson.back(&mut session).expect("back a step");
    assert_eq!(lesson.next, 9);
    let now = view(&session);
    assert_eq!((lesson.next, now.now_us, now.events_emitted), times[8]);
}

/// A lesson held on its narration: the narration in the story pane, and on a terminal
/// too small for that pane, over the bottom of the pane shown.
#[test]
fn a_lesson_held_on_its_narration() {
    use raftlab::repl::scenario;
    use raftlab::repl::watch::lesson::Lesson;

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/clusters/step-by-step-election.yaml");
    let loaded = scenario::load(&path).expect("the lesson loads");
    let mut session = Session::new(loaded.config.clone()).expect("a cluster");
    let mut lesson = Lesson::new(loaded);
    while !lesson.held {
        lesson.play_next(&mut session, 1.0, false).expect("a step");
    }
    let mut model = Model::new(view(&session), false, (120, 40));
    model.lesson = Some(lesson);
    let wide = frame(&model, (120, 40));
    assert!(wide.contains("any key: go on") && wide.contains("lesson: step-by-step-election"));
    golden("lesson_held_120x40", &wide);
    let small = frame(&model, (80, 24));
    assert!(small.contains("any key: go on") && small.contains(" cluster: 3 nodes "));
    golden("lesson_held_80x24", &small);
}
