# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Integration Test Connector",
    "summary": "Test-only connector: the smallest connector the engine allows, and the engine's tests",
    "version": "19.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "Integration Suite",
    "maintainers": ["integration-suite"],
    "website": "https://github.com/integration-suite",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["integration_base"],
    # What its tests import: the reference webhook signer, the OpenAPI checker, a frozen clock.
    "external_dependencies": {"python": ["freezegun", "openapi-spec-validator", "standardwebhooks"]},
    "data": [
        "data/integration_flow_template_data.xml",
        "data/integration_event_data.xml",
    ],
    "installable": True,
}
