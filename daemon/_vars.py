"""The ``${VAR}`` of reverie.yaml, in one place: the config interpolates it
(daemon/config/interpolation.py) and the snapshot leaves out what depends on it
(daemon/snapshot.py). Only ``re``: `reverie status` imports this without the config."""

from __future__ import annotations

import re

NAME = r"[A-Za-z_][A-Za-z0-9_]*"  # an environment variable's (or credential's) name
# ${NAME} or ${NAME:-default}: group 1 the name, group 2 the default (None when not given)
VAR = re.compile(rf"\$\{{({NAME})(?::-([^}}]*))?\}}")
