# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo.addons.integration_base.tests.common import IntegrationCase

PARTNER_SCHEMA = {
    "type": "object",
    "required": ["ref", "name"],
    "properties": {
        "ref": {"type": "string", "minLength": 1},
        "name": {"type": "string"},
        "country": {"type": "string"},
        "simulate": {
            "enum": ["timeout", "fail_first", "nameless_contact", "slow", "closed", "vanished_country"]
        },
    },
    "additionalProperties": False,
}


class EngineCase(IntegrationCase):
    """An active backend at plant A with an active partner contract."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flow_owner = cls.integration_manager
        cls.backend = cls._create_backend("test-a", system_type="generic", plant=cls.plant_a)
        cls.backend.action_activate()
        cls.flow = cls._create_flow(cls.backend)
        cls.Message = cls.env["integration.message"]

    @classmethod
    def _create_flow(cls, backend, **values):
        flow = cls.env["integration.flow"].create(
            {
                "name": "Partner",
                "code": "test.partner",
                "backend_id": backend.id,
                "schema": json.dumps(PARTNER_SCHEMA),
                "processor": "integration.processor.test.partner",
                "owner_id": cls.flow_owner.id,
                "retry_max": 3,
                "retry_backoff_seconds": 60,
                **values,
            }
        )
        flow.action_activate()
        return flow

    def _ingest(self, payload, key=None, backend=None, **kwargs):
        return self.Message._ingest(
            backend or self.backend, "test.partner", payload, idempotency_key=key, **kwargs
        )

    def _drain(self, backend=None):
        """Run the backend's drain job body, as the job runner would."""
        return self._dispatch(backend or self.backend)

    def _partners(self, ref):
        return self.env["res.partner"].search([("ref", "=", ref)])
