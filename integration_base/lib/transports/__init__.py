# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Transports move bytes between Odoo and external systems, one module per kind.

The scheme of a target URL picks the module; each module offers ``send``
(outbound, :class:`~.base.Outgoing` in, :class:`~.base.DeliveryResult` out)
and, for the kinds that fetch, the functions its docstring names. Another
addon adds a kind with :func:`register`.
"""

import importlib

from . import amqp, folder, http, mqtt, sftp
from .base import DELIVERED, REFUSED, RETRY, DeliveryResult, Incoming, Outgoing, Source, TransportError

_BY_SCHEME = {
    "http": http,
    "https": http,
    "file": folder,
    "sftp": sftp,
    "mqtt": mqtt,
    "mqtts": mqtt,
    "amqp": amqp,
}
# Where inbound items are fetched from, by scheme: a polled API, or a watched folder.
_SOURCES = {"http": "poll", "https": "poll", "file": "folder", "sftp": "sftp"}


def register(module, *schemes):
    """Make ``module`` (with a ``send(outgoing)`` function) the transport of ``schemes``."""
    for scheme in schemes:
        _BY_SCHEME[scheme] = module


def for_target(target):
    """The transport module of ``target``'s scheme; ``ValueError`` when no transport knows it."""
    scheme = (target or "").partition("://")[0].lower()
    if scheme not in _BY_SCHEME:
        known = ", ".join(f"{name}://" for name in sorted(_BY_SCHEME))
        raise ValueError(f"no transport for '{scheme or target}': use one of {known}")
    return _BY_SCHEME[scheme]


def schemes():
    return sorted(_BY_SCHEME)


def for_source(url):
    """The fetching transport of ``url``: ``poll`` (``fetch``) or a folder (``list_ready``, ``claim``...)."""
    scheme = (url or "").partition("://")[0].lower()
    if scheme not in _SOURCES:
        known = ", ".join(f"{name}://" for name in sorted(_SOURCES))
        raise ValueError(f"nothing fetches from '{scheme or url}': use one of {known}")
    module = _SOURCES[scheme]
    return importlib.import_module(f"{__name__}.{module}") if isinstance(module, str) else module


def register_source(module, *schemes):
    """Make ``module`` the fetching transport of ``schemes``."""
    for scheme in schemes:
        _SOURCES[scheme] = module


def send(outgoing):
    """Deliver ``outgoing`` with the transport of its target; never raises for trouble on the way."""
    return for_target(outgoing.target).send(outgoing)


__all__ = [
    "DELIVERED",
    "REFUSED",
    "RETRY",
    "DeliveryResult",
    "Incoming",
    "Outgoing",
    "Source",
    "TransportError",
    "for_source",
    "for_target",
    "register",
    "register_source",
    "schemes",
    "send",
]
