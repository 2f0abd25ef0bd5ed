# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo import models

# Equipment that Odoo sent to the CMMS without an id of the CMMS's own is called this way.
ODOO_EQUIPMENT_REF = re.compile(r"^odoo-(\d+)$")


class CmmsProcessor(models.AbstractModel):
    """What every CMMS contract shares: the equipment the CMMS names, and its failure codes.

    The CMMS names equipment by its own asset number (a binding, once Odoo
    sent it, or a mapping a person made) or by the ``odoo-<id>`` Odoo gave
    it in ``cmms.equipment``; equipment Odoo cannot find is a missing
    mapping, so the message waits for it and goes on once it is mapped.
    """

    _name = "integration.processor.cmms"
    _inherit = "integration.processor"
    _description = "CMMS: shared rules"

    def _equipment(self, backend, ref):
        Equipment = self.env["maintenance.equipment"]
        bound = self.env["integration.binding"]._find_bound(backend, Equipment._name, ref)
        if bound:
            return bound
        odoo_ref = ODOO_EQUIPMENT_REF.match(ref)
        if odoo_ref:
            equipment = Equipment.browse(int(odoo_ref.group(1))).exists()
            if equipment and equipment.company_id in (backend.company_id, equipment.company_id.browse()):
                return equipment
        return self.env["integration.mapping"]._lookup(backend, Equipment._name, ref)

    def _equipment_ref(self, backend, equipment):
        """The name the CMMS knows ``equipment`` by: its id there, its code, or the one Odoo gives it."""
        return (
            self.env["integration.binding"]._external_id(backend, equipment)
            or self.env["integration.mapping"]._external_code(backend, equipment, default=False)
            or f"odoo-{equipment.id}"
        )

    def _failure_code(self, backend, kind, code):
        """The ISO 14224 code the CMMS's ``code`` stands for: its mapping, else the standard's own code.

        A code that is neither leaves the field empty: the breakdown still
        blocks its work centres (capacity comes first) and keeps the CMMS's
        code, to be mapped later.
        """
        FailureCode = self.env["cmms.failure.code"]
        if not code:
            return FailureCode
        mapping = self.env["integration.mapping"]._find(backend, code, res_model=FailureCode._name)
        mapped = (
            FailureCode.browse(mapping.res_id).exists().filtered(lambda c: c.kind == kind)
            if mapping
            else None
        )
        return mapped or FailureCode.search([("kind", "=", kind), ("code", "=", code)], limit=1)
