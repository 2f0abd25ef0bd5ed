# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import uuid

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import ormcache
from odoo.tools.safe_eval import safe_eval

from .integration_backend import BACKEND_CODE_PATTERN, ORIGIN_BACKEND_KEY

_logger = logging.getLogger(__name__)

# The to-do left on a business record whose event could not be published (see _alert_unknown).
UNKNOWN_EVENT_ACTIVITY = "integration_base.mail_activity_type_integration_unpublished"


class IntegrationEvent(models.Model):
    """A business event that connectors announce and subscriptions turn into outbound messages.

    A connector declares its events in data (for example "a manufacturing
    order was confirmed") and calls :meth:`_publish` where they happen. Which
    backends hear of them, through which contract, is configuration: the
    event's subscriptions. So a connector never decides where its messages go.
    An event may also be declared with trigger fields, as automation rules
    are: the engine then raises it when those fields change (see
    ``integration.record.mixin``), and the connector writes no code for it.
    While the engine applies a message of a backend, the events it causes are
    not sent back to that backend (``ORIGIN_BACKEND_KEY``), unless the event
    answers it (``replies_to_origin``).

    Publishing never breaks the business transaction that raises the event:
    an archived event sends nothing (deliberately), and a code nobody
    declares (its module's record was removed) is logged as an error and left
    as a to-do on the business record, which is saved all the same.
    """

    _name = "integration.event"
    _description = "Integration Event"
    _inherit = ["integration.lookup.cache.mixin"]
    _order = "code"
    # What the declared triggers of business records read (see _triggers_for).
    _lookup_cache_fields = frozenset(
        {"model_id", "trigger", "trigger_fields", "filter_pre_domain", "filter_domain", "active", "code"}
    )

    name = fields.Char(
        required=True,
        translate=True,
        help="The event as people call it, for example 'Manufacturing order confirmed'.",
    )
    code = fields.Char(
        required=True,
        help="Identifies the event in code, for example 'mrp.production.confirmed'.",
    )
    model_id = fields.Many2one(
        "ir.model",
        required=True,
        ondelete="cascade",
        help="The records the event is about.",
    )
    model = fields.Char(
        related="model_id.model",
        store=True,
        string="Model Name",
        help="The technical name of the model the event is about.",
    )
    warehouse_field = fields.Char(
        string="Plant Field",
        help="Path from the record to its plant (a stock.warehouse), for example "
        "'picking_type_id.warehouse_id'. Then a backend bound to a plant only hears of "
        "that plant's records.",
    )
    partner_field = fields.Char(
        help="Path from the record to its partner, for example 'partner_id'. Then a backend that stands "
        "for a partner (a trading partner) only hears of that partner's records (its contacts and "
        "addresses included).",
    )
    warehouse_field_label = fields.Char(
        string="Plant From",
        compute="_compute_warehouse_field_label",
        help="The plant field in words: the labels of the fields from the record to its plant.",
    )
    description = fields.Text(help="When the event is raised and what its messages carry.")
    replies_to_origin = fields.Boolean(
        string="Answers Its Origin",
        help="Also send the event to the backend whose message caused it: the event answers that message "
        "(an order response to the partner whose order was confirmed). Otherwise the engine never sends "
        "a backend's own changes back to it.",
    )
    trigger = fields.Selection(
        [
            ("code", "Announced by its connector"),
            ("create", "When a record is created"),
            ("write", "When a trigger field changes"),
            ("create_or_write", "When a record is created or a trigger field changes"),
        ],
        required=True,
        default="code",
        help="What raises the event. Announced by its connector: the connector's code says when (an order "
        "confirmed). The others are declared here, as automation rules are: the engine watches the "
        "records (of models that show their integration messages) and raises the event itself.",
    )
    trigger_fields = fields.Char(
        help="The technical names of the fields whose change raises the event, separated by commas, for "
        "example 'product_qty, date_start'. Values written unchanged raise nothing.",
    )
    trigger_fields_label = fields.Char(
        string="Trigger Fields Are",
        compute="_compute_trigger_fields_label",
        help="The trigger fields in words.",
    )
    filter_pre_domain = fields.Char(
        string="Before the Change",
        help="Only records that matched this domain before the change raise the event, for example "
        "[('state', 'in', ('confirmed', 'progress'))]: an order the external system knows about.",
    )
    filter_domain = fields.Char(
        string="After the Change",
        help="Only records that match this domain after the change (or at creation) raise the event.",
    )
    subscription_ids = fields.One2many(
        "integration.subscription",
        "event_id",
        string="Subscriptions",
        help="Who hears of the event: each subscription sends a message to its backends.",
    )
    active = fields.Boolean(
        default=True,
        help="Archive the event to stop sending its messages, on purpose, without touching its "
        "subscriptions. Events declared by a module cannot be deleted: archive them instead.",
    )

    _code_unique = models.Constraint("UNIQUE(code)", "An event with this code already exists.")

    @api.depends("model", "warehouse_field")
    def _compute_warehouse_field_label(self):
        for event in self:
            event.warehouse_field_label = event._field_path_label(event.model, event.warehouse_field)

    def _field_path_label(self, model_name, path):
        """``picking_type_id.warehouse_id`` of a manufacturing order as "Operation Type > Warehouse"."""
        if not path or model_name not in self.env:
            return path or False
        labels, model = [], self.env[model_name]
        for name in path.split("."):
            field = model._fields.get(name) if model is not None else None
            if field is None:
                return path  # a path Odoo cannot follow is shown as typed
            labels.append(field._description_string(self.env))
            model = self.env[field.comodel_name] if field.relational else None
        return " > ".join(labels)

    @api.constrains("trigger", "trigger_fields", "model_id", "filter_pre_domain", "filter_domain")
    def _check_trigger(self):
        for event in self.filtered(lambda e: e.trigger != "code"):
            model = self.env.get(event.model)
            if model is None or not isinstance(model, self.env.registry["integration.record.mixin"]):
                raise ValidationError(
                    self.env._(
                        "Event %(event)s: the engine watches only records that show their integration "
                        "messages (integration.record.mixin); %(model)s does not.",
                        event=event.code,
                        model=event.model,
                    )
                )
            names = event._trigger_field_names()
            if event.trigger != "create" and not names:
                raise ValidationError(
                    self.env._("Event %s is raised by changes: name its trigger fields.", event.code)
                )
            unknown = [name for name in names if name not in model._fields]
            if unknown:
                raise ValidationError(
                    self.env._(
                        "Event %(event)s: %(model)s has no field %(fields)s.",
                        event=event.code,
                        model=event.model,
                        fields=", ".join(unknown),
                    )
                )
            for domain in (event.filter_pre_domain, event.filter_domain):
                try:
                    model.search_count(safe_eval(domain or "[]"), limit=1)
                except Exception as error:
                    raise ValidationError(
                        self.env._(
                            "Event %(event)s: the domain %(domain)s is not valid: %(error)s",
                            event=event.code,
                            domain=domain,
                            error=error,
                        )
                    ) from error

    @api.model
    @ormcache("model_name")
    def _triggers_for(self, model_name):
        """The declared triggers of ``model_name``'s events, as plain data for every write to check.

        ``(code, on_create, on_write, trigger field names, pre-domain, domain)``
        per active event; kept in each worker's cache until an event changes.
        """
        events = self.sudo().search([("model", "=", model_name), ("trigger", "!=", "code")])
        return tuple(
            (
                event.code,
                event.trigger in ("create", "create_or_write"),
                event.trigger in ("write", "create_or_write"),
                frozenset(event._trigger_field_names()),
                safe_eval(event.filter_pre_domain or "[]"),
                safe_eval(event.filter_domain or "[]"),
            )
            for event in events
        )

    def _trigger_field_names(self):
        self.ensure_one()
        return [name.strip() for name in (self.trigger_fields or "").split(",") if name.strip()]

    @api.depends("model", "trigger_fields")
    def _compute_trigger_fields_label(self):
        for event in self:
            event.trigger_fields_label = (
                ", ".join(event._field_path_label(event.model, name) for name in event._trigger_field_names())
                or False
            )

    @api.constrains("code")
    def _check_code(self):
        for event in self:
            if not BACKEND_CODE_PATTERN.match(event.code.replace(".", "_")):
                raise ValidationError(
                    self.env._(
                        "Event code '%s' may hold lower-case letters, digits, '.', '-' and '_'.", event.code
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_declared(self):
        """A connector publishes its events from code: deleting one would leave it talking to no one.

        Its module removes it when it is uninstalled; until then, archive it.
        """
        external_ids = self.sudo()._get_external_ids().values()
        if any(not xmlid.startswith("__") for xmlids in external_ids for xmlid in xmlids):
            raise UserError(
                self.env._(
                    "Events declared by a module cannot be deleted: archive them to stop their messages."
                )
            )

    @api.model
    def _publish(self, code, records, correlation_id=None):
        """Announce that event ``code`` happened to ``records``.

        Each active subscription to the event stores one outbound message per
        record and subscribed backend, in the caller's transaction: if the
        business change is rolled back, nothing is sent. Returns the messages.

        A problem of configuration never fails the caller: an archived event
        sends nothing, and an unknown one is logged and left as an alert (see
        :meth:`_alert_unknown`).
        """
        messages = self.env["integration.message"]
        if not records:
            return messages
        event = self.sudo().with_context(active_test=False).search([("code", "=", code)], limit=1)
        if not event:
            self._alert_unknown(code, records)
            return messages
        if not event.active:
            _logger.debug("integration event %s is archived: nothing sent for %s", code, records)
            return messages
        # Every message caused by this event about one record shares one correlation id.
        correlations = {record.id: correlation_id or str(uuid.uuid4()) for record in records}
        origin = self.env.context.get(ORIGIN_BACKEND_KEY)
        for subscription in event.subscription_ids.filtered("active"):
            backends = subscription._subscribed_backends().filtered(
                lambda backend: event.replies_to_origin or backend.id != origin
            )
            for record in subscription._matching(records):
                for backend in subscription._backends_for(record, backends):
                    messages |= subscription._send(backend, record, correlations[record.id])
        return messages

    def _warehouse_of(self, record):
        """The plant of ``record`` along the event's plant field (empty when it has none)."""
        self.ensure_one()
        if not self.warehouse_field:
            return self.env["stock.warehouse"]
        return record.mapped(self.warehouse_field)[:1]

    def _partner_of(self, record):
        """The commercial partner of ``record`` along the event's partner field (empty when none)."""
        self.ensure_one()
        if not self.partner_field:
            return self.env["res.partner"]
        return record.mapped(self.partner_field)[:1].commercial_partner_id

    @api.model
    def _alert_unknown(self, code, records):
        """Say that ``records`` were not announced: an error in the log, and a to-do on each record.

        The to-do goes to the user who made the change, on records that hold
        activities, once per record while it stays open (a repeat adds the
        event's code to it when it is not there yet).
        """
        _logger.error(
            "integration event %r is not declared (its record was removed?): %s %s not sent to any "
            "backend; reinstall or update the module that declares it",
            code,
            records._name,
            records.ids,
        )
        if "activity_ids" not in records._fields:
            return
        note = self.env._(
            "The change was saved, but the integration event %(code)s is not declared, so no external "
            "system was told. Ask an integration manager to restore the event (update the module "
            "that declares it).",
            code=code,
        )
        for record in records.sudo():
            activity = record.activity_search([UNKNOWN_EVENT_ACTIVITY])[:1]
            if not activity:
                record.activity_schedule(UNKNOWN_EVENT_ACTIVITY, note=note, user_id=self.env.user.id)
            elif code not in (activity.note or ""):
                activity.note = Markup("%s<br/>%s") % (activity.note or "", note)
