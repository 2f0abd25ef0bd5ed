# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A partner's exchange folder on its SSH server: ``sftp://user@host:port/path``.

The rules of the exchange folder are in :mod:`.exchange_folder`; this module
reaches the folder over SFTP. Its functions are those of every folder
transport: ``send(outgoing)`` outbound; ``list_ready``, ``claim``, ``read``,
``settle`` and ``recover`` inbound.

The login is ``secrets["password"]`` and/or ``secrets["private_key"]`` (the
key's PEM or OpenSSH text, with ``secrets["passphrase"]`` when it has one).

The server must prove it is the partner's: its host key is compared with
``options["host_key"]`` (the base64 of its public key, as in known_hosts) and
a different key is refused. With no pinned key the server is refused too,
since a password sent to a stranger is given away, unless
``options["trust_unknown_host"]`` says to accept any key (a network that is
trusted, a first contact). The refusal names the key's fingerprint, to check
with the partner before pinning it.

A connection is kept per thread and per login, and opened again when the
server has closed it.
"""

import base64
import contextlib
import hashlib
import hmac
import io
import socket
import stat
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paramiko
from paramiko.ssh_exception import AuthenticationException, PasswordRequiredException, SSHException

from .exchange_folder import Entry, FolderTransport, Refused, Unreachable

# paramiko's own log of a connection; its errors come back to the caller in words anyway.
LOG_CHANNEL = f"{__name__}.ssh"

_local = threading.local()


@dataclass(frozen=True)
class Address:
    user: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url):
        parts = urlsplit(url)
        if parts.scheme.lower() != "sftp":
            raise Refused(f"'{url}' is not an sftp:// URL")
        if parts.password is not None:
            # Never echo the URL: it is the secret.
            raise Refused("the sftp:// URL carries a password: keep it in the credential, not in the URL")
        try:
            port = parts.port or 22
        except ValueError:
            raise Refused(f"'{url}' has no valid port") from None
        if not parts.username or not parts.hostname:
            raise Refused(f"'{url}' must name a user and a host: sftp://user@host:port/path")
        return cls(unquote(parts.username), parts.hostname, port, unquote(parts.path) or ".")

    def __str__(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        path = "" if self.path == "." else self.path
        return f"sftp://{self.user}@{host}:{self.port}{path}"


class SftpFiles:
    """The exchange folder's file operations through one SFTP session.

    The client says the server's refusals as ``OSError`` (``ENOENT``,
    ``EACCES``...); here they get the path they are about, and the trouble of
    the connection itself becomes :class:`Unreachable`.
    """

    def __init__(self, client):
        self.client = client

    def list(self, path):
        with _carrying(path):
            attributes = self.client.listdir_attr(path)
        return [_entry(item.filename, item) for item in attributes]

    def stat(self, path):
        try:
            with _carrying(path):
                attributes = self.client.stat(path)
        except FileNotFoundError:
            return None
        return _entry(path.rpartition("/")[2], attributes)

    def read_bytes(self, path):
        with _carrying(path), self.client.open(path, "rb") as handle:
            handle.prefetch()
            return handle.read()

    def create_file(self, path, data):
        with _carrying(path), self.client.open(path, "wx") as handle:
            handle.set_pipelined(True)
            handle.write(data)

    def rename(self, source, destination):
        # The protocol's rename (not posix-rename) refuses to replace an existing destination.
        with _carrying(source):
            self.client.rename(source, destination)

    def remove(self, path):
        with _carrying(path):
            self.client.remove(path)

    def make_dir(self, path):
        try:
            with _carrying(path):
                self.client.mkdir(path)
        except OSError:
            # Servers answer a bare "failure" when it exists; only a folder that is there is fine.
            existing = self.stat(path)
            if existing is None or not existing.is_dir:
                raise


@contextlib.contextmanager
def _carrying(path):
    try:
        yield
    except (ConnectionError, TimeoutError, EOFError, SSHException) as error:
        raise Unreachable(f"the SFTP connection failed: {error or type(error).__name__}") from error
    except OSError as error:
        if error.filename:
            raise
        raise OSError(error.errno, error.strerror or str(error), path) from error
    except paramiko.SFTPError as error:
        raise Unreachable(f"the server answered outside the SFTP protocol: {error}") from error


def _entry(name, attributes):
    return Entry(
        name=name,
        mtime=attributes.st_mtime or 0,
        size=attributes.st_size or 0,
        is_dir=stat.S_ISDIR(attributes.st_mode or 0),
    )


@dataclass
class _Connection:
    transport: paramiko.Transport
    client: paramiko.SFTPClient

    def alive(self):
        return self.transport.is_active() and self.transport.is_authenticated()

    def close(self):
        with contextlib.suppress(Exception):
            self.client.close()
        with contextlib.suppress(Exception):
            self.transport.close()


@contextlib.contextmanager
def _connect(url, settings):
    address = Address.parse(url)
    key = _cache_key(address, settings)
    connections = _connections()
    connection = connections.get(key)
    if connection is None or not connection.alive():
        if connection is not None:
            connection.close()
        connection = connections[key] = open_connection(address, settings)
    connection.client.get_channel().settimeout(settings.read_timeout)
    try:
        yield SftpFiles(connection.client), address.path
    except OSError:
        raise  # the server refused one file operation: the session itself is fine
    except BaseException:
        connections.pop(key, None)
        connection.close()
        raise


def _connections():
    if not hasattr(_local, "connections"):
        _local.connections = {}
    return _local.connections


def _cache_key(address, settings):
    secrets, options = settings.secrets or {}, settings.options or {}
    login = hashlib.sha256(
        "\0".join(str(secrets.get(kind) or "") for kind in ("password", "private_key", "passphrase")).encode()
    ).hexdigest()
    # One session serves every folder of a login: the path is not part of the key.
    where = (address.user, address.host, address.port)
    return where, login, options.get("host_key"), bool(options.get("trust_unknown_host"))


def close_connections():
    """Close this thread's SFTP connections (a worker that stops, a test that cleans up)."""
    connections = _connections()
    while connections:
        connections.popitem()[1].close()


def open_connection(address, settings):
    """A logged-in SFTP session with the server of ``address``, whose host key was checked."""
    try:
        sock = socket.create_connection((address.host, address.port), timeout=settings.connect_timeout)
    except OSError as error:
        raise Unreachable(f"cannot reach {address}: {error.strerror or error}") from None
    transport = paramiko.Transport(sock)
    transport.set_log_channel(LOG_CHANNEL)
    transport.banner_timeout = transport.handshake_timeout = settings.connect_timeout
    transport.auth_timeout = settings.connect_timeout
    try:
        transport.start_client(timeout=settings.connect_timeout)
        check_host_key(transport.get_remote_server_key(), settings.options or {}, address)
        authenticate(transport, address, settings.secrets or {})
        client = paramiko.SFTPClient.from_transport(transport)
        if client is None:
            raise Unreachable(f"{address} opened no SFTP session")
    except AuthenticationException as error:
        transport.close()
        raise Refused(f"{address} refused the login of {address.user}: {error}") from None
    except (SSHException, EOFError, OSError) as error:
        transport.close()
        raise Unreachable(f"no SFTP session with {address}: {error or type(error).__name__}") from None
    except BaseException:
        transport.close()
        raise
    return _Connection(transport, client)


def check_host_key(offered, options, address):
    """Refuse a server whose key is not the pinned one, or any key when none is pinned nor trusted."""
    shown = f"{offered.get_name()} {offered.fingerprint}"
    pinned = options.get("host_key")
    if pinned:
        if not hmac.compare_digest(pinned_key_blob(pinned), offered.asbytes()):
            raise Refused(
                f"{address} shows the host key {shown}, not the pinned one: someone may be in between, "
                "or the server has a new key; check with its owner before pinning another"
            )
        return
    if not options.get("trust_unknown_host"):
        raise Refused(
            f"{address} shows the host key {shown}, which is not pinned: refused. Pin it with the option "
            "host_key (the base64 of the server's public key, as in known_hosts), or set "
            "trust_unknown_host where the network is trusted"
        )


def pinned_key_blob(value):
    """The public key in ``value``: its base64 alone, or a known_hosts or ``.pub`` line holding it."""
    for token in str(value).split():
        try:
            blob = base64.b64decode(token, validate=True)
        except ValueError:
            continue
        length = int.from_bytes(blob[:4], "big")
        if len(blob) > 4 + length and b"-" in blob[4 : 4 + length]:
            return blob
    raise Refused("the option host_key is not the base64 of a public key (as in known_hosts)")


def authenticate(transport, address, secrets):
    """Log in with the private key, the password, or both when the server asks for both."""
    password, key_text = secrets.get("password"), secrets.get("private_key")
    if not password and not key_text:
        raise Refused(f"no password nor private key to log in to {address} with")
    if key_text:
        key = load_private_key(key_text, secrets.get("passphrase"))
        try:
            transport.auth_publickey(address.user, key)
        except AuthenticationException:
            if not password:
                raise
    if password and not transport.is_authenticated():
        transport.auth_password(address.user, password)
    if not transport.is_authenticated():
        raise AuthenticationException("the server asks for more than this key and password")


def load_private_key(text, passphrase=None):
    """The private key in ``text`` (PEM or OpenSSH format, Ed25519, ECDSA or RSA)."""
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(text.strip() + "\n"), password=passphrase)
        except PasswordRequiredException:
            raise Refused("the private key is protected by a passphrase and none was given") from None
        except (SSHException, ValueError, TypeError):
            continue
    raise Refused(
        "the private key cannot be read: give the PEM or OpenSSH text of an Ed25519, ECDSA or RSA key "
        "(and its passphrase, if it has one)"
    )


send, list_ready, claim, read, settle, recover = FolderTransport(_connect).functions()
