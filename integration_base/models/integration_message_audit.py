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

    message_id = fields.Many2one("integration.message", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="message_id.company_id", store=True)
    warehouse_id = fields.Many2one(related="message_id.warehouse_id", store=True, string="Plant")
    user_id = fields.Many2one("res.users", string="By", required=True, default=lambda self: self.env.user)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    action = fields.Selection(
        [("retry", "Retried"), ("cancel", "Cancelled"), ("edit", "Payload corrected")], required=True
    )
    note = fields.Char()
    previous_payload = fields.Text(help="The payload before the correction.")
