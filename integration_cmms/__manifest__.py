# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Integration CMMS",
    "summary": "Connects equipment and maintenance requests with the plant's CMMS",
    "version": "19.0.1.0.0",
    "category": "Manufacturing/Maintenance",
    "author": "Integration Suite",
    "maintainers": ["integration-suite"],
    "website": "https://github.com/integration-suite",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["integration_base", "maintenance"],
    "data": [
        "data/integration_flow_template_data.xml",
        "data/integration_event_data.xml",
        "data/integration_subscription_data.xml",
        "views/maintenance_equipment_views.xml",
    ],
    "installable": True,
}
