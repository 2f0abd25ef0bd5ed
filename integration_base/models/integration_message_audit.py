# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IntegrationMessageAudit(models.Model):
    """What a person did to a message: retried, cancelled, or corrected its payload.

    The engine's own transitions are in the message's compact transition log;
    these lines are the people's, with the payload as it was before a
    correction, so that any change to what a plant sent can be traced back.
    Written by the engine only.
    """

    _name = "integration.message.audit"
    _description = "Integration Message Audit"
    _order = "id desc"
    _rec_name = "action"

    message_id = fields.Many2one(
        "integration.message", required=True, ondelete="cascade", index=True, help="The message acted on."
    )
    company_id = fields.Many2one(
        related="message_id.company_id", store=True, help="The company of the message's backend."
    )
    warehouse_id = fields.Many2one(
        related="message_id.warehouse_id",
        store=True,
        string="Plant",
        help="The plant of the message's backend.",
    )
    user_id = fields.Many2one(
        "res.users", string="By", required=True, default=lambda self: self.env.user, help="Who acted."
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, help="When they acted.")
    action = fields.Selection(
        [("retry", "Retried"), ("cancel", "Cancelled"), ("edit", "Payload corrected")],
        required=True,
        help="What they did.",
    )
    note = fields.Char(help="In words, with the reason given, if any.")
    previous_payload = fields.Text(help="The payload before the correction.")
