"""reverie's process: config, scheduler, sessions, CLI, systemd glue."""

__version__ = "0.1.0"
