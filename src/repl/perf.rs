//! What `raftlab bench` and `raftlab experiment` print: the reports of
//! [`crate::cluster::bench`] and [`crate::cluster::experiment`] as text for people, as one
//! JSON object for scripts, and the election experiment's CDFs as an SVG chart.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::cluster::bench::BenchReport;

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
    let applied = applied.join(" ");
    if agreement.holds() {
        let clients = match agreement.matches_clients {
            Some(true) => ", as the clients saw",
            _ => " (some operations failed: not compared with the clients)",
        };
        return format!("agreement   ok: every node applied the same writes{clients} ({applied})");
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
