//! The session's journal, kept compact: a REPL left taking commands for an hour journals
//! millions of them, and `save` and `back` need every one.
//!
//! An entry is its command line (the text `save` writes, which parses back to the same
//! command: the round-trip property of [`crate::repl::command`]) and three numbers: the
//! cluster time it ran at, the time it ended, and the scheduler's hand-off count before it.
//! Entries follow each other in one byte buffer, the numbers as differences from the
//! entry before (times and hand-offs never go back), each a LEB128 varint: a `put` a
//! millisecond after the last costs about its text and four bytes. A command whose line
//! would not parse back to it exactly keeps the command itself beside the buffer, so that
//! `back` replays exactly what ran.

use std::collections::BTreeMap;

use crate::repl::command::{Command, parse};

/// One journalled command: when it ran, after how many hand-offs, and what it was.
#[derive(Clone, Debug)]
pub(super) struct Journalled {
    pub time_us: u64,
    pub end_us: u64,
    pub handoffs: u64,
    pub command: Command,
}

/// The journal: entries in the order they ran.
#[derive(Debug, Default)]
pub(super) struct Journal {
    bytes: Vec<u8>,
    len: usize,
    /// The last entry's numbers, which the next one's differences start from.
    last: Numbers,
    /// Commands whose line does not parse back to them, by position.
    exact: BTreeMap<usize, Command>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Numbers {
    time_us: u64,
    end_us: u64,
    handoffs: u64,
}

impl Journal {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn push(&mut self, entry: Journalled) {
        let numbers = Numbers {
            time_us: entry.time_us,
            end_us: entry.end_us,
            handoffs: entry.handoffs,
        };
        // Differences wrap: entries come in order, so they are small; one that went back
        // would cost ten bytes, not correctness.
        put_unsigned(
            &mut self.bytes,
            numbers.time_us.wrapping_sub(self.last.time_us),
        );
        put_unsigned(
            &mut self.bytes,
            numbers.end_us.wrapping_sub(numbers.time_us),
        );
        put_unsigned(
            &mut self.bytes,
            numbers.handoffs.wrapping_sub(self.last.handoffs),
        );
        let line = entry.command.to_string();
        if !matches!(parse(&line), Ok(Some(ref parsed)) if *parsed == entry.command) {
            self.exact.insert(self.len, entry.command);
        }
        put_unsigned(&mut self.bytes, line.len() as u64);
        self.bytes.extend_from_slice(line.as_bytes());
        self.last = numbers;
        self.len += 1;
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = Journalled> + '_ {
        let mut at = 0;
        let mut last = Numbers::default();
        (0..self.len).map(move |position| {
            let time_us = last
                .time_us
                .wrapping_add(take_unsigned(&self.bytes, &mut at));
            let end_us = time_us.wrapping_add(take_unsigned(&self.bytes, &mut at));
            let handoffs = last
                .handoffs
                .wrapping_add(take_unsigned(&self.bytes, &mut at));
            let length = take_unsigned(&self.bytes, &mut at) as usize;
            let text = &self.bytes[at..at + length];
            at += length;
            last = Numbers {
                time_us,
                end_us,
                handoffs,
            };
            let command = match self.exact.get(&position) {
                Some(command) => command.clone(),
                None => {
                    let line = String::from_utf8_lossy(text);
                    let parsed = parse(&line);
                    // Checked when pushed: the line parses back to its command.
                    parsed.ok().flatten().unwrap_or(Command::Say {
                        text: line.into_owned(),
                    })
                }
            };
            Journalled {
                time_us,
                end_us,
                handoffs,
                command,
            }
        })
    }

    /// How many bytes the journal holds (its buffer and the commands kept whole).
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes.len() + self.exact.len() * std::mem::size_of::<Command>()
    }
}

/// LEB128: seven bits a byte, low first, the high bit set on all but the last.
fn put_unsigned(bytes: &mut Vec<u8>, mut value: u64) {
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            bytes.push(low);
            return;
        }
        bytes.push(low | 0x80);
    }
}

fn take_unsigned(bytes: &[u8], at: &mut usize) -> u64 {
    let mut value = 0u64;
    let mut shift = 0;
    while let Some(&byte) = bytes.get(*at) {
        *at += 1;
        if shift < 64 {
            value |= u64::from(byte & 0x7f) << shift;
        }
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(time_us: u64, end_us: u64, handoffs: u64, line: &str) -> Journalled {
        let command = parse(line).ok().flatten().expect("a command");
        Journalled {
            time_us,
            end_us,
            handoffs,
            command,
        }
    }

    #[test]
    fn entries_come_back_as_they_went_in() {
        let entries = [
            entry(0, 0, 0, "net delay 500us..500us"),
            entry(0, 1000, 0, "put x 1"),
            entry(1000, 1000, 17, "kill 2"),
            entry(5_000_000, 6_000_000, 123_456, "say hello, \"world\""),
            entry(u64::MAX - 1, u64::MAX, u64::MAX, "get x via 3"),
            entry(7, 7, 3, "partition 1,2 | 3,4,5"),
        ];
        let mut journal = Journal::default();
        for e in &entries {
            journal.push(e.clone());
        }
        assert_eq!(journal.len(), entries.len());
        let back: Vec<Journalled> = journal.iter().collect();
        for (got, want) in back.iter().zip(&entries) {
            assert_eq!(
                (got.time_us, got.end_us, got.handoffs),
                (want.time_us, want.end_us, want.handoffs)
            );
            assert_eq!(got.command, want.command);
        }
    }

    #[test]
    fn a_put_a_millisecond_after_the_last_costs_its_text_and_a_few_bytes() {
        let mut journal = Journal::default();
        for i in 0..1000u64 {
            let line = format!("put k{} {i}", i % 100);
            let time_us = 1000 * i;
            journal.push(entry(time_us, time_us + 1000, 3 * i, &line));
        }
        let text: usize = (0..1000u64)
            .map(|i| format!("put k{} {i}", i % 100).len())
            .sum();
        assert!(
            journal.bytes() <= text + 6 * 1000,
            "{} bytes",
            journal.bytes()
        );
    }
}
