//! What `raftlab bench` and `raftlab experiment` print: the reports of
//! [`crate::cluster::bench`] and [`crate::cluster::experiment`] as text for people, as one
//! JSON object for scripts, and the election experiment's CDFs as an SVG chart.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use serde_json::{Value, json};

use crate::cluster::bench::BenchReport;
use crate::cluster::experiment::{ElectionSetup, ElectionStats, RangeResult, TimeoutRange};

/// A bench report as a few lines of text.
pub fn bench_text(report: &BenchReport) -> String {
    let mut out = String::new();
    let secs = report.elapsed.as_secs_f64();
    let latency = &report.latency;
    let traffic = &report.traffic;
    let _ = writeln!(
        out,
        "{} nodes, {} clients ({} driver), {secs:.2}s",
        report.nodes,
        report.clients,
        report.driver.name()
    );
    let _ = writeln!(
        out,
        "throughput  {:.0} ops/s  ({} ops, {} failed)",
        report.ops_per_sec(),
        report.ops,
        report.failed
    );
    let _ = writeln!(
        out,
        "latency     p50 {}  p90 {}  p99 {}  max {}  mean {}",
        ms(latency.p50_us),
        ms(latency.p90_us),
        ms(latency.p99_us),
        ms(latency.max_us),
        ms(latency.mean_us as u64)
    );
    let _ = writeln!(
        out,
        "messages    {:.0}/s, AppendEntries {:.0}/s, {:.1} entries per AppendEntries",
        report.rate(traffic.messages),
        report.rate(traffic.append_entries),
        traffic.entries_per_append()
    );
    let _ = writeln!(
        out,
        "scheduler   {:.0} hand-offs/s, {:.1} ops per hand-off",
        report.rate(report.handoffs),
        report.ops as f64 / report.handoffs.max(1) as f64
    );
    let _ = writeln!(out, "{}", agreement_line(report));
    out
}

fn agreement_line(report: &BenchReport) -> String {
    let agreement = &report.agreement;
    let applied: Vec<String> = agreement
        .applied
        .iter()
        .map(|(node, index)| format!("n{node}={index}"))
        .collect();
    // The log also holds the writes answered after the window, so its index is above the
    // window's op count.
    let applied = format!("log applied to {}", applied.join(" "));
    if agreement.holds() {
        let clients = match agreement.matches_clients {
            Some(true) => ", as the clients saw",
            _ => " (some operations failed: not compared with the clients)",
        };
        return format!(
            "agreement   ok: every node applied the same writes{clients} ({applied}, \
             with the writes answered after the window)"
        );
    }
    let problem = if !agreement.settled {
        "the nodes did not all apply every entry in time"
    } else if !agreement.nodes_agree {
        "the nodes hold different key-value maps"
    } else {
        "the nodes' map differs from what the clients saw acknowledged"
    };
    format!("agreement   FAILED: {problem} ({applied})")
}

/// Microseconds as milliseconds with two decimals.
fn ms(us: u64) -> String {
    format!("{:.2}ms", us as f64 / 1000.0)
}

/// A bench report as one JSON object.
pub fn bench_json(report: &BenchReport) -> Value {
    let latency = &report.latency;
    let traffic = &report.traffic;
    let agreement = &report.agreement;
    json!({
        "nodes": report.nodes,
        "clients": report.clients,
        "driver": report.driver.name(),
        "duration_s": report.elapsed.as_secs_f64(),
        "ops": report.ops,
        "failed": report.failed,
        "ops_per_sec": report.ops_per_sec(),
        "p50_us": latency.p50_us,
        "p90_us": latency.p90_us,
        "p99_us": latency.p99_us,
        "max_us": latency.max_us,
        "mean_us": latency.mean_us,
        "messages_per_sec": report.rate(traffic.messages),
        "append_entries_per_sec": report.rate(traffic.append_entries),
        "entries_per_append": traffic.entries_per_append(),
        "handoffs_per_sec": report.rate(report.handoffs),
        "agreement": agreement.holds(),
        "applied": agreement.applied.iter().map(|(n, i)| json!({"node": n, "applied": i}))
            .collect::<Vec<_>>(),
    })
}

/// The election experiment as a table, one row per range, with the paper's figures after.
pub fn election_text(setup: &ElectionSetup, results: &[RangeResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "time from the leader's crash to a new leader (5 nodes, one-way delay {}..{}, \
         heartbeat = min timeout / 2, seed {}, limit {})",
        ms_short(setup.delay_min_us),
        ms_short(setup.delay_max_us),
        setup.seed,
        ms_short(setup.limit_us)
    );
    let _ = writeln!(
        out,
        "{:<12} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>14}",
        "timeout", "trials", "min", "median", "mean", "p90", "p99", "max", "not converged"
    );
    for result in results {
        let _ = writeln!(out, "{}", election_row(result));
    }
    let _ = writeln!(out, "\n{PAPER_FIGURES}");
    out
}

/// What the Raft paper reports for the same experiment (section 9.3, Figure 16).
pub const PAPER_FIGURES: &str = "\
The Raft paper (section 9.3, Figure 16), 5 servers, broadcast time about 15ms:
  150-150ms  most trials took longer than 10s (many split votes)
  150-155ms  median 287ms
  150-200ms  worst of 1000 trials 513ms
  12-24ms    mean 35ms, longest 152ms";

fn election_row(result: &RangeResult) -> String {
    let stats: ElectionStats = result.stats();
    let limit = result.limit_us;
    let cell = |value: Option<u64>| value.map_or(format!(">{}", ms_short(limit)), ms_short);
    let mean = if stats.mean_is_lower_bound {
        format!(">{}", ms_short(stats.mean_us as u64))
    } else {
        ms_short(stats.mean_us.round() as u64)
    };
    format!(
        "{:<12} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>14}",
        result.range.to_string(),
        stats.trials,
        cell(stats.min_us),
        cell(stats.median_us),
        mean,
        cell(stats.p90_us),
        cell(stats.p99_us),
        cell(stats.max_us),
        stats.not_converged
    )
}

/// Microseconds as whole milliseconds, or seconds from 10s up: `287ms`, `10s`.
fn ms_short(us: u64) -> String {
    if us >= 10_000_000 && us.is_multiple_of(1_000_000) {
        format!("{}s", us / 1_000_000)
    } else if us.is_multiple_of(1000) || us >= 10_000 {
        format!("{}ms", (us + 500) / 1000)
    } else {
        format!("{:.1}ms", us as f64 / 1000.0)
    }
}

/// A progress bar on stderr for `total` steps, hidden when stderr is not a terminal.
pub fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} trials  {elapsed} (eta {eta})")
    {
        bar.set_style(style);
    }
    bar
}

/// The colours of the chart's lines, one per range.
const LINE_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The chart's panels, as in Figure 16: the ranges that share the most common minimum
/// (the randomness varies), then the others with those whose maximum is twice the minimum
/// (the minimum scales). One panel when there is no such split.
fn panels(results: &[RangeResult]) -> Vec<(String, Vec<(usize, &RangeResult)>)> {
    let mut by_min: BTreeMap<u64, usize> = BTreeMap::new();
    for result in results {
        *by_min.entry(result.range.min_us).or_default() += 1;
    }
    let common = by_min.iter().max_by_key(|&(&min, &count)| (count, min));
    let all: Vec<(usize, &RangeResult)> = results.iter().enumerate().collect();
    let Some((&common_min, &count)) = common.filter(|&(_, &count)| count >= 2) else {
        return vec![("election timeouts".to_string(), all)];
    };
    let same_min: Vec<_> = all
        .iter()
        .copied()
        .filter(|(_, r)| r.range.min_us == common_min)
        .collect();
    let scaled: Vec<_> = all
        .iter()
        .copied()
        .filter(|(_, r)| r.range.min_us != common_min || r.range.max_us == 2 * r.range.min_us)
        .collect();
    if count == results.len() || scaled.is_empty() {
        return vec![("election timeouts".to_string(), all)];
    }
    let top = format!("minimum {}, randomness varies", ms_short(common_min));
    let bottom = "minimum scaled, randomness equal to it".to_string();
    vec![(top, same_min), (bottom, scaled)]
}

/// Writes the cumulative distribution of each range's times as an SVG chart: x the time
/// to elect a new leader (log scale), y the percentage of trials done by then.
pub fn write_election_svg(
    path: &Path,
    setup: &ElectionSetup,
    results: &[RangeResult],
) -> Result<(), String> {
    let panels = panels(results);
    let height = 430 * panels.len() as u32;
    // Drawn into memory, then written: a file that cannot be written is the system's own
    // error, and nothing half-drawn is left behind.
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let areas = root.split_evenly((panels.len(), 1));
        for ((title, series), area) in panels.iter().zip(&areas) {
            draw_panel(area, title, series, setup).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    std::fs::write(path, svg).map_err(|e| e.to_string())
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// The x axis of a panel, in milliseconds: from the power of ten below the fastest trial
/// to the trial limit, or to the power of ten above the slowest when every trial converged.
fn x_range_ms(series: &[(usize, &RangeResult)], limit_us: u64) -> (f64, f64) {
    let times = series.iter().flat_map(|(_, r)| r.times_us.iter());
    let fastest = times.clone().flatten().min().copied().unwrap_or(1_000);
    let slowest = times.clone().flatten().max().copied().unwrap_or(limit_us);
    let any_over = times.clone().any(Option::is_none);
    let lo = 10f64.powf((fastest as f64 / 1000.0).max(1.0).log10().floor());
    let hi = if any_over {
        limit_us as f64 / 1000.0
    } else {
        10f64.powf((slowest as f64 / 1000.0).log10().ceil())
    };
    (lo, hi.max(lo * 10.0))
}

fn draw_panel(
    area: &Area,
    title: &str,
    series: &[(usize, &RangeResult)],
    setup: &ElectionSetup,
) -> DrawResult {
    let (lo, hi) = x_range_ms(series, setup.limit_us);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Time to elect a new leader after the leader crashes ({title})"),
            ("sans-serif", 18),
        )
        .margin(12)
        .margin_right(30)
        .x_label_area_size(40)
        .y_label_area_size(56)
        // A little room below 0%: a range that rarely or never converges (150-150 ms, whose
        // votes split round after round) is a line at 0% that the x axis would hide.
        .build_cartesian_2d((lo..hi).log_scale(), -4f64..100f64)?;
    chart
        .configure_mesh()
        .x_desc("time without leader (ms)")
        .y_desc("cumulative percent")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| {
            if *y < 0.0 {
                String::new()
            } else {
                format!("{y:.0}%")
            }
        })
        .draw()?;
    for &(index, result) in series {
        let color = LINE_COLORS[index % LINE_COLORS.len()];
        let stats = result.stats();
        let label = if stats.not_converged > 0 {
            format!(
                "{}  ({} of {} over {})",
                result.range,
                stats.not_converged,
                stats.trials,
                ms_short(result.limit_us)
            )
        } else {
            result.range.to_string()
        };
        chart
            .draw_series(LineSeries::new(
                cdf_points(result, lo, hi),
                color.stroke_width(2),
            ))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
}

/// The steps of a range's cumulative distribution, from `lo` to `hi` milliseconds.
fn cdf_points(result: &RangeResult, lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let trials = result.times_us.len().max(1) as f64;
    let mut points = vec![(lo, 0.0)];
    let mut percent = 0.0;
    for (done, time_us) in result.converged_sorted().into_iter().enumerate() {
        let x = (time_us as f64 / 1000.0).clamp(lo, hi);
        points.push((x, percent));
        percent = 100.0 * (done + 1) as f64 / trials;
        points.push((x, percent));
    }
    points.push((hi, percent));
    points
}

/// `150-155ms`.
impl std::fmt::Display for TimeoutRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |us: u64| us as f64 / 1000.0;
        write!(f, "{}-{}ms", ms(self.min_us), ms(self.max_us))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cluster::bench::{Agreement, LatencySummary, LoadDriver, Traffic};

    fn report() -> BenchReport {
        BenchReport {
            nodes: 3,
            clients: 2,
            driver: LoadDriver::Loop,
            elapsed: Duration::from_secs(2),
            ops: 1000,
            failed: 0,
            latency: LatencySummary {
                p50_us: 100,
                p90_us: 200,
                p99_us: 300,
                max_us: 400,
                mean_us: 120.0,
            },
            traffic: Traffic {
                messages: 40,
                append_entries: 20,
                entries: 1000,
            },
            handoffs: 50,
            agreement: Agreement {
                settled: true,
                applied: vec![(1, 1001), (2, 1001), (3, 1001)],
                nodes_agree: true,
                matches_clients: Some(true),
            },
        }
    }

    #[test]
    fn the_json_has_the_keys_scripts_read() {
        let value = bench_json(&report());
        for key in ["ops_per_sec", "p50_us", "p99_us", "nodes", "clients"] {
            assert!(value.get(key).is_some(), "{key} missing from {value}");
        }
        assert_eq!(value["ops_per_sec"], 500.0);
        assert_eq!(value["entries_per_append"], 50.0);
        assert_eq!(value["agreement"], true);
    }

    #[test]
    fn the_text_names_throughput_latency_and_agreement() {
        let text = bench_text(&report());
        assert!(text.contains("500 ops/s"), "{text}");
        assert!(text.contains("p99 0.30ms"), "{text}");
        assert!(text.contains("agreement   ok"), "{text}");
    }
}
