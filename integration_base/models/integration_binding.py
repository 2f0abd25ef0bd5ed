# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..exceptions import WaitingError


class IntegrationBinding(models.Model):
    """The identity of an Odoo record at one backend: "this downtime line is stop 4711 at the MES".

    A mapping translates the codes of shared master data (a product code, a
    reason code), which people maintain; a binding records an identity the
    external system gave to a record that messages create and later change (a
    downtime, a quality hold, a CMMS work order, an EDI document), which the
    engine maintains. One external id stands for one record per backend and
    model, and a record has one external id per backend.

    Processors use :meth:`_find_bound`, :meth:`_bind` and :meth:`_upsert`;
    binding a record wakes the messages that waited for it.
    """

    _name = "integration.binding"
    _description = "Integration Binding"
    _order = "backend_id, res_model, external_id"
    _rec_name = "external_id"

    backend_id = fields.Many2one(
        "integration.backend",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        help="The system whose id this is.",
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True, help="The company of the backend."
    )
    warehouse_id = fields.Many2one(
        related="backend_id.warehouse_id", store=True, string="Plant", help="The plant of the backend."
    )
    res_model = fields.Char(
        string="Model", required=True, readonly=True, help="The Odoo model of the record."
    )
    res_model_name = fields.Char(
        string="Record Type", compute="_compute_record", help="The kind of Odoo record, in words."
    )
    res_id = fields.Many2oneReference(
        string="Record ID",
        model_field="res_model",
        required=True,
        readonly=True,
        help="The Odoo record's id.",
    )
    record_name = fields.Char(
        string="Odoo Record", compute="_compute_record", help="The Odoo record, as people call it."
    )
    external_id = fields.Char(
        string="External ID", required=True, readonly=True, help="The record's id at the backend."
    )

    _backend_external_unique = models.Constraint(
        "UNIQUE(backend_id, res_model, external_id)",
        "This external id is already bound to another record of this backend.",
    )
    _backend_record_unique = models.Constraint(
        "UNIQUE(backend_id, res_model, res_id)",
        "This record already has an external id at this backend.",
    )

    @api.depends("res_model", "res_id")
    def _compute_record(self):
        for binding in self:
            model = self.env[binding.res_model] if binding.res_model in self.env else None
            record = model.browse(binding.res_id).exists() if model is not None else None
            binding.res_model_name = model._description if model is not None else binding.res_model
            binding.record_name = record.display_name if record else False

    @api.model
    def _find_bound(self, backend, res_model, external_id):
        """The record of ``res_model`` that ``backend`` calls ``external_id`` (empty when none is)."""
        binding = self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", res_model),
                ("external_id", "=", external_id),
            ],
            limit=1,
        )
        return self.env[res_model].browse(binding.res_id).exists()

    @api.model
    def _bound_or_wait(self, backend, res_model, external_id):
        """The record ``backend`` calls ``external_id``; until it exists, the message waits for it.

        For a message about a record an earlier message (or a person) is yet
        to create: it is parked, and retried by itself once the record is bound.
        """
        record = self._find_bound(backend, res_model, external_id)
        if record:
            return record
        raise WaitingError(
            self.env._(
                "%(backend)s sent %(model)s '%(id)s', which Odoo does not have yet: the message waits "
                "for it and goes on by itself once it arrives.",
                backend=backend.display_name,
                model=self.env[res_model]._description,
                id=external_id,
            ),
            res_model,
            str(external_id),
        )

    @api.model
    def _external_id(self, backend, record):
        """The id ``backend`` knows ``record`` by, or ``False``."""
        binding = self.sudo().search(
            [("backend_id", "=", backend.id), ("res_model", "=", record._name), ("res_id", "=", record.id)],
            limit=1,
        )
        return binding.external_id or False

    @api.model
    def _bind(self, backend, record, external_id):
        """Say that ``backend`` calls ``record`` ``external_id``; the messages that waited for it go on.

        Binding the same pair again changes nothing; an external id already
        bound to another record, or a record bound under another id, is refused.
        """
        record.ensure_one()
        external_id = str(external_id)
        bound = self._find_bound(backend, record._name, external_id)
        if bound == record:
            return record
        known_as = self._external_id(backend, record)
        if bound or known_as:
            raise ValidationError(
                self.env._(
                    "%(backend)s cannot call %(record)s '%(id)s': %(reason)s",
                    backend=backend.display_name,
                    record=record.display_name,
                    id=external_id,
                    reason=self.env._("that id is %s already", bound.display_name)
                    if bound
                    else self.env._("it is known as '%s' already", known_as),
                )
            )
        self.sudo().create(
            {
                "backend_id": backend.id,
                "res_model": record._name,
                "res_id": record.id,
                "external_id": external_id,
            }
        )
        self.env["integration.message"]._wake(
            record._name,
            external_id,
            backend.company_id,
            backend=backend,
            note=self.env._("%(record)s now exists", record=record.display_name),
        )
        return record

    @api.model
    def _upsert(self, backend, res_model, external_id, values):
        """The record ``backend`` calls ``external_id``, written with ``values``, or created and bound."""
        record = self._find_bound(backend, res_model, external_id)
        if record:
            record.write(values)
            return record
        return self._bind(backend, self.env[res_model].create(values), external_id)

    def action_open_record(self):
        """Open the bound Odoo record."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
