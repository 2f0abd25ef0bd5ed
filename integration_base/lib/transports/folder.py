# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A folder on this machine's disk (``file:///var/exchange/plant-a``), often a share mounted from a plant.

The rules of the exchange folder are in :mod:`.exchange_folder`; this module
only gives them the disk. Its functions are those of every folder transport:
``send(outgoing)`` outbound; ``list_ready``, ``claim``, ``read``, ``settle``
and ``recover`` inbound.
"""

import contextlib
import errno
import os
from urllib.parse import unquote, urlsplit

from .exchange_folder import Entry, FolderTransport, Refused


class LocalFiles:
    """The exchange folder's file operations on the local disk."""

    def list(self, path):
        found = []
        with os.scandir(path) as entries:
            for item in entries:
                with contextlib.suppress(FileNotFoundError):  # gone meanwhile, or a dangling link
                    found.append(_entry(item.name, item.stat(), item.is_dir()))
        return found

    def stat(self, path):
        try:
            status = os.stat(path)
        except FileNotFoundError:
            return None
        return _entry(os.path.basename(path), status, os.path.isdir(path))

    def read_bytes(self, path):
        with open(path, "rb") as handle:
            return handle.read()

    def create_file(self, path, data):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            # On disk before the rename publishes it: a crash must not leave a whole-looking empty file.
            os.fsync(handle.fileno())

    def rename(self, source, destination):
        # os.rename would replace the destination; the check and the rename are two steps, which
        # is enough here: the names renamed onto are fresh (claims) or were looked at just before.
        if os.path.lexists(destination):
            raise FileExistsError(errno.EEXIST, "a file of that name exists", destination)
        os.rename(source, destination)

    def remove(self, path):
        os.remove(path)

    def make_dir(self, path):
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)


def _entry(name, status, is_dir):
    return Entry(name=name, mtime=status.st_mtime, size=status.st_size, is_dir=is_dir)


def folder_path(url):
    """The absolute path of a ``file://`` URL (``file:///srv/x`` or ``file://localhost/srv/x``)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        raise Refused(f"'{url}' is not a file:// URL")
    if parts.netloc not in ("", "localhost"):
        raise Refused(f"'{url}' names the host '{parts.netloc}': a file:// folder must be on this machine")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise Refused(f"'{url}' has no absolute path (write file:///var/exchange/plant-a)")
    return os.path.normpath(path)


@contextlib.contextmanager
def _connect(url, settings):
    yield LocalFiles(), folder_path(url)


send, list_ready, claim, read, settle, recover = FolderTransport(_connect).functions()
