"""The room domain: participants, roles, the lobby and its rules. Pure Python, no I/O."""
