//! Text on a slide that never overlaps other text. Every text is a box estimated from its
//! position, anchor and size with the monospace metric of [`CHAR_WIDTH_EM`]; a label is
//! tried at each of its spots in turn (moved), then in its shorter forms (abbreviated),
//! and when none fits it is left out and counted, for the footer to say so.

use std::fmt::Write;

use crate::repl::export::style::{CHAR_WIDTH_EM, esc};

/// Room kept free around every text box, in pixels.
const PAD: f64 = 2.0;

/// Where a text's `x` is: its start, its middle or its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// A rectangle, `x0 <= x1` and `y0 <= y1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextBox {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl TextBox {
    /// Whether the two overlap by more than a hair.
    pub fn overlaps(&self, other: &TextBox) -> bool {
        self.x0 < other.x1 - 0.5
            && other.x0 < self.x1 - 0.5
            && self.y0 < other.y1 - 0.5
            && other.y0 < self.y1 - 0.5
    }

    fn grown(&self, by: f64) -> TextBox {
        TextBox {
            x0: self.x0 - by,
            y0: self.y0 - by,
            x1: self.x1 + by,
            y1: self.y1 + by,
        }
    }

    fn inside(&self, area: &TextBox) -> bool {
        self.x0 >= area.x0 && self.x1 <= area.x1 && self.y0 >= area.y0 && self.y1 <= area.y1
    }
}

/// The box a text of `size` pixels takes when drawn at (`x`, `baseline`): ascent 0.8 em
/// above the baseline, descent 0.25 em below, each character `CHAR_WIDTH_EM` wide.
pub fn text_box(x: f64, baseline: f64, text: &str, size: f64, anchor: Anchor) -> TextBox {
    let width = text.chars().count() as f64 * size * CHAR_WIDTH_EM;
    let x0 = match anchor {
        Anchor::Start => x,
        Anchor::Middle => x - width / 2.0,
        Anchor::End => x - width,
    };
    TextBox {
        x0,
        y0: baseline - 0.8 * size,
        x1: x0 + width,
        y1: baseline + 0.25 * size,
    }
}

/// How a text looks.
#[derive(Clone, Copy, Debug)]
pub struct Look<'a> {
    pub size: f64,
    pub colour: &'a str,
    pub bold: bool,
}

impl Look<'_> {
    pub const fn plain(size: f64) -> Look<'static> {
        Look {
            size,
            colour: "#222",
            bold: false,
        }
    }
}

/// A label to place: its spots in order of preference, and its texts from the whole to
/// the shortest.
pub struct Label<'a> {
    pub spots: Vec<(f64, f64, Anchor)>,
    pub texts: Vec<String>,
    pub look: Look<'a>,
}

/// The texts placed so far, and how many labels did not fit.
pub struct Placer {
    taken: Vec<TextBox>,
    /// Where labels may go.
    area: TextBox,
    pub left_out: usize,
    /// The `<text>` elements placed.
    pub layer: String,
}

impl Placer {
    pub fn new(area: TextBox) -> Placer {
        Placer {
            taken: Vec::new(),
            area,
            left_out: 0,
            layer: String::new(),
        }
    }

    /// A text that is always drawn (titles, names, the legend); it claims its box.
    pub fn fixed(&mut self, x: f64, baseline: f64, text: &str, anchor: Anchor, look: Look) {
        self.taken
            .push(text_box(x, baseline, text, look.size, anchor).grown(PAD));
        self.emit(x, baseline, text, anchor, look);
    }

    /// Whether a text would fit at a spot.
    pub fn fits(&self, x: f64, baseline: f64, text: &str, anchor: Anchor, size: f64) -> bool {
        let candidate = text_box(x, baseline, text, size, anchor).grown(PAD);
        candidate.inside(&self.area) && !self.taken.iter().any(|t| t.overlaps(&candidate))
    }

    /// Whether a text would overlap no other, wherever it is (outside the area too).
    pub fn fits_anywhere(
        &self,
        x: f64,
        baseline: f64,
        text: &str,
        anchor: Anchor,
        size: f64,
    ) -> bool {
        let candidate = text_box(x, baseline, text, size, anchor).grown(PAD);
        !self.taken.iter().any(|t| t.overlaps(&candidate))
    }

    /// Places `label` at the first spot where its whole text fits, else where a shorter
    /// form fits; else leaves it out and counts it. Whether it was placed.
    pub fn place(&mut self, label: &Label) -> bool {
        if self.try_place(label) {
            return true;
        }
        self.left_out += 1;
        false
    }

    /// As [`Placer::place`], without counting a label that does not fit (time ticks).
    pub fn try_place(&mut self, label: &Label) -> bool {
        for text in &label.texts {
            for &(x, y, anchor) in &label.spots {
                if self.fits(x, y, text, anchor, label.look.size) {
                    self.fixed(x, y, text, anchor, label.look);
                    return true;
                }
            }
        }
        false
    }

    fn emit(&mut self, x: f64, baseline: f64, text: &str, anchor: Anchor, look: Look) {
        let weight = if look.bold {
            r#" font-weight="bold""#
        } else {
            ""
        };
        let _ = writeln!(
            self.layer,
            r#"<text x="{x:.1}" y="{baseline:.1}" font-size="{}" text-anchor="{}" fill="{}"{weight}>{}</text>"#,
            look.size,
            anchor.svg(),
            look.colour,
            esc(text)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area() -> TextBox {
        TextBox {
            x0: 0.0,
            y0: 0.0,
            x1: 400.0,
            y1: 300.0,
        }
    }

    #[test]
    fn a_label_moves_then_shortens_then_is_left_out() {
        let mut placer = Placer::new(area());
        placer.fixed(100.0, 50.0, "occupied!", Anchor::Start, Look::plain(14.0));
        let label = Label {
            spots: vec![(100.0, 50.0, Anchor::Start), (100.0, 80.0, Anchor::Start)],
            texts: vec!["whole".into(), "w".into()],
            look: Look::plain(14.0),
        };
        assert!(placer.place(&label), "moved to its second spot");
        assert!(placer.layer.contains(r#"y="80.0""#));
        let wide = Label {
            spots: vec![(100.0, 50.0, Anchor::Start)],
            texts: vec!["far too long for here".into()],
            look: Look::plain(14.0),
        };
        assert!(!placer.place(&wide));
        assert_eq!(placer.left_out, 1);
    }

    #[test]
    fn text_outside_the_area_does_not_fit() {
        let placer = Placer::new(area());
        assert!(!placer.fits(395.0, 50.0, "abc", Anchor::Start, 14.0));
        assert!(placer.fits(395.0, 50.0, "abc", Anchor::End, 14.0));
    }
}
