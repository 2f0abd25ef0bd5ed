# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A real SSH server with SFTP on 127.0.0.1 that stands for a partner's file server in tests.

It serves a local directory as its ``/`` to the users it knows, by password
or public key, over TCP on a free port. Standard library and paramiko only,
so that the end-to-end tests (which do not import Odoo) use it too::

    with SftpServer(root, users={"plant": "secret"}) as server:
        server.url            # sftp://plant@127.0.0.1:<port>
        server.host_key_b64   # what a client pins

Rights: the kernel decides, as for a server that runs as the user. Tests run
as root, though, whom the kernel lets through everywhere; so the server also
refuses what the owner's permission bits forbid (a folder without ``w``
cannot be written in), which is what the kernel says to an owner.
"""

import contextlib
import errno
import hmac
import logging
import os
import posixpath
import socket
import stat
import threading

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface

LOG_CHANNEL = "integration_tests.sftp_server"
# The server's complaints about clients that hang up are what the tests provoke: not worth an error line.
logging.getLogger(LOG_CHANNEL).setLevel(logging.CRITICAL)


class SftpServer:
    """``with SftpServer(root, users={...}, authorized_keys={...}) as server: ...``.

    ``users`` maps user names to passwords, ``authorized_keys`` user names to
    the public keys (paramiko keys) they may log in with. ``host_key`` keeps
    the server's identity across a restart (a new one is made otherwise).
    :meth:`stop` cuts every connection, as a server that goes down.
    """

    def __init__(self, root, users=None, authorized_keys=None, host_key=None):
        self.root = os.path.realpath(root)
        self.users = dict(users or {})
        self.authorized_keys = {user: list(keys) for user, keys in (authorized_keys or {}).items()}
        self.host_key = host_key or paramiko.ECDSAKey.generate()
        self.attempts = []  # (user, method) of each login tried
        self.logins = []  # (user, method) of each login accepted
        self._listener = None
        self._port = None
        self._transports = []
        self._stopping = threading.Event()
        self._acceptor = None
        self._lock = threading.Lock()

    @property
    def port(self):
        return self._port

    @property
    def url(self):
        """The URL of the server's ``/`` for its first user."""
        return self.url_for(next(iter(self.users or self.authorized_keys)))

    def url_for(self, user, path=""):
        return f"sftp://{user}@127.0.0.1:{self.port}{path}"

    @property
    def host_key_b64(self):
        return self.host_key.get_base64()

    def __enter__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept, name="sftp-server", daemon=True)
        self._acceptor.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        """Stop listening and cut the connections; a second call does nothing."""
        self._stopping.set()
        if self._acceptor is not None:
            self._acceptor.join()
            self._acceptor = None
            self._listener.close()
        with self._lock:
            transports, self._transports = self._transports, []
        for transport in transports:
            transport.close()

    def _accept(self):
        while not self._stopping.is_set():
            try:
                connection, _address = self._listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(None)
            transport = paramiko.Transport(connection)
            transport.set_log_channel(LOG_CHANNEL)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", SFTPServer, sftp_si=_ServedFolder, root=self.root)
            with self._lock:
                self._transports.append(transport)
            # With an event the handshake runs in the transport's thread: a slow client blocks nobody.
            transport.start_server(event=threading.Event(), server=_Logins(self))

    def _login(self, user, method, accepted):
        with self._lock:
            self.attempts.append((user, method))
            if accepted:
                self.logins.append((user, method))
        return paramiko.AUTH_SUCCESSFUL if accepted else paramiko.AUTH_FAILED


class _Logins(paramiko.ServerInterface):
    """Who may log in, and with what; a session's only use is the SFTP subsystem."""

    def __init__(self, server):
        self.server = server

    def get_allowed_auths(self, username):
        return "publickey,password"

    def check_auth_password(self, username, password):
        expected = self.server.users.get(username)
        accepted = expected is not None and hmac.compare_digest(expected.encode(), password.encode())
        return self.server._login(username, "password", accepted)

    def check_auth_publickey(self, username, key):
        known = self.server.authorized_keys.get(username, ())
        accepted = any(allowed.asbytes() == key.asbytes() for allowed in known)
        return self.server._login(username, "publickey", accepted)

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


def _answering_errors(method):
    """Say a file error as the SFTP status a real server sends (no such file, permission denied...)."""

    def answering(self, *args):
        try:
            return method(self, *args)
        except OSError as error:
            return SFTPServer.convert_errno(error.errno)

    answering.__name__ = method.__name__
    answering.__doc__ = method.__doc__
    return answering


class _ServedFolder(SFTPServerInterface):
    """The server's ``/`` is ``root``; no path leads out of it (``..`` stops at ``/``)."""

    def __init__(self, server, *args, root, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.root = root

    def _real(self, path):
        return os.path.join(self.root, self.canonicalize(path).lstrip("/"))

    def canonicalize(self, path):
        return posixpath.normpath(posixpath.join("/", path))

    @_answering_errors
    def list_folder(self, path):
        real = self._real(path)
        _owner_may(real, stat.S_IRUSR)
        listing = []
        for name in os.listdir(real):
            try:
                attributes = SFTPAttributes.from_stat(os.lstat(os.path.join(real, name)))
            except FileNotFoundError:
                continue  # taken away since the listing, as another worker's claim does
            attributes.filename = name
            listing.append(attributes)
        return listing

    @_answering_errors
    def stat(self, path):
        return SFTPAttributes.from_stat(os.stat(self._real(path)))

    @_answering_errors
    def lstat(self, path):
        return SFTPAttributes.from_stat(os.lstat(self._real(path)))

    @_answering_errors
    def open(self, path, flags, attr):
        real = self._real(path)
        writing = flags & (os.O_WRONLY | os.O_RDWR)
        if os.path.exists(real):
            _owner_may(real, stat.S_IWUSR if writing else stat.S_IRUSR)
        elif flags & os.O_CREAT:
            self._changing_folder_of(path)
        mode = attr.st_mode if attr is not None and attr.st_mode else 0o666
        descriptor = os.open(real, flags, mode & 0o7777)
        handle = _Handle(flags)
        handle.readfile = handle.writefile = os.fdopen(descriptor, _file_mode(flags))
        return handle

    def _changing_folder_of(self, path):
        """The real path of ``path``, whose folder's entries are to change: it must be writable."""
        real = self._real(path)
        _owner_may(os.path.dirname(real), stat.S_IWUSR)
        return real

    @_answering_errors
    def remove(self, path):
        os.remove(self._changing_folder_of(path))
        return paramiko.SFTP_OK

    @_answering_errors
    def rename(self, oldpath, newpath):
        """The protocol's rename: an existing destination is not replaced."""
        old, new = self._changing_folder_of(oldpath), self._changing_folder_of(newpath)
        if os.path.lexists(new):
            return paramiko.SFTP_FAILURE
        os.rename(old, new)
        return paramiko.SFTP_OK

    @_answering_errors
    def posix_rename(self, oldpath, newpath):
        os.rename(self._changing_folder_of(oldpath), self._changing_folder_of(newpath))
        return paramiko.SFTP_OK

    @_answering_errors
    def mkdir(self, path, attr):
        os.mkdir(self._changing_folder_of(path))
        return paramiko.SFTP_OK

    @_answering_errors
    def rmdir(self, path):
        os.rmdir(self._changing_folder_of(path))
        return paramiko.SFTP_OK

    @_answering_errors
    def chattr(self, path, attr):
        SFTPServer.set_file_attr(self._real(path), attr)
        return paramiko.SFTP_OK


class _Handle(SFTPHandle):
    def stat(self):
        try:
            return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as error:
            return SFTPServer.convert_errno(error.errno)


def _file_mode(flags):
    """The ``open()`` mode of ``os.open`` flags, for the file object paramiko reads and writes through."""
    if flags & os.O_RDWR:
        return "a+b" if flags & os.O_APPEND else "r+b"
    if flags & os.O_WRONLY:
        return "ab" if flags & os.O_APPEND else "wb"
    return "rb"


def _owner_may(path, permission_bit):
    """``PermissionError`` when the owner's bits of ``path`` lack ``permission_bit`` (see the module)."""
    with contextlib.suppress(FileNotFoundError):  # what is missing the operation itself says
        if not os.stat(path).st_mode & permission_bit:
            raise PermissionError(errno.EACCES, "Permission denied", path)
