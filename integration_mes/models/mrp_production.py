# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.integration_base.exceptions import WaitingError

# States of an order the MES has been told about and still works on.
MES_OPEN_STATES = ("confirmed", "progress", "to_close")


class MrpProduction(models.Model):
    """Manufacturing orders announce their life to the MES and respect its quality holds.

    Confirmation and cancellation are announced here; a change of the planned
    quantity or dates is an event declared in data (its trigger fields). Their
    form shows their messages and warns while one of them is not going through.
    """

    _name = "mrp.production"
    _inherit = ["mrp.production", "integration.record.mixin"]
    # The MES names orders by their reference: messages about one Odoo does not have yet wait for it.
    _integration_reference_field = "name"

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

    mes_closing_qty = fields.Float(
        string="Closed by MES At",
        digits="Product Unit",
        copy=False,
        readonly=True,
        help="The good quantity the MES counted when it closed the order, while Odoo has received less: "
        "the order is marked done when the confirmations still on their way bring it there.",
    )

    @api.depends("mes_hold_ids.state", "lot_producing_ids")
    def _compute_mes_on_hold(self):
        for production in self:
            production.mes_on_hold = bool(production._mes_holds())

    def _mes_holds(self):
        """The holds in force on this order: on the order itself, or on a lot it produces."""
        self.ensure_one()
        lot_holds = self.env["mes.quality.hold"]
        if self.lot_producing_ids:
            lot_holds = lot_holds.search(
                [("state", "=", "held"), ("lot_id", "in", self.lot_producing_ids.ids)]
            )
        return self.mes_hold_ids.filtered(lambda h: h.state == "held") | lot_holds

    @api.model
    def _mes_find(self, backend, reference):
        """The order ``reference`` of the plant of ``backend``; until Odoo has it, the message waits.

        The MES may hear of an order before Odoo does (it was keyed in at the
        plant, or its confirmation overtook it): the message then waits, and
        goes on by itself when an order of that reference is created.
        """
        production = self.search(
            [
                ("name", "=", reference),
                ("company_id", "=", backend.company_id.id),
                ("picking_type_id.warehouse_id", "=", backend.warehouse_id.id),
            ],
            limit=1,
        )
        if not production:
            raise WaitingError(
                self.env._(
                    "%(backend)s sent order %(ref)s, which Odoo does not know at plant %(plant)s (yet): the "
                    "message waits, and goes on by itself once the order exists.",
                    backend=backend.display_name,
                    ref=reference,
                    plant=backend.warehouse_id.display_name,
                ),
                self._name,
                reference,
            )
        if production.state == "draft":
            raise WaitingError(
                self.env._(
                    "%(backend)s sent order %(ref)s, which is still a draft in Odoo: the message waits, and "
                    "goes on by itself once the order is confirmed.",
                    backend=backend.display_name,
                    ref=reference,
                ),
                self._name,
                reference,
                wait_kind="change",
                is_over=lambda env: env[self._name].browse(production.id).state != "draft",
            )
        return production

    def action_confirm(self):
        drafts = self.filtered(lambda p: p.state == "draft")
        result = super().action_confirm()
        self.env["integration.event"]._publish("mrp.production.confirmed", self)
        for production in drafts:
            # What the MES sent about the order while it was a draft goes on now.
            self.env["integration.message"]._wake(
                self._name,
                production.name,
                production.company_id,
                note=self.env._("order %s confirmed", production.name),
                kind="change",
            )
        return result

    def action_cancel(self):
        known_to_mes = self.filtered(lambda p: p.state in MES_OPEN_STATES)
        result = super().action_cancel()
        self.env["integration.event"]._publish("mrp.production.cancelled", known_to_mes)
        return result

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
