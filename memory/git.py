"""Version the home's text files with git (``memory.git: true``).

The git command line, always as an argv list (never a shell), with its own identity
so it works on a machine without a global git config. Only text files are versioned:
the .gitignore written at init ignores everything except Markdown, JSON, JSON lines and
plain text, and always ignores ``.reverie/`` (the record of an old layout) and ``.consolidating/``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from reverie.memory import atomic, children
from reverie.memory.home import Home

TIMEOUT = 60  # seconds; a home's text files commit in well under a second

GITIGNORE = """\
# reverie versions the home's text files only
*
!*/
!*.md
!*.json
!*.jsonl
!*.txt
!.gitignore
# never: the store, session logs, the control socket; nor atomic-write leftovers
.reverie/
.consolidating/
.*.tmp
.*.lnk
"""

_IDENTITY = ["-c", "user.name=reverie", "-c", "user.email=reverie@localhost",
             "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"]


class GitError(Exception):
    """git is missing or failed (one clear line)."""


def commit_home(home: Home, message: str) -> str | None:
    """Commit the home's text files; the new commit's hash, or None when nothing changed."""
    exe = shutil.which("git")
    if exe is None:
        raise GitError("git is not installed or not on PATH (memory.git: true needs it)")
    root = home.root
    if not (root / ".git").exists():
        _git(exe, root, "init", "-q")
    if not (root / ".gitignore").exists():
        atomic.write_text(root / ".gitignore", GITIGNORE)
    _git(exe, root, "add", "-A", "--", ".")
    # a home whose own .gitignore forgot .reverie/ must still never version the store
    _git(exe, root, "rm", "-r", "-q", "--cached", "--ignore-unmatch", "--",
         ".reverie", ".consolidating")
    if _git(exe, root, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return None
    _git(exe, root, "commit", "-q", "--no-verify", "-F", "-", input=message)
    return _git(exe, root, "rev-parse", "HEAD").stdout.strip()


def _git(exe: str, root: Path, *args: str, check: bool = True,
         input: str | None = None) -> subprocess.CompletedProcess:
    # Only the basics: none of the daemon's keys (a clean or smudge filter in the home's
    # .git/config would see them), and no GIT_* of an enclosing git redirecting us.
    env = children.child_env({"LC_ALL": "C"})
    try:
        proc = children.run([exe, *_IDENTITY, "-C", str(root), *args], env=env,
                            input=input, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} in {root} took longer than {TIMEOUT} s") from None
    except OSError as e:
        raise GitError(f"git could not run: {e.strerror or e}") from None
    if check and proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        worst = [ln for ln in lines if ln.startswith(("fatal:", "error:"))] or lines
        why = worst[-1] if worst else f"exit code {proc.returncode}"
        raise GitError(f"git {args[0]} in {root} failed: {why}")
    return proc
