# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

BACKEND_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")

# Systems that run inside one plant; an EDI partner or a generic system does not.
PLANT_BOUND_SYSTEM_TYPES = ("mes", "cmms", "wms")


class IntegrationBackend(models.Model):
    """One external system at one plant (or one trading partner).

    A backend is the unit of governance of the integration layer: it names the
    person who owns the connection, the plant whose data flows through it and
    its lifecycle state, and it is the scope of messages, contracts, mappings
    and credentials. Its ``code`` appears in webhook URLs, so it is short,
    stable and URL-safe.
    """

    _name = "integration.backend"
    _description = "Integration Backend"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Short identifier used in webhook URLs, for example 'plant-a-mes'. "
        "Lower-case letters, digits, '-' and '_'; unique across all companies.",
    )
    system_type = fields.Selection(
        [
            ("mes", "MES"),
            ("cmms", "CMMS"),
            ("wms", "WMS"),
            ("edi", "EDI partner"),
            ("generic", "Generic"),
        ],
        required=True,
        default="generic",
        tracking=True,
        help="The kind of external system. MES, CMMS and WMS systems run at one plant.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Plant",
        tracking=True,
        check_company=True,
        help="The plant whose data flows through this backend.",
    )
    environment = fields.Selection(
        [("dev", "Development"), ("test", "Test"), ("prod", "Production")],
        required=True,
        default="test",
        tracking=True,
    )
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("suspended", "Suspended")],
        required=True,
        default="draft",
        tracking=True,
        copy=False,
        help="Only active backends exchange messages; a suspended backend refuses "
        "inbound calls and holds its outbound messages.",
    )
    owner_id = fields.Many2one(
        "res.users",
        string="Owner",
        required=True,
        default=lambda self: self.env.user,
        tracking=True,
        help="The person accountable for this connection, who is alerted when it fails.",
    )
    active = fields.Boolean(default=True, tracking=True)
    note = fields.Html()

    _code_unique = models.Constraint(
        "UNIQUE(code)",
        "Another backend already uses this code: backend codes appear in URLs and must be unique.",
    )

    @api.constrains("code")
    def _check_code(self):
        for backend in self:
            if not BACKEND_CODE_PATTERN.match(backend.code or ""):
                raise ValidationError(
                    _(
                        "Backend code '%(code)s' is not valid: use 2 to 63 lower-case "
                        "letters, digits, '-' or '_', starting with a letter or digit.",
                        code=backend.code,
                    )
                )

    @api.constrains("system_type", "warehouse_id")
    def _check_plant(self):
        for backend in self:
            if backend._is_plant_bound() and not backend.warehouse_id:
                raise ValidationError(
                    _(
                        "Backend '%(name)s' is a %(type)s, which runs at one plant: choose its plant.",
                        name=backend.name,
                        type=dict(self._fields["system_type"].selection)[backend.system_type],
                    )
                )

    def _is_plant_bound(self):
        """Whether this backend's system runs at a single plant and so needs one."""
        self.ensure_one()
        return self.system_type in PLANT_BOUND_SYSTEM_TYPES

    @api.model
    def _get_active_backend(self, system_type, warehouse=None, company=None):
        """The active backend of ``system_type`` serving ``warehouse``.

        Connectors call this to know where a business event must be sent, for
        example the MES of the plant that will make a manufacturing order. It
        returns an empty recordset when there is none, so that plants without
        the external system simply send nothing.
        """
        domain = [("system_type", "=", system_type), ("state", "=", "active")]
        if warehouse is not None:
            domain.append(("warehouse_id", "=", warehouse.id))
        if company is not None:
            domain.append(("company_id", "=", company.id))
        return self.search(domain, limit=1)

    def action_activate(self):
        """Put the backends in service; they then accept and send messages."""
        for backend in self:
            if backend.state == "active":
                raise UserError(_("Backend '%s' is already active.", backend.name))
        self.write({"state": "active"})
        return True

    def action_suspend(self):
        """Take the backends out of service without losing their messages."""
        self.filtered(lambda b: b.state == "active").write({"state": "suspended"})
        return True

    def action_reset_to_draft(self):
        """Send suspended backends back to draft, to rework their configuration."""
        self.write({"state": "draft"})
        return True
