# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from contextlib import contextmanager
from datetime import timedelta
from functools import lru_cache

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config

from ..lib.secret_box import MasterKeyError, SecretBox, master_keys_from, read_config_section

_logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def integration_config(path):
    """The [integration] section of the configuration file at ``path``, read once per process."""
    return read_config_section(path)


def configured_master_keys():
    """This server's master keys: the environment, else odoo.conf's [integration] section."""
    return master_keys_from(config_section=integration_config(config.get("config")))


@lru_cache(maxsize=4)
def _box(keys):
    return SecretBox(list(keys))


@contextmanager
def secret_box():
    """The box over this server's master keys (environment or odoo.conf), built once per set of keys.

    Any master key problem, at start or when decrypting, surfaces as a
    UserError that says what to configure.
    """
    try:
        yield _box(tuple(configured_master_keys()))
    except MasterKeyError as error:
        raise UserError(str(error)) from None


class IntegrationCredential(models.Model):
    """A secret of a backend (HMAC key, API token, password, client secret).

    Secrets are encrypted with the server's master keys before they reach the
    database, in columns that are not ORM fields: ``read()``, exports and the
    web client can never return them, to anyone. The ``secret`` field is
    write-only. Replacing a secret keeps the previous one valid for an overlap
    period, so the plant can switch to the new one without downtime.

    A credential serves one direction or both (``usage``): the key that
    checks the system's calls to Odoo and the one Odoo signs its deliveries
    with can then be separate and replaced each on its own. A credential for
    one direction takes precedence, for that direction, over the backend's
    credential of the same kind for both.
    """

    _name = "integration.credential"
    _description = "Integration Credential"
    _inherit = ["mail.thread"]
    _order = "backend_id, kind, usage"

    backend_id = fields.Many2one(
        "integration.backend",
        required=True,
        ondelete="cascade",
        index=True,
        help="The backend whose calls or deliveries the credential signs.",
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, help="The company of the backend."
    )
    warehouse_id = fields.Many2one(
        related="backend_id.warehouse_id", store=True, string="Plant", help="The plant of the backend."
    )
    kind = fields.Selection(
        [
            ("hmac", "HMAC signing key"),
            ("token", "API token"),
            ("password", "Password"),
            ("client_secret", "OAuth client secret"),
            ("private_key", "SSH private key"),
        ],
        required=True,
        tracking=True,
        help="What the secret is: an HMAC key signs requests, a token or password is sent with them, an "
        "OAuth client secret gets Odoo its access tokens, an SSH private key (PEM) opens SFTP folders.",
    )
    usage = fields.Selection(
        [
            ("both", "Both directions"),
            ("inbound", "Inbound: checks the system's calls"),
            ("outbound", "Outbound: Odoo's deliveries"),
        ],
        required=True,
        default="both",
        tracking=True,
        help="Which calls the secret serves. Both directions: the system's calls to Odoo and Odoo's "
        "deliveries to it. Inbound or outbound: that direction only, before a credential for both "
        "directions; give each direction its own key to replace one without touching the other.",
    )
    login = fields.Char(tracking=True, help="The user name or client id that goes with the secret, if any.")
    secret = fields.Char(
        compute="_compute_secret",
        inverse="_inverse_secret",
        string="New Secret",
        help="Write-only: type a new value to replace the secret. It is never shown again.",
    )
    has_secret = fields.Boolean(
        readonly=True, copy=False, help="A secret is stored (encrypted); it is never shown again."
    )
    rotated_at = fields.Datetime(
        string="Last Replaced",
        readonly=True,
        copy=False,
        tracking=True,
        help="When the secret was last replaced.",
    )
    overlap_hours = fields.Integer(
        aggregator=None,
        default=24,
        tracking=True,
        help="How long the previous secret stays valid after a new one is set.",
    )
    previous_valid_until = fields.Datetime(
        readonly=True,
        copy=False,
        tracking=True,
        help="Until then the previous secret is still accepted.",
    )

    _backend_kind_unique = models.Constraint(
        "UNIQUE(backend_id, kind, usage)", "A backend holds one credential of each kind and direction."
    )

    def _register_hook(self):
        """Say at server start when credentials exist but no master key can read them."""
        super()._register_hook()
        self.env.cr.execute(SQL("SELECT 1 FROM %s WHERE has_secret LIMIT 1", SQL.identifier(self._table)))
        if self.env.cr.fetchone():
            try:
                SecretBox(configured_master_keys())
            except MasterKeyError as error:
                _logger.error("integration credentials cannot be used: %s", error)

    def init(self):
        # The ciphertexts live outside the ORM so that no read() can return them.
        self.env.cr.execute(
            SQL(
                "ALTER TABLE %s ADD COLUMN IF NOT EXISTS secret_ciphertext text, "
                "ADD COLUMN IF NOT EXISTS previous_ciphertext text",
                SQL.identifier(self._table),
            )
        )

    def _compute_secret(self):
        self.secret = False

    def _inverse_secret(self):
        for credential in self.filtered("secret"):
            with secret_box() as box:
                ciphertext = box.encrypt(credential.secret)
            current = credential._fetch_ciphertexts()[0]
            now = fields.Datetime.now()
            valid_until = now + timedelta(hours=credential.overlap_hours) if current else None
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET previous_ciphertext = secret_ciphertext, secret_ciphertext = %s "
                    "WHERE id = %s",
                    SQL.identifier(self._table),
                    ciphertext,
                    credential.id,
                )
            )
            credential.write({"has_secret": True, "rotated_at": now, "previous_valid_until": valid_until})
            credential.message_post(
                body=self.env._("Secret replaced by %(user)s.", user=self.env.user.name)
                + (self.env._(" The previous one is accepted until %s.", valid_until) if valid_until else "")
            )
            _logger.info("credential %s of backend %s replaced", credential.kind, credential.backend_id.code)
        # The value written stays in the cache, where the form's save would read it back
        # and answer it in clear: drop it, so that every read computes the empty value.
        self.invalidate_recordset(["secret"])

    def _fetch_ciphertexts(self):
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT secret_ciphertext, previous_ciphertext FROM %s WHERE id = %s",
                SQL.identifier(self._table),
                self.id,
            )
        )
        return self.env.cr.fetchone() or (None, None)

    def _get_secret(self):
        """The current secret in clear, for the code that signs or authenticates."""
        self.ensure_one()
        current = self._fetch_ciphertexts()[0]
        if not current:
            kinds = dict(self._fields["kind"]._description_selection(self.env))
            raise UserError(
                self.env._(
                    "Backend %(backend)s has no %(kind)s configured.",
                    backend=self.backend_id.display_name,
                    kind=kinds[self.kind],
                )
            )
        with secret_box() as box:
            return box.decrypt(current)

    def _get_valid_secrets(self):
        """The secrets a caller may use now: the current one, and the previous one during the overlap."""
        self.ensure_one()
        current, previous = self._fetch_ciphertexts()
        in_overlap = self.previous_valid_until and fields.Datetime.now() < self.previous_valid_until
        with secret_box() as box:
            return [box.decrypt(token) for token in (current, previous if in_overlap else None) if token]

    @api.model
    def _reencrypt_all(self):
        """Encrypt every stored secret again with the current (first) master key.

        Run after putting a new master key first; the old key can then be removed.
        """
        table = SQL.identifier(self._table)
        self.env.cr.execute(SQL("SELECT id, secret_ciphertext, previous_ciphertext FROM %s", table))
        rows = self.env.cr.fetchall()
        with secret_box() as box:
            for credential_id, current, previous in rows:
                self.env.cr.execute(
                    SQL(
                        "UPDATE %s SET secret_ciphertext = %s, previous_ciphertext = %s WHERE id = %s",
                        table,
                        box.rotate(current) if current else None,
                        box.rotate(previous) if previous else None,
                        credential_id,
                    )
                )
        return len(rows)
