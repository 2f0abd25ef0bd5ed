# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Encryption of backend secrets at rest, with master keys that can be rotated.

The master keys never live in the database: they come from the environment
variable ``INTEGRATION_MASTER_KEYS`` or from ``master_keys`` in the
``[integration]`` section of ``odoo.conf``, as a comma-separated list of
Fernet keys. The first key encrypts; every key decrypts, so a new key can be
put first while secrets written with the old one are still read, and then
re-encrypted with :meth:`SecretBox.rotate`.
"""

import os
from configparser import ConfigParser

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

MASTER_KEYS_VARIABLE = "INTEGRATION_MASTER_KEYS"


class MasterKeyError(Exception):
    """No usable master key is configured, or a secret cannot be decrypted with them."""


def generate_key():
    """A new random master key, to put in odoo.conf or the environment."""
    return Fernet.generate_key().decode()


def read_config_section(path, section="integration"):
    """One section of an Odoo configuration file, as a dict (empty when absent)."""
    parser = ConfigParser(interpolation=None)
    if path:
        parser.read(path)
    return dict(parser[section]) if parser.has_section(section) else {}


def master_keys_from(environ=None, config_section=None):
    """The configured master keys: the environment wins over the configuration file."""
    environ = os.environ if environ is None else environ
    value = environ.get(MASTER_KEYS_VARIABLE) or (config_section or {}).get("master_keys") or ""
    return [key.strip() for key in value.split(",") if key.strip()]


class SecretBox:
    """Encrypts and decrypts secrets with MultiFernet over the master keys."""

    def __init__(self, keys):
        if not keys:
            raise MasterKeyError(
                f"No master key is configured to encrypt integration secrets: set {MASTER_KEYS_VARIABLE} "
                "or 'master_keys' in the [integration] section of odoo.conf "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
            )
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except (ValueError, TypeError) as error:
            raise MasterKeyError(f"A configured master key is not a valid Fernet key: {error}") from None

    def encrypt(self, plaintext):
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token):
        return self._with_stored(self._fernet.decrypt, token)

    def rotate(self, token):
        """The same secret, encrypted again with the first (current) master key."""
        return self._with_stored(self._fernet.rotate, token)

    @staticmethod
    def _with_stored(operation, token):
        try:
            return operation(token.encode()).decode()
        except InvalidToken:
            raise MasterKeyError(
                "A stored secret cannot be decrypted with the configured master keys: "
                "was a master key removed before the secrets were re-encrypted?"
            ) from None
