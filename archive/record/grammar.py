"""The file grammar of one record folder: every name a record may hold, and which folders later changes add to.

    intake.json  case.json  attachments/      written once, at intake
    text/N.txt                                the text of attachment N (1-based), extracted once at intake
                                              (named by position: an attachment's name may carry a person's)
    stages/STAGE.vN.json                      one new version per stage update (a correction is a new version)
    documents/ID.vN.docx|.pdf|.meta.json      one new version per render or signature
    signatures/ID.vN.MEANING.SIGNER.json      one per signature
    holds/hold.vN.json                        legal holds placed and released
    manifest.json                             every other file with its size and SHA-256; rewritten per change
"""

from __future__ import annotations

import re
from typing import Final

from archive.store.manifest import MANIFEST

CASE_FILE: Final = "case.json"
INTAKE_FILE: Final = "intake.json"
ATTACHMENTS_DIR: Final = "attachments"
TEXT_DIR: Final = "text"
STAGES_DIR: Final = "stages"
DOCUMENTS_DIR: Final = "documents"
SIGNATURES_DIR: Final = "signatures"
HOLDS_DIR: Final = "holds"

WRITTEN_AT_INTAKE: Final = (INTAKE_FILE, CASE_FILE, ATTACHMENTS_DIR, TEXT_DIR, DOCUMENTS_DIR, MANIFEST)
# Folders of a published record that later changes add files to; nothing else in a record ever changes.
CHANGEABLE: Final = (STAGES_DIR, DOCUMENTS_DIR, SIGNATURES_DIR, HOLDS_DIR)

# Versioned archive files: STEM.vN.EXT, where a document's sidecar is STEM.vN.meta.json.
VERSIONED: Final = re.compile(r"^(?P<stem>.+)\.v(?P<v>\d+)(?P<ext>(?:\.meta)?\.[a-z]+)$")
TOMBSTONE_SUFFIX: Final = ".tombstone.json"


def attachment_text(position: int) -> str:
    """Where the text of the record's attachment at ``position`` (1-based) is kept."""
    return f"{TEXT_DIR}/{position}.txt"


def versioned(stem: str, version: int, ext: str) -> str:
    return f"{stem}.v{version}{ext}"


def document_id(path: str) -> str | None:
    """``documents/record-form.v3.docx`` → ``record-form``; None for anything that is not a document."""
    folder, _, name = path.rpartition("/")
    m = VERSIONED.match(name)
    return m.group("stem") if m and folder == DOCUMENTS_DIR else None


def supersedes(path: str, present: set[str]) -> str | None:
    """The earlier version a new versioned file replaces, if the record holds one."""
    folder, _, name = path.rpartition("/")
    m = VERSIONED.match(name)
    if not m or int(m.group("v")) < 2:
        return None
    for v in range(int(m.group("v")) - 1, 0, -1):
        older = f"{folder}/{versioned(m.group('stem'), v, m.group('ext'))}"
        if older in present:
            return older
    return None
