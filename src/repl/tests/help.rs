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
