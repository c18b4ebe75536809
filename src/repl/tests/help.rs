//! `help` is made from the table and cannot drift from it.

use crate::repl::table::{COMMANDS, CONDITIONS, Group, help_command, help_overview};

#[test]
fn help_lists_every_command_under_its_group() {
    let overview = help_overview();
    for spec in COMMANDS {
        assert!(
            overview.contains(spec.usage),
            "{} missing from help",
            spec.name
        );
        assert!(
            overview.contains(spec.summary),
            "{} summary missing",
            spec.name
        );
    }
    for group in Group::ALL {
        assert!(
            overview.contains(&format!("\n{}:\n", group.name())),
            "{group:?}"
        );
    }
}

#[test]
fn help_put_shows_usage_description_and_example() {
    let text = help_command("put").unwrap_or_default();
    assert!(text.contains("usage: put K V [via NODE]"), "{text}");
    assert!(text.contains("example: put x 1 via 2"), "{text}");
    assert!(text.contains("double quotes"), "{text}");
}

#[test]
fn help_on_a_first_word_shows_every_command_it_starts() {
    let text = help_command("net").unwrap_or_default();
    for usage in [
        "usage: net\n",
        "net drop P",
        "net delay D[..D]",
        "net dup P",
        "net reorder",
    ] {
        assert!(text.contains(usage), "{usage} in {text}");
    }
    let text = help_command("wait").unwrap_or_default();
    assert_eq!(text.matches("usage: wait").count(), 3, "{text}");
}

#[test]
fn help_on_a_command_with_a_condition_lists_the_conditions() {
    let text = help_command("expect").unwrap_or_default();
    for condition in CONDITIONS {
        assert!(
            text.contains(condition.usage),
            "{} in {text}",
            condition.name
        );
    }
}

#[test]
fn help_knows_aliases_and_every_command() {
    assert!(
        help_command("exit")
            .unwrap_or_default()
            .contains("usage: quit")
    );
    assert!(help_command("bogus").is_none());
    for spec in COMMANDS {
        assert!(
            help_command(spec.name).is_some_and(|t| t.contains(spec.example)),
            "{}",
            spec.name
        );
    }
}

#[test]
fn help_of_status_and_log_names_the_summary_threshold() {
    let above = format!("more than {} nodes", crate::repl::view::SUMMARY_ABOVE_NODES);
    for topic in ["status", "log"] {
        let text = help_command(topic).unwrap_or_default();
        assert!(text.contains(&above), "help {topic}: {text}");
        assert!(
            text.contains(&format!("`{topic} all`")),
            "help {topic}: {text}"
        );
    }
}

#[test]
fn every_entry_s_example_runs_as_that_entry_s_command() {
    for spec in COMMANDS {
        let command = crate::repl::parse::parse(spec.example);
        let Ok(Some(command)) = command else {
            panic!("{}: example {:?} does not parse", spec.name, spec.example);
        };
        assert_eq!(command.name(), spec.name, "{}", spec.example);
        assert_eq!(command.effect(), spec.effect, "{}", spec.example);
    }
}

#[test]
fn what_is_journalled_and_what_reports_its_events_comes_from_the_table() {
    let effect = |line: &str| match crate::repl::parse::parse(line) {
        Ok(Some(command)) => (command.effect().journalled(), command.reports_events()),
        other => panic!("{line}: {other:?}"),
    };
    assert_eq!(effect("status"), (false, false));
    assert_eq!(effect("export run.svg --slides"), (false, false));
    assert_eq!(effect("export log logs.svg --slides"), (false, false));
    assert_eq!(effect("put x 1"), (true, false));
    assert_eq!(effect("step 2"), (true, true));
    assert_eq!(effect("try campaign 1"), (true, true));
    assert_eq!(effect("try put x 1"), (true, false));
}
