"""The agent's home on disk: where every file lives, and ``reverie init``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from reverie.memory import atomic


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def at(cls, path: str | Path) -> "Home":
        return cls(Path(path).expanduser().resolve())

    # the agent's files
    @property
    def working(self) -> Path:
        return self.root / "working.md"

    @property
    def perception_dir(self) -> Path:
        return self.root / "perception"

    @property
    def state_md(self) -> Path:
        return self.perception_dir / "state.md"

    @property
    def state_json(self) -> Path:
        return self.perception_dir / "state.json"

    @property
    def dreams_dir(self) -> Path:
        return self.root / "dreams"

    @property
    def latest_dream(self) -> Path:
        return self.dreams_dir / "latest.md"

    def dream(self, day: date) -> Path:
        return self.dreams_dir / f"{day.isoformat()}.md"

    @property
    def diary_dir(self) -> Path:
        return self.root / "diary"

    def diary(self, day: date) -> Path:
        return self.diary_dir / f"{day.isoformat()}.md"

    @property
    def memory_dir(self) -> Path:
        return self.root / "memory"

    @property
    def ledger(self) -> Path:
        return self.memory_dir / "ledger.jsonl"

    @property
    def page(self) -> Path:
        return self.root / "morning.html"

    # reverie's own files
    @property
    def private(self) -> Path:
        return self.root / ".reverie"

    @property
    def db(self) -> Path:
        return self.private / "reverie.db"

    @property
    def lock(self) -> Path:
        return self.private / "reverie.lock"

    @property
    def socket(self) -> Path:
        return self.private / "control.sock"

    @property
    def sessions_dir(self) -> Path:
        return self.private / "sessions"

    def session_log(self, session_id: str) -> Path:
        return self.sessions_dir / f"{session_id}.log"

    def inside(self, relative: str | Path) -> Path:
        """``relative`` resolved under the home; a path that escapes it is refused."""
        p = (self.root / relative).resolve()
        if p != self.root and self.root not in p.parents:
            raise ValueError(f"path {str(relative)!r} leaves the home {self.root}")
        return p

    def ensure(self) -> None:
        """Create the folders (never files) the daemon writes into. A folder of reverie's
        that is a symlink is refused (UnsafeFile), never followed or chmodded."""
        from reverie.memory.safe_read import check_folder

        for d in (self.private, self.perception_dir, self.dreams_dir, self.diary_dir,
                  self.memory_dir, self.sessions_dir):
            check_folder(d)
        for d in (self.perception_dir, self.dreams_dir, self.diary_dir, self.memory_dir,
                  self.sessions_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.private.chmod(0o700)


def _skeleton(name: str) -> str:
    return resources.files("reverie.memory").joinpath("skeleton", name).read_text(encoding="utf-8")


WORKING_TEMPLATE_NAME = "working.md"


def working_template() -> str:
    return _skeleton(WORKING_TEMPLATE_NAME)


def init_home(path: str | Path) -> list[tuple[Path, str]]:
    """Create a home at ``path``. Never overwrites: returns (path, "created"|"kept") rows."""
    home = Home.at(path)
    home.root.mkdir(parents=True, exist_ok=True)
    home.ensure()
    report: list[tuple[Path, str]] = []
    files = {
        home.root / "reverie.yaml": (_skeleton("reverie.yaml").replace("{home}", str(home.root)),
                                     atomic.SECRET_MODE),
        home.working: (working_template(), atomic.FILE_MODE),
        home.root / "feeds" / "local.xml": (_skeleton("local.xml"), atomic.FILE_MODE),
        home.memory_dir / "identity.md": (_skeleton("identity.md"), atomic.FILE_MODE),
        home.root / "posts" / "hello.md": (_skeleton("hello.md"), atomic.FILE_MODE),
    }
    for target, (text, mode) in files.items():
        if target.exists():
            report.append((target, "kept"))
        else:
            atomic.write_text(target, text, mode=mode)
            report.append((target, "created"))
    from reverie.memory.store import Store

    Store.open(home.db).close()
    report.append((home.db, "ready"))
    return report
