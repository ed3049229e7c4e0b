"""What the seeding Job pushes, as pure data: one archive per seeded folder, and the digest that names the Job.

An archive is a gzipped tar of the folder's files in path order, with fixed owners, modes and times, so the same
files give the same bytes on every machine: the ConfigMap holding it changes only when a file does.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Seed", "folder_files", "seed_archive", "seeds_digest"]


@dataclass(frozen=True)
class Seed:
    repository: str
    """Repository name on the Git server, e.g. `platform-gitops`."""
    folder: Path
    """The local folder whose files become the repository's tree."""


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by POSIX path relative to it; `.git` folders are not content."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }


def seed_archive(files: Mapping[str, bytes]) -> bytes:
    """A reproducible .tar.gz of `files`."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    # mtime=0: gzip would otherwise stamp the current time into the header.
    return gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)


def seeds_digest(contents: Mapping[str, Mapping[str, bytes]], script: str, image: str) -> str:
    """SHA-256 over every repository's name, file paths and bytes, the seeding script and the Job's image: any
    change names a new Job (a Job's pod template cannot be updated in place)."""
    digest = hashlib.sha256()
    digest.update(f"{image}\0".encode())
    digest.update(script.encode())
    for repository in sorted(contents):
        digest.update(f"\0repo\0{repository}\0".encode())
        for name, data in sorted(contents[repository].items()):
            digest.update(f"\0file\0{name}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()
