# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Integration Test Connector",
    "summary": "Test-only connector: the smallest connector the engine allows, and the engine's tests",
    "version": "19.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "Integration Suite",
    "license": "LGPL-3",
    "depends": ["integration_base"],
    "data": ["data/integration_event_data.xml"],
    "installable": True,
}
