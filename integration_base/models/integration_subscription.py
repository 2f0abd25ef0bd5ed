# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)


class IntegrationSubscription(models.Model):
    """Which backends receive which outbound contract when a business event happens.

    For example: "when a manufacturing order is confirmed, send
    ``mes.production_order`` to the MES of its plant". The contract version
    sent is the newest one in force on each backend, and a backend bound to a
    plant only hears of that plant's records.
    """

    _name = "integration.subscription"
    _description = "Integration Subscription"
    _inherit = ["mail.thread"]
    _order = "event_id, flow_code"
    # The backends listed belong to the subscription's company (and only that company's
    # records are sent to them, see _backends_for).
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True, help="The subscription as people call it.")
    event_id = fields.Many2one(
        "integration.event", required=True, tracking=True, help="The business event that raises the messages."
    )
    event_model = fields.Char(related="event_id.model", help="The model of the event's records.")
    flow_code = fields.Char(
        string="Outbound Contract",
        required=True,
        tracking=True,
        help="The code of the outbound contract to send, for example 'mes.production_order'. "
        "Each backend below needs an outbound contract with this code in force.",
    )
    backend_ids = fields.Many2many(
        "integration.backend",
        string="Backends",
        tracking=True,
        check_company=True,
        help="The systems that receive the messages; leave empty for every active backend that "
        "has the contract.",
    )
    domain = fields.Char(
        default="[]",
        tracking=True,
        help="Only records matching this domain raise messages, for example "
        "[('product_id.type', '=', 'consu')].",
    )
    warehouse_ids = fields.Many2many(
        "stock.warehouse",
        string="Plants",
        check_company=True,
        help="Only records of these plants raise messages (the event's plant field says a record's "
        "plant). Leave empty for every plant; a backend bound to a plant hears of that plant's records "
        "in any case.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Partners",
        help="Only records of these partners (the event's partner field says a record's partner) raise "
        "messages. Leave empty for every partner; a backend that stands for a partner hears of that "
        "partner's records in any case.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        help="The company whose records and backends the subscription serves.",
    )
    active = fields.Boolean(
        default=True, tracking=True, help="Archive the subscription to stop its messages."
    )

    @api.depends("event_id.name", "flow_code")
    def _compute_name(self):
        for subscription in self:
            subscription.name = f"{subscription.event_id.name or ''} → {subscription.flow_code or ''}"

    @api.constrains("domain", "event_id")
    def _check_domain(self):
        for subscription in self:
            try:
                self.env[subscription.event_model].search_count(subscription._parsed_domain(), limit=1)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "The domain of subscription %(name)s is not valid: %(error)s",
                        name=subscription.name,
                        error=error,
                    )
                ) from error

    def _parsed_domain(self):
        return safe_eval(self.domain or "[]")

    def _matching(self, records):
        """The records of the event that this subscription wants."""
        self.ensure_one()
        domain = self._parsed_domain()
        return records.filtered_domain(domain) if domain else records

    def _subscribed_backends(self):
        """The active backends of this subscription: those listed, or every one with the contract."""
        self.ensure_one()
        backends = self.sudo().backend_ids or self.env["integration.backend"].sudo().search(
            [("flow_ids.code", "=", self.flow_code), ("flow_ids.direction", "=", "outbound")]
        )
        return backends.filtered(lambda backend: backend.state == "active")

    def _backends_for(self, record, backends):
        """Those of ``backends`` that hear of ``record``: the routing of events, in one place.

        A backend hears of the records of its company; a backend bound to a
        plant, of that plant's records (when the event says where a record's
        plant is); a backend that stands for a partner, of that partner's
        records (when the event says where a record's partner is). The
        subscription may narrow it to some plants and partners.
        """
        self.ensure_one()
        event = self.event_id
        plant = event._warehouse_of(record)
        partner = event._partner_of(record)
        if (self.warehouse_ids and plant not in self.warehouse_ids) or (
            self.partner_ids and partner not in self.partner_ids
        ):
            return backends.browse()
        company = record.company_id if "company_id" in record._fields else None
        return backends.filtered(
            lambda backend: (not company or backend.company_id == company)
            and (not backend.warehouse_id or not event.warehouse_field or backend.warehouse_id == plant)
            and (not backend.partner_id or not event.partner_field or backend.partner_id == partner)
        )

    def _send(self, backend, record, correlation_id=None):
        """Store the outbound message of ``record`` for ``backend``; nothing when no contract is in force."""
        Message = self.env["integration.message"].sudo()
        try:
            flow = self.env["integration.flow"].sudo()._contract_in_force(backend, self.flow_code, "outbound")
        except UserError as error:
            # A subscription pointing at a missing contract must not block the business
            # transaction; say it where the configuration is made.
            _logger.warning("subscription %s: %s", self.id, error)
            self.sudo().message_post(
                body=self.env._(
                    "Nothing sent for %(record)s: %(error)s", record=record.display_name, error=error
                )
            )
            return Message
        return Message._ingest_event(flow, self.event_id.code, record, correlation_id=correlation_id)
