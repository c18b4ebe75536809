//! Splitting a command line into words.
//!
//! A word is a run of characters other than whitespace, or a double-quoted string that may
//! hold spaces: `put greeting "hello world"`. Inside quotes `\"` stands for a quote and
//! `\\` for a backslash; no other escape exists, so a Windows path needs its backslashes
//! doubled only when it is quoted. A bare word may not contain a quote (`ab"cd` is an
//! error, not a concatenation as in a shell), and a closing quote must end the word.
//!
//! A quoted word is never a keyword: `put k "via" ...` stores the value `via`.

use std::iter::Peekable;
use std::str::CharIndices;

use thiserror::Error;

/// One word of a command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The word, with quotes and escapes removed.
    pub text: String,
    /// Whether the word was written in double quotes.
    pub quoted: bool,
    /// Byte offset of the word's first character (its opening quote, if quoted).
    pub start: usize,
    /// Byte offset just past the word's last character.
    pub end: usize,
}

impl Token {
    /// Whether this token is the bare (unquoted) keyword `word`.
    pub fn is_keyword(&self, word: &str) -> bool {
        !self.quoted && self.text == word
    }
}

/// A line that cannot be split into words.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TokenError {
    /// A quote was opened and never closed.
    #[error("unterminated quote starting at column {column}")]
    UnterminatedQuote { column: usize },
    /// A backslash inside quotes was followed by something other than `"` or `\`.
    #[error(r#"unknown escape '\{escape}' at column {column} (only \" and \\ are escapes)"#)]
    BadEscape { escape: char, column: usize },
    /// A quote in the middle of a bare word, or text glued to a closing quote.
    #[error("stray quote at column {column}: quote the whole word instead")]
    StrayQuote { column: usize },
}

type Chars<'a> = Peekable<CharIndices<'a>>;

/// Splits `line` into words.
pub fn tokenize(line: &str) -> Result<Vec<Token>, TokenError> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            tokens.push(quoted_word(line, &mut chars, start)?);
        } else {
            tokens.push(bare_word(line, &mut chars, start)?);
        }
    }
    Ok(tokens)
}

/// Splits `line` into words without failing: an open quote runs to the end of the line and
/// stray quotes are kept. For completion and hints, which see half-typed lines.
pub fn tokenize_lenient(line: &str) -> Vec<Token> {
    if let Ok(tokens) = tokenize(line) {
        return tokens;
    }
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in line
        .char_indices()
        .chain(std::iter::once((line.len(), ' ')))
    {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                let text: &str = line.get(s..i).unwrap_or_default();
                let quoted = text.starts_with('"');
                let text = text.trim_matches('"').to_string();
                tokens.push(Token {
                    text,
                    quoted,
                    start: s,
                    end: i,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    tokens
}

/// The 1-based column (in characters) of byte offset `byte` of `line`.
fn column(line: &str, byte: usize) -> usize {
    line.get(..byte).map_or(0, |s| s.chars().count()) + 1
}

fn bare_word(line: &str, chars: &mut Chars, start: usize) -> Result<Token, TokenError> {
    let mut text = String::new();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            break;
        }
        if c == '"' {
            return Err(TokenError::StrayQuote {
                column: column(line, i),
            });
        }
        text.push(c);
        chars.next();
    }
    let end = start + text.len();
    Ok(Token {
        text,
        quoted: false,
        start,
        end,
    })
}

fn quoted_word(line: &str, chars: &mut Chars, start: usize) -> Result<Token, TokenError> {
    let unterminated = TokenError::UnterminatedQuote {
        column: column(line, start),
    };
    chars.next(); // the opening quote
    let mut text = String::new();
    loop {
        let Some((i, c)) = chars.next() else {
            return Err(unterminated);
        };
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => text.push(e),
                Some((_, escape)) => {
                    return Err(TokenError::BadEscape {
                        escape,
                        column: column(line, i),
                    });
                }
                None => return Err(unterminated),
            },
            _ => text.push(c),
        }
    }
    let end = chars.peek().map_or(line.len(), |&(i, _)| i);
    match chars.peek() {
        Some(&(i, c)) if !c.is_whitespace() => Err(TokenError::StrayQuote {
            column: column(line, i),
        }),
        _ => Ok(Token {
            text,
            quoted: true,
            start,
            end,
        }),
    }
}

/// Words that mark an optional clause at the end of a command (`via NODE`, `within D`).
pub const CLAUSE_KEYWORDS: &[&str] = &["via", "within"];

/// Writes `word` so that [`tokenize`] reads it back as one word with the same text:
/// bare when it can be, quoted (with escapes) when it is empty, holds whitespace or
/// quotes, or is a clause keyword (so a value `within` is never read as a clause).
pub fn quote(word: &str) -> String {
    let needs_quotes = word.is_empty()
        || CLAUSE_KEYWORDS.contains(&word)
        || word.chars().any(|c| c.is_whitespace() || c == '"');
    if !needs_quotes {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
