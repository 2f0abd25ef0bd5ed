# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class CmmsFailureCode(models.Model):
    """A neutral failure code of ISO 14224: a failure mode, mechanism or cause.

    Each CMMS has its own failure hierarchy (Maximo's failure class, problem,
    cause and remedy; free lists elsewhere). Mapping each CMMS code to one of
    these lets Odoo report breakdowns across plants and systems on one list.
    """

    _name = "cmms.failure.code"
    _description = "Failure Code (ISO 14224)"
    _order = "kind, code"
    _parent_store = True

    kind = fields.Selection(
        [("mode", "Failure Mode"), ("mechanism", "Failure Mechanism"), ("cause", "Failure Cause")],
        required=True,
        help="Failure mode: how the failure is seen (vibration, fail to start). Mechanism: the physical "
        "process that led to it (wear, corrosion). Cause: why it happened (design, operating error).",
    )
    code = fields.Char(required=True, help="The code in ISO 14224 (BRD, 2.4, 3.2...).")
    name = fields.Char(required=True, translate=True, help="What the code means, in words.")
    parent_id = fields.Many2one(
        "cmms.failure.code",
        string="Group",
        index=True,
        ondelete="restrict",
        domain="[('kind', '=', kind)]",
        help="The group of the code in the standard's hierarchy (2.4 Wear is in 2 Material failure).",
    )
    parent_path = fields.Char(index=True, help="The codes above this one (technical).")
    description = fields.Text(translate=True, help="When to use the code, for those who map.")
    active = fields.Boolean(default=True, help="Archive a code to stop offering it without losing it.")

    _kind_code_unique = models.Constraint("UNIQUE(kind, code)", "This failure code exists already.")

    @api.depends("code", "name")
    def _compute_display_name(self):
        for failure_code in self:
            failure_code.display_name = f"{failure_code.code} {failure_code.name}"

    @api.model
    def _search_display_name(self, operator, value):
        if operator in ("ilike", "=ilike", "like", "=like") and value:
            return ["|", ("code", operator, value), ("name", operator, value)]
        return super()._search_display_name(operator, value)
