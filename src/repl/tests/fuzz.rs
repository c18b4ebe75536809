//! No input makes the parser, the resolver, completion or hints panic: 20,000 random and
//! malformed lines. A line that parses also prints back to itself.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::repl::command::parse;
use crate::repl::complete::{CompletionContext, complete, usage_hint};
use crate::repl::table::{COMMANDS, CONDITIONS};

const VOCABULARY: &[&str] = &[
    "1",
    "n1",
    "n0",
    "0",
    "5",
    "9",
    "leader",
    "all",
    "via",
    "within",
    "->",
    "-",
    "|",
    ",",
    "1,2",
    "|3",
    "..",
    "1ms..5ms",
    "5ms..1ms",
    "150ms",
    "1.5s",
    "300us",
    "-5ms",
    "1e400",
    "NaN",
    "inf",
    "0.5",
    "1.5",
    "-1",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "on",
    "off",
    "changes",
    "-v",
    "\"",
    "\"a b\"",
    "\\",
    "\"\\q\"",
    "#",
    "try",
    "say",
    "x",
    "follower",
    "down",
    "safe",
    "µs",
    "é",
    "18446744073709551616",
    "99999999999999999999999999",
    ".",
    "..5",
    "none",
    "\u{0}",
    "\t",
];

fn soup(rng: &mut ChaCha8Rng) -> String {
    let mut words: Vec<String> = Vec::new();
    let count = rng.random_range(0..8);
    if rng.random_bool(0.8) {
        let spec = &COMMANDS[rng.random_range(0..COMMANDS.len())];
        words.push(spec.name.to_string());
    }
    for _ in 0..count {
        let word = match rng.random_range(0..3) {
            0 => CONDITIONS[rng.random_range(0..CONDITIONS.len())]
                .name
                .to_string(),
            _ => VOCABULARY[rng.random_range(0..VOCABULARY.len())].to_string(),
        };
        words.push(word);
    }
    let sep = if rng.random_bool(0.8) { " " } else { "" };
    words.join(sep)
}

fn random_line(rng: &mut ChaCha8Rng, i: usize) -> String {
    match i % 5 {
        0 => {
            let bytes: Vec<u8> = (0..rng.random_range(0..64)).map(|_| rng.random()).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        1 => (0..rng.random_range(0..32))
            .filter_map(|_| char::from_u32(rng.random_range(0..0x11_0000)))
            .collect(),
        2 if i % 500 == 2 => {
            let word = VOCABULARY[rng.random_range(0..VOCABULARY.len())];
            let prefix = ["try ", "partition ", "log ", "say ", "expect get ", ""][i % 6];
            format!("{prefix}{}", vec![word; 20_000].join(" "))
        }
        _ => soup(rng),
    }
}

#[test]
fn random_and_malformed_lines_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let ctx = CompletionContext {
        node_ids: vec![1, 2, 3, 4, 5],
        keys: vec!["x".into()],
    };
    let mut parsed = 0;
    for i in 0..20_000 {
        let line = random_line(&mut rng, i);
        if let Ok(Some(command)) = parse(&line) {
            parsed += 1;
            let _ = command.check_nodes(&[1, 2, 3, 4, 5]);
            let text = command.to_string();
            assert_eq!(
                parse(&text),
                Ok(Some(command)),
                "{line:?} printed as {text:?}"
            );
        }
        let pos = rng.random_range(0..=line.len() + 2);
        let _ = complete(&line, pos, &ctx);
        let _ = usage_hint(&line);
    }
    // The soups are built to reach deep into the parse functions, not only fail early.
    assert!(parsed > 500, "only {parsed} lines parsed");
}

#[test]
fn nested_try_is_refused_without_deep_recursion() {
    let line = "try ".repeat(100_000) + "status";
    assert!(parse(&line).is_err());
}
