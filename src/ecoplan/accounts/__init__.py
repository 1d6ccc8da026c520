"""People: local accounts with argon2 password hashes, roles, web sessions, login throttling."""
