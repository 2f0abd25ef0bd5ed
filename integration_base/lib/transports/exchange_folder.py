# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""An exchange folder, whatever carries the files: the local disk (``file://``) or SFTP (``sftp://``).

Partners that trade files put them in a folder and take them from one. Both
carriers offer the same handful of file operations (:class:`Files`), so the
rules live here once and ``folder.py`` and ``sftp.py`` only say how to reach
the folder.

Outbound, a file is written under a temporary name beside its final one and
then renamed, so that a reader never sees half a file; a file already there
with the same content is an earlier attempt of the same message.

Inbound, the folder holds ``in/`` (files waiting), ``work/`` (files a worker
has claimed), ``processed/`` and ``error/``. A claim is a rename out of
``in/``: on a disk and on an SFTP server a rename is atomic, so of two workers
that claim one file only one finds it. The claimed name carries the moment of
the claim, so that :meth:`FolderTransport.recover` can give files of a worker
that died back to ``in/`` without any state outside the folder.
"""

import contextlib
import errno
import hashlib
import mimetypes
import posixpath
import re
import secrets as random_tokens
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from .base import DELIVERED, EXCERPT_LIMIT, REFUSED, RETRY, DeliveryResult, Incoming, TransportError

IN, WORK, PROCESSED, ERROR = "in", "work", "processed", "error"
REASON_SUFFIX = ".reason.txt"
CLAIM_MARK = ".claim-"

# Names writers use while a file is still being written (our own temporary names start with a dot).
_UNFINISHED_SUFFIXES = (".part", ".partial", ".filepart", ".tmp", "~")
# Refusals a person must fix (rights, a folder that is not there); any other file error may pass.
_REFUSING_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EROFS,
    errno.ENAMETOOLONG,
}
_EXTENSIONS = {"application/json": ".json", "application/xml": ".xml", "text/xml": ".xml", "text/csv": ".csv"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 150


class Unreachable(TransportError):
    """The folder cannot be reached now (server down, timeout, connection lost): try again later."""


class Refused(TransportError):
    """The folder's server refuses us for a reason a person must fix (login, host key, address)."""


@dataclass(frozen=True)
class Entry:
    name: str
    mtime: float
    size: int
    is_dir: bool


@dataclass(frozen=True)
class Claim:
    """A file a worker took out of ``in/``: its name there and its name in ``work/`` meanwhile."""

    name: str
    work_name: str
    claimed_at: float


class Files(Protocol):
    """The file operations an exchange folder needs; paths are POSIX paths on the carrier.

    Errors are ``OSError`` with the ``errno`` and path of the failure (the SFTP
    client maps the server's status to them), :class:`Unreachable` or
    :class:`Refused` for trouble with the connection itself.
    """

    def list(self, path) -> list[Entry]: ...

    def stat(self, path) -> Entry | None: ...  # None when nothing has that name

    def read_bytes(self, path) -> bytes: ...

    def create_file(self, path, data) -> None: ...  # fails when the name exists

    def rename(self, source, destination) -> None: ...  # fails when the destination exists

    def remove(self, path) -> None: ...

    def make_dir(self, path) -> None: ...  # no error when it exists


class FolderTransport:
    """The transport functions of one carrier.

    ``connect(url, settings)`` is a context manager that yields ``(files,
    folder)`` for a URL, ``settings`` being the :class:`~.base.Outgoing` or
    :class:`~.base.Source` (secrets, options, timeouts); it raises
    :class:`Unreachable` or :class:`Refused`, in words without secrets.
    """

    def __init__(self, connect):
        self.connect = connect

    def functions(self):
        """``send, list_ready, claim, read, settle, recover``: what a folder transport module offers."""
        return self.send, self.list_ready, self.claim, self.read_claim, self.settle, self.recover

    # Outbound

    def send(self, outgoing):
        """Place ``outgoing.body`` in the target folder; the outcome says what happened, it never raises."""
        started = time.monotonic()
        try:
            name = file_name_of(outgoing)
            with self.connect(outgoing.target, outgoing) as (files, folder):
                outcome, note = place_file(files, posixpath.join(folder, name), outgoing.body)
        except (ValueError, Refused) as error:
            return _result(REFUSED, started, error=str(error))
        except Unreachable as error:
            return _result(RETRY, started, error=str(error))
        except OSError as error:
            outcome = REFUSED if error.errno in _REFUSING_ERRNOS else RETRY
            return _result(outcome, started, error=f"cannot write {name}: {describe(error)}")
        if outcome == REFUSED:
            return _result(REFUSED, started, error=note)
        return _result(DELIVERED, started, excerpt=note)

    # Inbound

    def list_ready(self, source):
        """Names of the finished files waiting in ``in/``, oldest first."""
        with self._folder(source, "list the files waiting") as (files, folder):
            entries = files.list(posixpath.join(folder, IN))
        ready = [entry for entry in entries if not entry.is_dir and is_finished(entry.name)]
        return [entry.name for entry in sorted(ready, key=lambda entry: (entry.mtime, entry.name))]

    def claim(self, source, name):
        """Move ``name`` from ``in/`` to ``work/``; None when another worker took it first."""
        plain_file_name(name)
        claimed_at = time.time()
        work_name = f"{name}{CLAIM_MARK}{int(claimed_at * 1000)}-{random_tokens.token_hex(4)}"
        with self._folder(source, f"claim {name}") as (files, folder):
            try:
                files.rename(posixpath.join(folder, IN, name), posixpath.join(folder, WORK, work_name))
            except FileNotFoundError:
                return None
        return Claim(name, work_name, claimed_at)

    def read_claim(self, source, claim):
        """The claimed file as :class:`~.base.Incoming`, keyed by its name and the hash of its content."""
        with self._folder(source, f"read {claim.name}") as (files, folder):
            body = files.read_bytes(posixpath.join(folder, WORK, claim.work_name))
        digest = hashlib.sha256(body).hexdigest()
        return Incoming(
            key=f"{claim.name}:sha256:{digest}",
            body=body,
            name=claim.name,
            content_type=mimetypes.guess_type(claim.name)[0] or "",
            meta={"sha256": digest, "size": len(body), "claimed_at": claim.claimed_at},
        )

    def settle(self, source, claim, ok, reason=None):
        """Move the claimed file to ``processed/`` or, with ``reason`` beside it, to ``error/``.

        Returns the file's name there: a file of the same name settled before
        is kept, the new one gets the claim's stamp in its name.
        """
        target = PROCESSED if ok else ERROR
        with self._folder(source, f"move {claim.name} to {target}/") as (files, folder):
            final = free_name(files, posixpath.join(folder, target), claim)
            if not ok:
                text = (reason or "no reason given").encode()
                files.create_file(posixpath.join(folder, target, final + REASON_SUFFIX), text)
            files.rename(posixpath.join(folder, WORK, claim.work_name), posixpath.join(folder, target, final))
        return final

    def recover(self, source, older_than_seconds):
        """Give files claimed longer ago than ``older_than_seconds`` back to ``in/``; their names.

        A file whose name is taken in ``in/`` again (dropped anew meanwhile)
        stays in ``work/`` until that one has been claimed.
        """
        recovered = []
        deadline = time.time() - older_than_seconds
        with self._folder(source, "recover abandoned claims") as (files, folder):
            for entry in files.list(posixpath.join(folder, WORK)):
                name, claimed_at = parse_claimed_name(entry.name)
                if name is None or claimed_at > deadline:
                    continue
                back = posixpath.join(folder, IN, name)
                if files.stat(back) is not None:
                    continue
                files.rename(posixpath.join(folder, WORK, entry.name), back)
                recovered.append(name)
        return recovered

    @contextmanager
    def _folder(self, source, doing):
        """The source's folder with its sub-folders made; a file error is said as a TransportError."""
        try:
            with self.connect(source.url, source) as (files, folder):
                ensure_sub_folders(files, folder)
                yield files, folder
        except OSError as error:
            raise TransportError(f"cannot {doing}: {describe(error)}") from error


def ensure_sub_folders(files, folder):
    """Make ``work/``, ``processed/`` and ``error/`` when missing; ``in/`` is the partner's to make."""
    present = {entry.name for entry in files.list(folder) if entry.is_dir}
    inbox = posixpath.join(folder, IN)
    # A listing may show a link to a folder as a link; stat follows it.
    if IN not in present and not getattr(files.stat(inbox), "is_dir", False):
        raise FileNotFoundError(errno.ENOENT, "the folder has no in/ sub-folder", inbox)
    for name in (WORK, PROCESSED, ERROR):
        if name not in present:
            files.make_dir(posixpath.join(folder, name))


def place_file(files, path, body):
    """Write ``body`` at ``path`` whole or not at all: ``(outcome, words)``."""
    if files.stat(path) is not None:
        return compare_existing(files, path, body)
    folder, name = posixpath.split(path)
    temporary = posixpath.join(folder, f".{name}.{random_tokens.token_hex(6)}.part")
    files.create_file(temporary, body)
    try:
        files.rename(temporary, path)
    except OSError:
        _remove_quietly(files, temporary)
        if files.stat(path) is not None:  # another attempt of the same message was quicker
            return compare_existing(files, path, body)
        raise
    return DELIVERED, f"written as {name} ({len(body)} bytes)"


def compare_existing(files, path, body):
    """A file of that name is there: the same content is an earlier attempt, other content a conflict."""
    name = posixpath.basename(path)
    if files.read_bytes(path) == body:
        return DELIVERED, f"{name} was already there with the same content"
    return REFUSED, f"a different file named {name} is already in the folder: it was left as it is"


def _remove_quietly(files, path):
    with contextlib.suppress(OSError, TransportError):
        files.remove(path)


def file_name_of(outgoing):
    """The file name of ``outgoing``: its topic, else a safe name made from its message key."""
    if outgoing.topic:
        return plain_file_name(outgoing.topic)
    key = outgoing.message_key or ""
    safe = _UNSAFE.sub("_", key).strip("._")[:_MAX_NAME]
    if safe != key:
        # Two keys that differ only in unsafe characters must not meet under one name.
        safe = f"{safe or 'message'}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    extension = _EXTENSIONS.get(outgoing.content_type.split(";")[0].strip().lower(), "")
    if extension and not safe.lower().endswith(extension):
        safe += extension
    return safe


def plain_file_name(name):
    """``name`` when it is one visible file name; ``ValueError`` in words otherwise."""
    if not name or "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
        raise ValueError(f"'{name}' is not a plain file name (no folder, no '..')")
    if name.startswith("."):
        raise ValueError(f"'{name}' starts with a dot: readers take it for a file still being written")
    return name


def is_finished(name):
    """False for names writers use while a file is being written (a leading dot, ``.part``, ``.tmp``...)."""
    return not name.startswith(".") and not name.lower().endswith(_UNFINISHED_SUFFIXES)


def parse_claimed_name(work_name):
    """``(name in in/, moment of the claim)`` of a name in ``work/``; ``(None, None)`` for a stranger."""
    name, mark, stamp = work_name.rpartition(CLAIM_MARK)
    milliseconds = stamp.partition("-")[0]
    if not mark or not name or not milliseconds.isdigit():
        return None, None
    return name, int(milliseconds) / 1000


def free_name(files, folder, claim):
    """``claim.name`` if no file (nor reason) in ``folder`` has it, else that name with the claim's stamp."""
    taken = files.stat(posixpath.join(folder, claim.name)) or files.stat(
        posixpath.join(folder, claim.name + REASON_SUFFIX)
    )
    if not taken:
        return claim.name
    stem, extension = posixpath.splitext(claim.name)
    stamp = claim.work_name.rpartition(CLAIM_MARK)[2]
    return f"{stem}.{stamp}{extension}"


def describe(error):
    """An ``OSError`` in words: what went wrong, and where."""
    words = (error.strerror or str(error) or type(error).__name__).rstrip(".")
    words = words[:1].lower() + words[1:]
    return f"{words}: {error.filename}" if error.filename else words


def _result(outcome, started, excerpt="", error=""):
    return DeliveryResult(
        outcome,
        int((time.monotonic() - started) * 1000),
        excerpt=excerpt[:EXCERPT_LIMIT],
        error=error[:EXCERPT_LIMIT],
    )
