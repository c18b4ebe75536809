use super::*;

#[test]
#[ignore]
fn timing_probe() {
    for (seed, secs) in [(1u64, 1u64), (2, 1), (1, 3)] {
        let options = CheckOptions {
            time_us: secs * 1_000_000,
            ..CheckOptions::default()
        };
        let t = std::time::Instant::now();
        let report = explore(&setup(seed, &options));
        println!(
            "seed {seed} {secs}s: {:?} handoffs={} ops={} actions={} end={} failure={:?} undecided={:?}",
            t.elapsed(),
            report.handoffs,
            report.operations,
            report.schedule.len(),
            report.end_us,
            report.failure.as_ref().map(|f| f.to_string()),
            report.undecided_key
        );
    }
}
