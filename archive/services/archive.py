"""An opened archive root: its layout, settings, who acts, its derived stores, and the lock every change takes."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from archive import settings as settings_mod
from archive.errors import AfterCommitError, ArchiveError, NotFound, StateError, StorageError
from archive.settings import Settings
from archive.store.atomic import before_commit
from archive.store.layout import Layout
from archive.store.locking import exclusive, shared_if_present

# The record store, the change protocol and the template register are imported by the methods that write:
# a reading command (`archive search`) opens the archive without loading them.

if TYPE_CHECKING:
    from archive.derived.stores import Register, SearchEngine


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def read_only(path: Path) -> bool:
    """A backup copy or write-once media: reading commands work there, write commands say so."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY) or not os.access(path, os.W_OK)
    except OSError:
        return False


# Accounts that name no person; an audit entry must say who acted (DESIGN.md invariant 9).
NOT_A_PERSON = frozenset({"root", "admin", "administrator", "system", "uid:0"})


def _actor(given: str | None, settings: Settings, write: bool) -> tuple[str, bool]:
    chosen = (given if given is not None else os.environ.get("ARCHIVE_ACTOR", "")).strip()
    if chosen:
        if write and settings.require_actor and chosen.lower() in NOT_A_PERSON:
            raise StateError(f"--actor {chosen!r} is an account, not a person: name who is acting")
        return chosen, True
    if write and settings.require_actor:
        raise StateError("who is acting? write commands need --actor NAME or $ARCHIVE_ACTOR "
                         "(archive.toml [audit] require_actor)")
    return default_actor(), False


@dataclass
class Archive:
    layout: Layout
    settings: Settings
    actor: str = field(default_factory=default_actor)
    actor_given: bool = True
    # Cases whose register row and index entries were dropped just before their folder was destroyed.
    forgotten: set[str] = field(default_factory=set)
    # The exact bytes of archive.toml these settings came from: a write runs only on the applied version.
    settings_bytes: bytes | None = None
    # In a bulk intake, refresh() notes each case in .index-pending instead of committing the index per case;
    # flush_index() (or the next writer) indexes them all with one writer.
    defer_index: bool = False

    @classmethod
    def open(cls, root: str | Path | None, actor: str | None = None, *, write: bool = False,
             settings_pending_ok: bool = False) -> Archive:
        """An existing archive. Write commands refuse a folder `archive init` did not make, a read-only one,
        and settings not put in force by `archive settings apply` (unless ``settings_pending_ok``: that command)."""
        layout = Layout.resolve(root)
        if not layout.root.is_dir():
            raise StateError(f"{layout.root}: archive root does not exist")
        if not layout.settings.exists():
            if write:
                raise StateError(f"{layout.root}: not an archive (no archive.toml); run `archive init` there first, "
                                 "or give --root")
            defaults = settings_mod.from_mapping({})
            return cls(layout, defaults, *_actor(actor, defaults, False))
        if write and read_only(layout.root):
            raise StateError(f"{layout.root}: the archive is read-only here (a backup or write-once copy); "
                             "write commands need a writable archive")
        with before_commit(f"{layout.settings.name} could not be read"):
            data = layout.settings.read_bytes()
        settings = settings_mod.from_bytes(data, layout.settings)
        if settings.audit_mirror is not None:
            layout = replace(layout, audit_mirror=settings.audit_mirror)
        arc = cls(layout, settings, *_actor(actor, settings, write), settings_bytes=data)
        if write and not settings_pending_ok:
            arc.refuse_unapplied_settings()
        return arc

    def refuse_unapplied_settings(self) -> None:
        from archive.integrity.settings_applied import unapplied

        if self.settings_bytes is not None and (why := unapplied(self.layout, self.settings_bytes)):
            raise StateError(why)

    def refuse_missing_derived(self) -> None:
        """A write refreshes the register and the index; one that is missing must be rebuilt first, never
        silently started empty beside records it does not know (init made both)."""
        if self.settings_bytes is None:
            return
        self.engine.check()  # an index of the engine archive.toml no longer names: rebuilt first, too
        missing = [name for name, present in (("register.sqlite", self.register.exists),
                                              ("the search index (index/)", self.engine.exists)) if not present]
        if missing:
            raise StateError(f"{' and '.join(missing)} missing; run `archive rebuild` to recreate "
                             f"{'it' if len(missing) == 1 else 'them'} from the records; nothing was written")

    def acting_as(self, signer_name: str, signer_title: str, key_id: str,
                  why: str = "a signature is its owner's act; act as that person or use their key") -> None:
        """A signature is its key owner's act: the audit actor must name that person (or becomes them
        when nobody was named and the settings allow that)."""
        if signer_name in self.actor:
            return
        if not self.actor_given:
            self.actor = f"{signer_title} {signer_name}"
            return
        raise StateError(f"--actor {self.actor!r} does not name {signer_name}, the owner of key {key_id}: {why}")

    @classmethod
    def create(cls, root: str | Path, actor: str | None = None) -> Archive:
        """`archive init` then open for writing: for scripts that set up a fresh root (bench, docs)."""
        init(Layout.resolve(root))
        return cls.open(root, actor or "bench", write=True)

    @property
    def register(self) -> Register:
        from archive.derived.stores import open_register

        # In an initialised archive (init made the stores) a missing one is damage, never an empty answer.
        return open_register(self.layout, self.settings, required=self.settings_bytes is not None)

    @property
    def engine(self) -> SearchEngine:
        from archive.derived.stores import open_engine

        return open_engine(self.layout, self.settings, required=self.settings_bytes is not None)

    @contextmanager
    def writing(self, *, settings_pending_ok: bool = False, derived_needed: bool = True) -> Iterator[None]:
        """Hold the archive lock and finish whatever a killed writer left before changing anything. Under the
        lock, the settings read at open must still be the applied ones, and the derived stores must exist
        (except for `settings apply`, and `rebuild`, which recreates them)."""
        from archive.store import audit, txn

        with exclusive(self.layout.lock):
            audit.check_last_line(self.layout.audit_log)  # before anything is changed, or published
            try:
                txn.recover(self.layout, self.refresh, self.actor)
            except OSError as exc:
                raise StorageError(f"an interrupted change could not be finished ({exc.strerror or exc}); "
                                   "nothing new was written; free space and run the command again") from None
            if not settings_pending_ok:
                self.refuse_unapplied_settings()
            if derived_needed:
                self.refuse_missing_derived()
                if not self.defer_index:
                    self.index_pending()
            yield

    @contextmanager
    def consistent(self) -> Iterator[bool]:
        """For readers that must not see a change half-made (verify): waits for a running writer, and writes
        nothing, not even to finish what a killed writer left. Yields whether such a change is open (its
        journal); the next write command's recovery finishes or undoes it."""
        with shared_if_present(self.layout.lock):
            yield self.layout.journal.exists()

    def refresh(self, number: str) -> None:
        """Bring the derived stores in line with one record folder; a destroyed record leaves them."""
        from archive.derived.register import row_of
        from archive.derived.stores import index_guard
        from archive.record import folders
        from archive.record import reader as casefile
        from archive.search.extract import TextLimits, document

        try:
            path = folders.find_record(self.layout, number)
        except NotFound:
            path = None
        if path is None:
            self.register.delete(number)
            if number not in self.forgotten:  # forget() already committed its index deletion
                with index_guard():
                    self.engine.delete(number)
            return
        self.forgotten.discard(number)
        view = casefile.load(path)
        self.register.upsert(row_of(view))
        if self.defer_index:
            # Noted durably before the change's journal is removed: a kill from here on leaves the case to
            # the next writer's index_pending(), and `archive index check` names it missing until then.
            # An OSError here is after the commit point: txn names the case and `archive rebuild`.
            with self.layout.index_pending.open("a", encoding="utf-8") as fh:
                fh.write(number + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            return
        with index_guard():
            self.engine.update([document(view, TextLimits.of(self.settings))])

    def flush_index(self) -> list[str]:
        """Index the cases a bulk intake published since the last flush, under the lock, with one writer."""
        with exclusive(self.layout.lock):
            return self.index_pending()

    def index_pending(self) -> list[str]:
        """Bring the index in line with every case noted in .index-pending (by a bulk intake, perhaps killed),
        in one commit; the note goes only once the index holds them. A failure leaves the cases to
        `archive rebuild` (index check names them), as a failed per-case refresh does."""
        from archive.derived.stores import index_guard
        from archive.record import folders
        from archive.record import reader as casefile
        from archive.search.extract import TextLimits, document

        pending = self.layout.index_pending
        if not pending.exists():
            return []
        numbers = list(dict.fromkeys(line.strip() for line in pending.read_text(encoding="utf-8").splitlines()
                                     if line.strip()))
        try:
            docs, gone = [], []
            limits = TextLimits.of(self.settings)
            for number in numbers:
                try:
                    path = folders.find_record(self.layout, number)
                except NotFound:
                    path = None
                if path is None:
                    gone.append(number)
                else:
                    docs.append(document(casefile.load(path), limits))
            with index_guard():
                if docs:
                    self.engine.update(docs)
                if gone:
                    self.engine.delete(*gone)
        except (ArchiveError, OSError) as exc:
            pending.unlink(missing_ok=True)
            raise AfterCommitError(f"cases {', '.join(numbers)} are archived, but the index was not updated "
                                   f"({exc}); run `archive rebuild`") from None
        pending.unlink()
        return numbers

    def forget(self, number: str) -> None:
        """A case about to be destroyed leaves the register and the index first: never findable once gone."""
        from archive.derived.stores import index_guard

        self.register.delete(number)
        with index_guard():
            self.engine.delete(number)
        self.forgotten.add(number)


def init(layout: Layout, actor: str | None = None, organisation: str | None = None) -> list[str]:
    """Create the layout; idempotent. Returns what it created. A new archive also gets its derived stores
    (so a missing one later is damage, not newness) and its first settings recorded as applied: with
    ``organisation`` named in them, so its first form is already headed by it. An existing archive.toml is
    never rewritten: a different ``organisation`` there is refused (it changes by `settings apply`)."""
    text = settings_mod.default_text(organisation)
    if organisation is not None and layout.settings.exists():
        current = settings_mod.load(layout.root).organisation
        if current != organisation.strip():
            raise StateError(f"{layout.settings}: exists and names {current!r}; change [organisation] name there "
                             "and run `archive settings apply --reason R`")
    from archive.derived.stores import open_engine, open_register
    from archive.documents import templates as templates_register
    from archive.integrity import settings_applied
    from archive.store.atomic import write_bytes

    created = []
    with before_commit(f"archive init {layout.root}"):
        layout.root.mkdir(parents=True, exist_ok=True)
        new = not (layout.records.is_dir() and any(layout.records.iterdir()))
        for folder in (layout.records, layout.audit_dir, layout.keys):
            if not folder.exists():
                folder.mkdir(parents=True)
                created.append(folder.name + "/")
        layout.work.mkdir(exist_ok=True)
        settings_created = not layout.settings.exists()
        if settings_created:
            write_bytes(layout.settings, text.encode("utf-8"))
            created.append(layout.settings.name)
        if templates_register.install_shipped(layout.templates):
            created.append("templates/")
    settings = settings_mod.load(layout.root)
    with exclusive(layout.lock):
        audited = layout.audit_log.exists() and layout.audit_log.stat().st_size > 0
        # Only a new archive's first file is applied by init; an older root's file needs a reason from a person.
        if settings_applied.last_applied(layout) is None and (settings_created or not audited) \
                and not layout.journal.exists():
            who = (actor or os.environ.get("ARCHIVE_ACTOR", "")).strip() or default_actor()
            settings_applied.record(layout, layout.settings.read_bytes(), who, "archive init: the first settings")
            created.append(f"{layout.applied_settings.name}/")
        if new:
            with before_commit(f"archive init {layout.root}"):
                for name, store in (("register.sqlite", open_register(layout, settings)),
                                    ("index/", open_engine(layout, settings))):
                    if not store.exists:
                        store.create()
                        created.append(name)
    return created
