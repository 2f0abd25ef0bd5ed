# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..exceptions import MissingMappingError


class IntegrationMapping(models.Model):
    """A canonical cross-reference from an external code to Odoo.

    Plant systems speak in their own codes: 'GBX-100' for a product, 'WC07'
    for a work centre, 'SCR-2' for a scrap reason. A mapping says what such a
    code means in Odoo, either a record (kind *record*) or a value of an
    enumeration (kind *value*, for example the scrap reason 'SCR-2' meaning
    'damaged'). A mapping can serve one backend, every backend of one plant,
    or all backends; the most specific one wins. Connectors resolve codes with
    :meth:`_lookup` and :meth:`_lookup_value`, which raise a business error
    naming exactly what is missing; creating that mapping retries the
    messages that waited for it.
    """

    _name = "integration.mapping"
    _description = "Integration Mapping"
    _inherit = ["mail.thread"]
    _order = "res_model, value_set, external_code"
    _check_company_auto = True

    kind = fields.Selection(
        [("record", "Record"), ("value", "Value")],
        required=True,
        default="record",
        tracking=True,
        help="Record: the code stands for an Odoo record (a product, a work centre). Value: for a value "
        "of an enumeration (a scrap reason).",
    )
    backend_id = fields.Many2one(
        "integration.backend",
        tracking=True,
        index=True,
        check_company=True,
        help="Only for this backend. Leave empty to share the mapping with the plant's (or all) backends.",
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Plant",
        tracking=True,
        index=True,
        check_company=True,
        help="Only for the backends of this plant. Leave empty for every plant.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
        help="The company whose backends use the mapping: the backend's, or the plant's, when it has "
        "one; a company-wide mapping serves that company's backends only.",
    )
    external_code = fields.Char(
        required=True, tracking=True, help="The code as the external system sends it."
    )
    res_model = fields.Char(
        string="Model", tracking=True, index=True, help="The Odoo model of a record mapping."
    )
    res_id = fields.Many2oneReference(
        string="Record ID",
        model_field="res_model",
        tracking=True,
        help="The id of the Odoo record the code stands for.",
    )
    record_ref = fields.Reference(
        selection="_selection_record_ref",
        string="Odoo Record",
        compute="_compute_record_ref",
        readonly=False,
        help="The record the code stands for (stored as its model and id).",
    )
    value_set = fields.Char(
        help="The enumeration a value mapping belongs to, for example 'scrap_reason' or 'uom'.",
        tracking=True,
        index=True,
    )
    value = fields.Char(tracking=True, help="The canonical value the external code stands for.")
    active = fields.Boolean(
        default=True, tracking=True, help="Archive a mapping to stop using it without losing it."
    )

    # Company first: two companies map the same code each their own way. (A database made
    # before the company was part of it gets the new definition on update: Odoo replaces a
    # constraint whose definition changed.)
    _scope_code_unique = models.Constraint(
        "UNIQUE NULLS NOT DISTINCT "
        "(company_id, backend_id, warehouse_id, res_model, value_set, external_code)",
        "This external code is already mapped in this scope.",
    )

    @api.depends("backend_id", "warehouse_id")
    def _compute_company_id(self):
        """The company of the backend, else of the plant; the user's for a company-wide mapping.

        A mapping serves the backends of its company only (see
        :meth:`_most_specific`): a company taken from the user would make a
        mapping for another company's backend serve no one.
        """
        for mapping in self:
            mapping.company_id = (
                mapping.backend_id.company_id
                or mapping.warehouse_id.company_id
                or mapping.company_id
                or self.env.company
            )

    @api.model
    def _selection_record_ref(self):
        """Every persistent model: a mapping or a message may point to any Odoo record."""
        return [
            (model.model, model.name)
            for model in self.env["ir.model"].sudo().search([("transient", "=", False)])
        ]

    @api.depends("res_model", "res_id")
    def _compute_record_ref(self):
        for mapping in self:
            valid = mapping.res_model in self.env and mapping.res_id
            mapping.record_ref = f"{mapping.res_model},{mapping.res_id}" if valid else False

    @api.model
    def _split_record_ref(self, vals):
        """Store a written ``record_ref`` ('model,id' or a record) as ``res_model`` and ``res_id``."""
        if "record_ref" not in vals:
            return vals
        ref = vals.pop("record_ref")
        if isinstance(ref, str):
            model, _sep, res_id = ref.partition(",")
            ref = self.env[model].browse(int(res_id))
        vals.update(res_model=ref._name if ref else False, res_id=ref.id if ref else False)
        return vals

    @api.depends("external_code", "res_model", "res_id", "value_set", "value")
    def _compute_display_name(self):
        for mapping in self:
            if mapping.kind == "value" and mapping.value:
                target = f"{mapping.value_set}: {mapping.value}"
            elif mapping.kind == "record" and mapping.record_ref:
                target = mapping.record_ref.display_name
            else:
                target = False
            code = mapping.external_code
            if code and target:
                mapping.display_name = f"{code} → {target}"
            else:
                # A mapping being made has no code or no target yet: no "False → ?" in its breadcrumb.
                mapping.display_name = code or self.env._("New Mapping")

    @api.constrains("kind", "res_model", "res_id", "value_set", "value")
    def _check_target(self):
        for mapping in self:
            if mapping.kind == "record" and not (mapping.res_model and mapping.res_id):
                raise ValidationError(
                    self.env._("Mapping %s must point to an Odoo record.", mapping.external_code)
                )
            if mapping.kind == "value" and not (mapping.value_set and mapping.value):
                raise ValidationError(
                    self.env._("Mapping %s needs a value set and a value.", mapping.external_code)
                )

    @api.model_create_multi
    def create(self, vals_list):
        mappings = super().create([self._split_record_ref(dict(vals)) for vals in vals_list])
        Message = self.env["integration.message"].sudo()
        for mapping in mappings:
            scope = (mapping.company_id, mapping.backend_id, mapping.warehouse_id)
            Message._retry_waiting_for_mapping(mapping._missing_key(), mapping.external_code, *scope)
            if mapping.kind == "record":
                # Outbound messages wait for the code of a record (see _external_code).
                Message._retry_waiting_for_mapping(mapping.res_model, mapping._record_ref_key(), *scope)
        return mappings

    def write(self, vals):
        return super().write(self._split_record_ref(dict(vals)))

    def _record_ref_key(self):
        """``model,id`` of the mapped record, as outbound messages waiting for its code record it."""
        self.ensure_one()
        return f"{self.res_model},{self.res_id}"

    def _missing_key(self):
        """What a message records as missing when it lacks this kind of mapping."""
        self.ensure_one()
        return self.res_model if self.kind == "record" else f"value:{self.value_set}"

    @api.model
    def _find(self, backend, external_code, res_model=None, value_set=None):
        """The most specific active mapping of ``external_code`` for ``backend``."""
        return self._most_specific(
            backend,
            [
                ("external_code", "=", external_code),
                ("res_model", "=", res_model or False),
                ("value_set", "=", value_set or False),
            ],
        )

    @api.model
    def _most_specific(self, backend, domain):
        """Among the active mappings matching ``domain`` that serve ``backend``, the most specific one:

        the backend's own, then its plant's, then the company-wide one.
        """
        scopes = [
            ("backend_id", "=", backend.id),
            "&",
            ("backend_id", "=", False),
            ("warehouse_id", "=", backend.warehouse_id.id),
            "&",
            ("backend_id", "=", False),
            ("warehouse_id", "=", False),
        ]
        candidates = self.sudo().search(
            [*domain, ("company_id", "=", backend.company_id.id), "|", "|", *scopes]
        )
        return candidates.sorted(lambda m: (not m.backend_id, not m.warehouse_id))[:1]

    @api.model
    def _external_code(self, backend, record, default=None):
        """The code ``backend`` uses for the Odoo ``record``: the reverse of :meth:`_lookup`.

        For outbound messages. Without a mapping, returns ``default`` when one
        is given; otherwise raises a business error naming the record, and
        creating the mapping retries the waiting messages.
        """
        mapping = self._most_specific(backend, [("res_model", "=", record._name), ("res_id", "=", record.id)])
        if mapping:
            return mapping.external_code
        if default is None:
            raise MissingMappingError(
                self.env._(
                    "%(record)s (%(model)s) has no code at %(backend)s. Use Create Mapping on the "
                    "message, or Integration > Monitoring > Codes to Map: the messages waiting for it "
                    "are then retried by themselves.",
                    record=record.display_name,
                    model=record._description,
                    backend=backend.display_name,
                ),
                record._name,
                f"{record._name},{record.id}",
            )
        return default

    @api.model
    def _lookup(self, backend, res_model, external_code):
        """The Odoo record of ``res_model`` that ``backend`` calls ``external_code``.

        Raises a business error naming the backend, the kind of record and the
        code when there is no such mapping (or its record was deleted).
        """
        mapping = self._find(backend, external_code, res_model=res_model)
        record = self.env[res_model].browse(mapping.res_id).exists() if mapping else None
        if not record:
            raise MissingMappingError(
                self.env._(
                    "%(backend)s sent the %(model)s code '%(code)s', which is not mapped to any "
                    "%(model)s in Odoo. Use Create Mapping on the message, or Integration > "
                    "Monitoring > Codes to Map: the messages waiting for it are then retried by "
                    "themselves.",
                    backend=backend.display_name,
                    model=self.env[res_model]._description,
                    code=external_code,
                ),
                res_model,
                external_code,
            )
        return record

    @api.model
    def _lookup_value(self, backend, value_set, external_code):
        """The canonical value that ``backend`` calls ``external_code`` in ``value_set``."""
        mapping = self._find(backend, external_code, value_set=value_set)
        if not mapping:
            raise MissingMappingError(
                self.env._(
                    "%(backend)s sent the %(set)s code '%(code)s', which has no value mapping. "
                    "Use Create Mapping on the message, or Integration > Monitoring > "
                    "Codes to Map: the messages waiting for it are then retried by themselves.",
                    backend=backend.display_name,
                    set=value_set,
                    code=external_code,
                ),
                f"value:{value_set}",
                external_code,
            )
        return mapping.value
