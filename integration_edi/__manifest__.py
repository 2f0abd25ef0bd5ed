# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Integration EDI",
    "summary": "Exchanges orders, despatch advices and invoices with trading partners",
    "version": "19.0.1.0.0",
    "category": "Sales",
    "author": "Integration Suite",
    "maintainers": ["integration-suite"],
    "website": "https://github.com/integration-suite",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["integration_base", "sale_management", "purchase", "stock"],
    "data": [
        "views/sale_order_views.xml",
        "views/account_move_views.xml",
    ],
    "installable": True,
}
