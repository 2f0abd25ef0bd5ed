# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.integration_base.exceptions import IntegrationBusinessError

# Changes of these fields on an order the MES knows about are sent as an update.
MES_PLANNED_FIELDS = ("product_qty", "date_start", "date_finished")
# Context key set while an MES message is applied: what the MES itself caused is not sent back.
MES_INBOUND = "integration_mes_inbound"
# States of an order the MES has been told about and still works on.
MES_OPEN_STATES = ("confirmed", "progress", "to_close")


class MrpProduction(models.Model):
    """Manufacturing orders announce their life to the MES and respect its quality holds.

    Their form shows their messages and warns while one of them is not going through.
    """

    _name = "mrp.production"
    _inherit = ["mrp.production", "integration.record.mixin"]

    mes_hold_ids = fields.One2many(
        "mes.quality.hold",
        "production_id",
        string="MES Quality Holds",
        help="The quality holds the MES put on this order.",
    )
    mes_on_hold = fields.Boolean(
        string="On Quality Hold",
        compute="_compute_mes_on_hold",
        help="The plant put this order, or a lot it produces, on hold: it cannot be done until released.",
    )

    @api.depends("mes_hold_ids.state", "lot_producing_ids")
    def _compute_mes_on_hold(self):
        held_lots = (
            self.env["mes.quality.hold"]
            .search([("state", "=", "held"), ("lot_id", "in", self.lot_producing_ids.ids)])
            .lot_id
        )
        for production in self:
            production.mes_on_hold = bool(
                production.mes_hold_ids.filtered(lambda h: h.state == "held")
                or production.lot_producing_ids & held_lots
            )

    def _get_mes_backend(self):
        """The active MES backend of the plant that makes this order, if any.

        The plant is the warehouse of the order's operation type; a plant
        without an active MES backend gets an empty recordset, so its orders
        are simply not sent anywhere.
        """
        self.ensure_one()
        return self.env["integration.backend"]._get_active_backend("mes", self.picking_type_id.warehouse_id)

    @api.model
    def _mes_find(self, backend, reference):
        """The order ``reference`` of the plant of ``backend``; a business error when there is none."""
        production = self.search(
            [
                ("name", "=", reference),
                ("company_id", "=", backend.company_id.id),
                ("picking_type_id.warehouse_id", "=", backend.warehouse_id.id),
            ],
            limit=1,
        )
        if not production:
            raise IntegrationBusinessError(
                self.env._(
                    "%(backend)s sent order %(ref)s, which Odoo does not know at plant %(plant)s.",
                    backend=backend.display_name,
                    ref=reference,
                    plant=backend.warehouse_id.display_name,
                )
            )
        return production.with_context(**{MES_INBOUND: True})

    def action_confirm(self):
        result = super(MrpProduction, self.with_context(**{MES_INBOUND: True})).action_confirm()
        self.env["integration.event"]._publish("mrp.production.confirmed", self)
        return result

    def action_cancel(self):
        known_to_mes = self.filtered(lambda p: p.state in MES_OPEN_STATES)
        result = super().action_cancel()
        self.env["integration.event"]._publish("mrp.production.cancelled", known_to_mes)
        return result

    def write(self, vals):
        if self.env.context.get(MES_INBOUND) or not set(MES_PLANNED_FIELDS) & vals.keys():
            return super().write(vals)
        before = {production.id: production._mes_planned() for production in self}
        result = super().write(vals)
        changed = self.filtered(lambda p: p.state in MES_OPEN_STATES and p._mes_planned() != before[p.id])
        self.env["integration.event"]._publish("mrp.production.updated", changed)
        return result

    def _mes_planned(self):
        return tuple(self[name] for name in MES_PLANNED_FIELDS)

    def _button_mark_done_sanity_checks(self):
        held = self.filtered("mes_on_hold")
        if held:
            raise UserError(
                self.env._(
                    "%s is on quality hold by the plant: it cannot be marked done until the hold is "
                    "released.",
                    ", ".join(held.mapped("name")),
                )
            )
        return super()._button_mark_done_sanity_checks()
