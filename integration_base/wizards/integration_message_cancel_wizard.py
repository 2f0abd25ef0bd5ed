# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class IntegrationMessageCancelWizard(models.TransientModel):
    """Cancel messages with a reason: whoever looks at them later learns why they were never applied."""

    _name = "integration.message.cancel.wizard"
    _description = "Cancel Integration Messages"

    message_ids = fields.Many2many(
        "integration.message",
        string="Messages",
        required=True,
        help="The messages to cancel: they will never be applied, and no longer hold back later ones.",
    )
    message_count = fields.Integer(compute="_compute_message_count", help="How many messages are cancelled.")
    reason = fields.Text(
        required=True,
        help="Why these messages are given up, in words for whoever reads their history: "
        "'sent twice by the plant', 'order cancelled, confirmed on paper'.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if "message_ids" in fields_list and context.get("active_model") == "integration.message":
            values["message_ids"] = [fields.Command.set(context.get("active_ids") or [])]
        return values

    @api.depends("message_ids")
    def _compute_message_count(self):
        for wizard in self:
            wizard.message_count = len(wizard.message_ids)

    def action_cancel_messages(self):
        self.ensure_one()
        self.message_ids.action_cancel(reason=self.reason.strip())
        return {"type": "ir.actions.act_window_close"}
