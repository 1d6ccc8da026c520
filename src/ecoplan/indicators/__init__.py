"""Plan targets and their measured values (tasks 8, 13, 14): the indicator registry, the project
ledger whose counts and areas roll up into it, and the indicators computed from layers
(森林覆盖率, 湿地保护率)."""
