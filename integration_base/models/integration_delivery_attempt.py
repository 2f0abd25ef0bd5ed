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

    message_id = fields.Many2one(
        "integration.message",
        required=True,
        ondelete="cascade",
        index=True,
        help="The outbound message this attempt tried to deliver.",
    )
    backend_id = fields.Many2one(
        related="message_id.backend_id", store=True, help="The backend the message was sent to."
    )
    company_id = fields.Many2one(
        related="message_id.company_id", store=True, help="The company of the backend."
    )
    warehouse_id = fields.Many2one(
        related="message_id.warehouse_id", store=True, string="Plant", help="The plant of the backend."
    )
    attempted_at = fields.Datetime(
        required=True, default=fields.Datetime.now, help="When the request was sent."
    )
    url = fields.Char(string="URL", help="Where the request was sent.")
    status_code = fields.Integer(aggregator=None, help="The HTTP status answered; 0 when no answer came.")
    latency_ms = fields.Integer(
        aggregator="avg",
        string="Latency (ms)",
        help="Milliseconds from sending the request to its answer (or to giving up on it).",
    )
    outcome = fields.Selection(
        [("delivered", "Delivered"), ("retry", "Will retry"), ("refused", "Refused")],
        required=True,
        help="Delivered: 2xx. Will retry: no answer, 408, 425, 429 or 5xx. Refused: any other answer.",
    )
    error = fields.Char(help="Why no answer came (timeout, connection refused...).")
    # The partner's raw answer may hold its internals (an error page, a stack trace, data):
    # for the managers who configure the integration; the message's reason says it in words.
    response_excerpt = fields.Text(
        groups="integration_base.group_integration_manager",
        help="The beginning of the answer's body, as the partner sent it (managers only).",
    )
