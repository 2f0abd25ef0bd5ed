# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Transports move bytes between Odoo and external systems, one module per kind.

The scheme of a target URL picks the module; each module offers ``send``
(outbound, :class:`~.base.Outgoing` in, :class:`~.base.DeliveryResult` out)
and, for the kinds that fetch, the functions its docstring names. Another
addon adds a kind with :func:`register`.
"""

from . import http
from .base import DELIVERED, REFUSED, RETRY, DeliveryResult, Incoming, Outgoing

_BY_SCHEME = {"http": http, "https": http}


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
    "for_target",
    "register",
    "schemes",
    "send",
]
