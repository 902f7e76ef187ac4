"""The dossier's bag (RFC 8493, bagit-python): sha256 and sha512 manifests, and its fixity read back.

A bag is checkable by anyone with the `bagit` package (``bagit.py --validate BAG``); `dossier check` reads
it the same way and names each file that differs instead of stopping at the first count that does not add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archive.store.hashing import sha256_file

CHECKSUMS = ("sha256", "sha512")
TAG_MANIFEST = "tagmanifest-sha256.txt"


@dataclass(frozen=True)
class Problem:
    kind: str  # bag_invalid, file_changed, file_missing, unexpected_file
    where: str  # a path relative to the dossier folder
    detail: str


def make(folder: Path, info: dict[str, str]) -> None:
    """Turn ``folder`` (its files become data/) into a bag; bag-info gets ``info`` and Payload-Oxum."""
    import bagit

    bagit.make_bag(str(folder), bag_info=dict(info), checksums=list(CHECKSUMS))


def tag_manifest_sha256(folder: Path) -> str:
    """What the audit entry keeps of a bag: the tag manifest covers every manifest, which cover every file."""
    return sha256_file(folder / TAG_MANIFEST)


def problems(folder: Path, prefix: str) -> list[Problem]:
    """The bag's own verdict (bagit validate, every algorithm), then each payload file that differs, is
    missing or is not listed, by its sha256 manifest. ``prefix``: the bag folder as the caller names it."""
    import bagit

    out: list[Problem] = []
    try:
        bag = bagit.Bag(str(folder))
    except bagit.BagError as exc:
        return [Problem("bag_invalid", prefix, f"not a readable bag: {exc}")]
    try:
        bag.validate()
    except bagit.BagValidationError as exc:
        out.append(Problem("bag_invalid", prefix, f"bagit validate: {exc.message}"))
    listed = {path: digests.get("sha256") for path, digests in bag.entries.items()
              if path.startswith("data/")}
    on_disk = set(bag.payload_files())
    for path, digest in sorted(listed.items()):
        where = f"{prefix}/{path}"
        if path not in on_disk:
            out.append(Problem("file_missing", where, "listed in the bag's manifest, not in the bag"))
        elif sha256_file(folder / path) != digest:
            out.append(Problem("file_changed", where, "SHA-256 differs from the bag's manifest"))
    for path in sorted(on_disk - set(listed)):
        out.append(Problem("unexpected_file", f"{prefix}/{path}", "in the bag, not in its manifest"))
    return out
