"""督办: reporting periods, reports with evidence, review, closure, reminders, scoring."""
