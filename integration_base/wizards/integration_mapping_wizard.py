# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

SCOPES = [
    ("backend", "Backend"),
    ("plant", "Plant"),
    ("company", "Company"),
]


class IntegrationMappingWizard(models.TransientModel):
    """Create the mappings that messages in exception wait for, from where the error shows.

    Opened from a message or from the codes waiting for a mapping, with one
    line per missing code already filled in (backend, kind, code, and the
    record a mapping of another backend gives the same code, when there is
    one): the user picks what each code stands for, and the waiting messages
    are retried by themselves once the mappings exist.
    """

    _name = "integration.mapping.wizard"
    _description = "Create Missing Mappings"

    line_ids = fields.One2many(
        "integration.mapping.wizard.line", "wizard_id", string="Codes", help="One line per missing mapping."
    )

    @api.model
    def _action_for_messages(self, messages):
        """The dialog, with one line per mapping that ``messages`` wait for."""
        waiting = messages.filtered(lambda m: m.state == "exception" and m.missing_kind == "mapping")
        if not waiting:
            raise UserError(self.env._("These messages do not wait for a mapping."))
        # One line per mapping, in the order of the messages (a dict keeps it).
        keys = dict.fromkeys(
            (message.backend_id, message.direction, message.missing_model, message.missing_code)
            for message in waiting
        )
        Line = self.env["integration.mapping.wizard.line"]
        wizard = self.create({"line_ids": [fields.Command.create(Line._prefill(*key)) for key in keys]})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Create Mappings"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    def action_create_mappings(self):
        """Create one mapping per line; each retries the messages that waited for it."""
        self.ensure_one()
        incomplete = self.line_ids.filtered(lambda line: not line._is_complete())
        if incomplete:
            raise UserError(
                self.env._(
                    "Say what each code stands for before creating the mappings: %s",
                    ", ".join(incomplete.mapped("missing_label")),
                )
            )
        # The mappings retry every message of their scope that waits for them, not only those the
        # dialog was opened from: the notification counts the messages that left the exception.
        waiting_domain = [
            ("state", "=", "exception"),
            ("missing_code", "in", self.line_ids.mapped("missing_code")),
        ]
        Message = self.env["integration.message"]
        waiting_before = Message.search_count(waiting_domain)
        mappings = self.env["integration.mapping"].create([line._mapping_values() for line in self.line_ids])
        waiting = waiting_before - Message.search_count(waiting_domain)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("%s mapping(s) created", len(mappings)),
                "message": self.env._("%s waiting message(s) were sent back to the queue.", waiting),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


class IntegrationMappingWizardLine(models.TransientModel):
    """One missing mapping: what the user says the code (or the record) stands for."""

    _name = "integration.mapping.wizard.line"
    _description = "Missing Mapping to Create"

    wizard_id = fields.Many2one(
        "integration.mapping.wizard",
        required=True,
        ondelete="cascade",
        help="The dialog the line belongs to.",
    )
    backend_id = fields.Many2one(
        "integration.backend", required=True, readonly=True, help="The backend whose messages wait."
    )
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        readonly=True,
        help="Inbound: a code the backend sent. Outbound: an Odoo record that needs a code at the backend.",
    )
    missing_model = fields.Char(required=True, readonly=True, help="The model (or value set) of the mapping.")
    missing_code = fields.Char(
        required=True, readonly=True, help="The missing code, as the message recorded it."
    )
    missing_label = fields.Char(string="Missing", readonly=True, help="What is missing, in words.")
    message_count = fields.Integer(string="Waiting", readonly=True, help="Messages waiting for this mapping.")
    kind = fields.Selection(
        [("record", "Record"), ("value", "Value")],
        required=True,
        readonly=True,
        help="Record: the code stands for an Odoo record. Value: for a value of an enumeration.",
    )
    res_model = fields.Char(
        string="Model", readonly=True, help="The model of the record the code stands for."
    )
    res_id = fields.Many2oneReference(
        string="Record", model_field="res_model", help="The Odoo record the code stands for."
    )
    value_set = fields.Char(readonly=True, help="The enumeration of a value mapping, e.g. scrap_reason.")
    value = fields.Char(help="The canonical value the code stands for.")
    external_code = fields.Char(
        string="Code",
        help="The code the backend uses: the one it sent, or (for an Odoo record it does not know yet) "
        "the code to send it under.",
    )
    scope = fields.Selection(
        SCOPES,
        required=True,
        default="backend",
        string="Serves",
        help="Which backends the new mapping serves: Backend, this backend only; Plant, every backend of "
        "its plant; Company, every backend of its company. The most specific mapping wins.",
    )

    @api.model
    def _prefill(self, backend, direction, missing_model, missing_code):
        """The line for one missing mapping, with what Odoo already knows filled in.

        Its count is of every message of the backend that waits for the
        mapping (the mapping retries them all), not only of those the dialog
        was opened from.
        """
        count = self.env["integration.message"].search_count(
            [
                ("state", "=", "exception"),
                ("backend_id", "=", backend.id),
                ("direction", "=", direction),
                ("missing_model", "=", missing_model),
                ("missing_code", "=", missing_code),
            ]
        )
        values = {
            "backend_id": backend.id,
            "direction": direction,
            "missing_model": missing_model,
            "missing_code": missing_code,
            "message_count": count,
            "missing_label": self.env["integration.message"]._describe_missing(
                backend, direction, missing_model, missing_code
            ),
        }
        if missing_model.startswith("value:"):
            value_set = missing_model.removeprefix("value:")
            sibling = self._sibling(
                backend, [("external_code", "=", missing_code), ("value_set", "=", value_set)]
            )
            return {
                **values,
                "kind": "value",
                "value_set": value_set,
                "external_code": missing_code,
                "value": sibling.value,
            }
        values.update(kind="record", res_model=missing_model)
        if direction == "outbound":
            record = self.env["integration.message"]._missing_record(missing_model, missing_code)
            return {**values, "res_id": record.id if record else False}
        sibling = self._sibling(
            backend, [("external_code", "=", missing_code), ("res_model", "=", missing_model)]
        )
        return {**values, "external_code": missing_code, "res_id": sibling.res_id}

    @api.model
    def _sibling(self, backend, domain):
        """A mapping of the same code for another backend of the company: a likely answer."""
        return self.env["integration.mapping"].search(
            [*domain, ("company_id", "=", backend.company_id.id)], order="id desc", limit=1
        )

    def _is_complete(self):
        self.ensure_one()
        target = self.value if self.kind == "value" else self.res_id
        return bool(target and self.external_code)

    def _mapping_values(self):
        self.ensure_one()
        values = {
            "kind": self.kind,
            "external_code": self.external_code.strip(),
            "backend_id": self.backend_id.id if self.scope == "backend" else False,
            "warehouse_id": self.backend_id.warehouse_id.id if self.scope == "plant" else False,
            "company_id": self.backend_id.company_id.id,
        }
        if self.kind == "value":
            return {**values, "value_set": self.value_set, "value": self.value.strip()}
        return {**values, "res_model": self.res_model, "res_id": self.res_id}
