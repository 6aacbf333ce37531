"""The one error the config raises: every problem already one line (file:line: key: what)."""

from __future__ import annotations


class ConfigError(Exception):
    """One or more problems, each already one line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems
