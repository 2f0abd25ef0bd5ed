# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import os
import time

from odoo import models

from odoo.addons.integration_base.exceptions import (
    DefinitiveBusinessError,
    IntegrationBusinessError,
    IntegrationTechnicalError,
)


class PartnerProcessor(models.AbstractModel):
    """A whole connector's business logic: create a partner from a message.

    With a contract (a flow whose JSON Schema describes the payload) this is
    all a connector needs: storage, deduplication, ordering, retries,
    exceptions and mappings come from the engine.
    """

    _name = "integration.processor.test.partner"
    _inherit = "integration.processor"
    _description = "Test: create a partner"

    def _process_inbound(self, message, payload):
        simulate = payload.get("simulate")
        started = time.time()
        if simulate == "slow":
            time.sleep(0.02)  # long enough for two workers to overlap if the engine let them
        if simulate == "timeout" or (simulate == "fail_first" and message.attempts < 2):
            raise IntegrationTechnicalError(self.env._("The partner's server did not answer in time."))
        if simulate == "nameless_contact":
            # A database constraint (a contact needs a name) refuses the record: a business
            # problem, not worth retrying.
            partner = self.env["res.partner"].create(
                {"name": False, "ref": payload["ref"], "type": "contact"}
            )
            partner.flush_recordset()
            return partner
        if simulate == "vanished_country":
            # Reading a record deleted since the payload named it: Odoo's MissingError.
            return self.env["res.country"].browse(2_000_000_000).name
        if simulate == "closed":
            raise DefinitiveBusinessError(
                self.env._("Partner %(ref)s is closed: it takes no more changes.", ref=payload["ref"])
            )
        if payload["name"].startswith("!"):
            raise IntegrationBusinessError(
                self.env._("A partner name cannot start with '!': %(name)s", name=payload["name"])
            )
        country = self.env["res.country"]
        if payload.get("country"):
            country = self.env["integration.mapping"]._lookup(
                message.backend_id, "res.country", payload["country"]
            )
        return self.env["res.partner"].create(
            {
                "name": payload["name"],
                "ref": payload["ref"],
                "country_id": country.id,
                # What the processor saw of its message: the state and attempt it runs in,
                # and (slow ones) when and in which process it ran, for the end-to-end tests.
                "function": f"{message.state} #{message.attempts}"
                + (f" {started:.6f}-{time.time():.6f} {os.getpid()}" if simulate == "slow" else ""),
            }
        )

    def _prepare_payload(self, flow, record, event_code):
        """The same contract outbound: any record becomes a ``ref`` and a ``name``."""
        if record.display_name.startswith("!"):
            raise IntegrationBusinessError(
                self.env._("%(record)s cannot be sent: its name starts with '!'", record=record.display_name)
            )
        return {
            "ref": record.ref if "ref" in record._fields and record.ref else str(record.id),
            "name": record.display_name,
        }
