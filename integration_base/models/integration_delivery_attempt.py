# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IntegrationDeliveryAttempt(models.Model):
    """One try at delivering an outbound message, kept whatever its outcome.

    When a partner says a message never arrived, or arrived late, this log
    answers when each attempt was made, what the partner answered and how
    long it took. Lines are written by the engine only.
    """

    _name = "integration.delivery.attempt"
    _description = "Integration Delivery Attempt"
    _order = "attempted_at desc, id desc"
    _rec_name = "attempted_at"

    message_id = fields.Many2one("integration.message", required=True, ondelete="cascade", index=True)
    backend_id = fields.Many2one(related="message_id.backend_id", store=True)
    company_id = fields.Many2one(related="message_id.company_id", store=True)
    warehouse_id = fields.Many2one(related="message_id.warehouse_id", store=True, string="Plant")
    attempted_at = fields.Datetime(required=True, default=fields.Datetime.now)
    url = fields.Char(string="URL")
    status_code = fields.Integer(help="The HTTP status answered; 0 when no answer came.")
    latency_ms = fields.Integer(string="Latency (ms)")
    outcome = fields.Selection(
        [("delivered", "Delivered"), ("retry", "Will retry"), ("refused", "Refused")],
        required=True,
        help="Delivered: 2xx. Will retry: no answer, 408, 425, 429 or 5xx. Refused: any other answer.",
    )
    error = fields.Char(help="Why no answer came (timeout, connection refused...).")
    # The partner's raw answer may hold its internals (an error page, a stack trace, data):
    # for the operators who resolve refused deliveries; the message's reason says it in words.
    response_excerpt = fields.Text(
        groups="integration_base.group_integration_operator",
        help="The beginning of the answer's body, as the partner sent it (operators only).",
    )
