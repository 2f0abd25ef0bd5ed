# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class MesQualityHold(models.Model):
    """A manufacturing order or a lot that the plant's quality team put on hold.

    While a hold is on, the order (or any order producing the lot) cannot be
    marked done in Odoo, whoever tries. The plant releases it through its MES;
    confirmations that waited for the release are then retried by themselves.
    """

    _name = "mes.quality.hold"
    _description = "MES Quality Hold"
    _inherit = ["mail.thread"]
    _order = "held_at desc, id desc"

    name = fields.Char(string="Hold", required=True, readonly=True, help="The hold's id at the MES.")
    backend_id = fields.Many2one(
        "integration.backend", required=True, readonly=True, index=True, help="The MES that put the hold."
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, help="The company of the MES backend."
    )
    warehouse_id = fields.Many2one(
        related="backend_id.warehouse_id", store=True, string="Plant", help="The plant of the MES backend."
    )
    production_id = fields.Many2one(
        "mrp.production",
        string="Manufacturing Order",
        readonly=True,
        index=True,
        help="The manufacturing order on hold, when the hold is on an order.",
    )
    lot_id = fields.Many2one(
        "stock.lot",
        readonly=True,
        index=True,
        help="The lot on hold, when the hold is on a lot: every order producing it waits.",
    )
    reason = fields.Char(readonly=True, tracking=True, help="Why the plant put the hold, as the MES said it.")
    state = fields.Selection(
        [("held", "On Hold"), ("released", "Released")],
        required=True,
        default="held",
        tracking=True,
        readonly=True,
        help="Held: the order cannot be marked done. Released: the MES lifted the hold.",
    )
    held_at = fields.Datetime(
        required=True, default=fields.Datetime.now, readonly=True, help="When the MES put the hold."
    )
    released_at = fields.Datetime(readonly=True, help="When the MES released it.")

    _backend_name_unique = models.Constraint(
        "UNIQUE(backend_id, name)", "The MES already sent a hold with this id."
    )

    @api.depends("name", "production_id", "lot_id")
    def _compute_display_name(self):
        for hold in self:
            target = hold.production_id.name or hold.lot_id.name or ""
            hold.display_name = f"{hold.name} ({target})"

    def _release(self):
        """Lift the holds: the messages that waited for their release go on by themselves."""
        self.write({"state": "released", "released_at": fields.Datetime.now()})
        for hold in self:
            self.env["integration.message"]._wake(
                self._name,
                hold.name,
                hold.company_id,
                note=self.env._("quality hold %s released", hold.name),
                kind="change",
            )

    def _held_orders_of_lots(self):
        if not self.lot_id:
            return self.env["mrp.production"]
        return self.env["mrp.production"].search([("lot_producing_ids", "in", self.lot_id.ids)])
