//! The time axis of a slide and the split of a long run into pages.
//!
//! Time runs left to right, not to one scale: within a burst of messages one millisecond
//! is [`PX_PER_MS`] pixels, and a quiet stretch (a heartbeat interval, an election
//! timeout) is drawn no longer than [`MAX_GAP_PX`]; one that hides more than that is
//! marked as a break. The whole run is laid along one such axis, then cut into pages of
//! one slide's width, each cut made where no message is on the wire when one can be.

/// Pixels per millisecond inside a burst.
pub const PX_PER_MS: f64 = 40.0;
/// The longest a quiet stretch is drawn.
pub const MAX_GAP_PX: f64 = 56.0;

/// Positions along the run: the times at which something is drawn, each with its x.
pub struct Axis {
    times: Vec<u64>,
    xs: Vec<f64>,
}

/// One page: the times from `first` to `last` (indexes into the axis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSpan {
    pub first: usize,
    pub last: usize,
}

impl Axis {
    pub fn new(mut times: Vec<u64>) -> Axis {
        times.sort_unstable();
        times.dedup();
        if times.is_empty() {
            times.push(0);
        }
        let mut xs = Vec::with_capacity(times.len());
        let mut x = 0.0;
        for (i, &t) in times.iter().enumerate() {
            if i > 0 {
                x += gap_px(t - times[i - 1]);
            }
            xs.push(x);
        }
        Axis { times, xs }
    }

    pub fn time(&self, index: usize) -> u64 {
        self.times.get(index).copied().unwrap_or(0)
    }

    /// The x of a time: exact at the axis's times, linear between them.
    pub fn x(&self, time_us: u64) -> f64 {
        let i = self.times.partition_point(|&t| t < time_us);
        match (self.times.get(i), i.checked_sub(1)) {
            (Some(&t), _) if t == time_us => self.xs[i],
            (Some(&t1), Some(p)) => {
                let t0 = self.times[p];
                let f = (time_us - t0) as f64 / (t1 - t0) as f64;
                self.xs[p] + f * (self.xs[i] - self.xs[p])
            }
            (Some(_), None) => self.xs.first().copied().unwrap_or(0.0),
            (None, _) => self.xs.last().copied().unwrap_or(0.0),
        }
    }

    /// The quiet stretches drawn shorter than they were: (time before, time after).
    pub fn breaks(&self) -> Vec<(u64, u64)> {
        self.times
            .windows(2)
            .filter(|w| (w[1] - w[0]) as f64 / 1000.0 * PX_PER_MS > MAX_GAP_PX * 1.5)
            .map(|w| (w[0], w[1]))
            .collect()
    }

    /// Cuts the axis into pages at most `width` pixels wide. `spans` are the (start, end)
    /// times of the messages: a cut goes, where it can, where none is on the wire.
    pub fn pages(&self, width: f64, spans: &[(u64, u64)]) -> Vec<PageSpan> {
        let open = self.open_gaps(spans);
        let mut pages = Vec::new();
        let mut first = 0;
        let mut i = 1;
        while i < self.times.len() {
            if self.xs[i] - self.xs[first] <= width {
                i += 1;
                continue;
            }
            // Cut before some time in first+1..=i: the latest gap with nothing open.
            let cut = (first + 1..=i).rev().find(|&j| !open[j - 1]).unwrap_or(i);
            let cut = cut.max(first + 1);
            pages.push(PageSpan {
                first,
                last: cut - 1,
            });
            first = cut;
            i = cut + 1;
        }
        pages.push(PageSpan {
            first,
            last: self.times.len() - 1,
        });
        pages
    }

    /// For each gap between consecutive times, whether a message is on the wire over it.
    fn open_gaps(&self, spans: &[(u64, u64)]) -> Vec<bool> {
        let gaps = self.times.len().saturating_sub(1);
        let mut depth = vec![0i64; gaps + 1];
        for &(start, end) in spans {
            let a = self.times.partition_point(|&t| t <= start);
            let b = self.times.partition_point(|&t| t < end);
            // Gaps a-1 ..= b-1 lie between the start and the end.
            if a >= 1 && b > a - 1 {
                depth[a - 1] += 1;
                depth[b.min(gaps)] -= 1;
            }
        }
        let mut open = Vec::with_capacity(gaps);
        let mut level = 0;
        for d in depth.iter().take(gaps) {
            level += d;
            open.push(level > 0);
        }
        open
    }
}

/// How wide a stretch of `us` microseconds is drawn.
fn gap_px(us: u64) -> f64 {
    (us as f64 / 1000.0 * PX_PER_MS).min(MAX_GAP_PX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_are_to_scale_and_quiet_stretches_are_capped() {
        let axis = Axis::new(vec![0, 1000, 2000, 502_000]);
        assert_eq!(axis.x(1000), PX_PER_MS);
        assert_eq!(axis.x(2000), 2.0 * PX_PER_MS);
        assert_eq!(axis.x(502_000), 2.0 * PX_PER_MS + MAX_GAP_PX);
        assert_eq!(axis.x(1500), 1.5 * PX_PER_MS);
        assert_eq!(axis.breaks(), vec![(2000, 502_000)]);
    }

    #[test]
    fn a_long_run_is_cut_where_no_message_is_on_the_wire() {
        // A time every 100ms, each gap drawn MAX_GAP_PX wide.
        let times: Vec<u64> = (0..40).map(|i| i * 100_000).collect();
        let axis = Axis::new(times);
        let spans = [(0, 450_000)];
        let pages = axis.pages(10.0 * MAX_GAP_PX, &spans);
        assert!(pages.len() >= 4, "{pages:?}");
        assert_eq!(pages[0].first, 0);
        assert!(pages[0].last >= 5, "no cut while the message is in flight");
        for pair in pages.windows(2) {
            assert_eq!(pair[0].last + 1, pair[1].first, "pages follow each other");
        }
        assert_eq!(pages.last().map(|p| p.last), Some(39));
    }
}
