"""The simulated plant: what it makes, on which machines, and the codes its MES and CMMS use.

Everything here is the plant's vocabulary. ``seed`` gives each code an Odoo
record and a mapping on the backend, so that Odoo understands the plant;
the scenario only ever speaks in these codes.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    tracking: str  # "none" or "lot": a lot-tracked product's confirmations name the lot
    work_centre: str
    operation: str
    components: tuple  # (component code, quantity per unit)
    reported: str  # the component whose real use the MES measures and reports


WORK_CENTRES = {
    "SIM-ASSY": "Simulated assembly cell",
    "SIM-CNC": "Simulated CNC mill",
    "SIM-PACK": "Simulated packing line",
}

COMPONENTS = {
    "SIM-BODY": "Simulated valve body",
    "SIM-SEAL": "Simulated seal",
    "SIM-BOLT": "Simulated bolt",
    "SIM-HOUSING": "Simulated pump housing",
    "SIM-IMPELLER": "Simulated impeller",
    "SIM-BOX": "Simulated carton",
}

PRODUCTS = (
    Product(
        "SIM-VALVE",
        "Simulated valve",
        "none",
        "SIM-ASSY",
        "Assemble valve",
        (("SIM-BODY", 1), ("SIM-SEAL", 2), ("SIM-BOLT", 4)),
        "SIM-BOLT",
    ),
    Product(
        "SIM-PUMP",
        "Simulated pump",
        "lot",
        "SIM-CNC",
        "Machine pump",
        (("SIM-HOUSING", 1), ("SIM-IMPELLER", 1), ("SIM-BOLT", 6)),
        "SIM-BOLT",
    ),
    Product(
        "SIM-KIT",
        "Simulated seal kit",
        "none",
        "SIM-PACK",
        "Pack kit",
        (("SIM-BOX", 1), ("SIM-SEAL", 4)),
        "SIM-SEAL",
    ),
)

# The machines the plant's CMMS looks after, and the work centre each one serves.
EQUIPMENT = {
    "SIM-EQ-ROBOT": ("Simulated assembly robot", "SIM-ASSY"),
    "SIM-EQ-SPINDLE": ("Simulated CNC spindle", "SIM-CNC"),
    "SIM-EQ-SEALER": ("Simulated carton sealer", "SIM-PACK"),
}

SCRAP_REASONS = {"DMG": "Simulated: damaged", "DIM": "Simulated: out of tolerance"}
STOP_REASONS = {"BRKDWN": "Simulated breakdown"}

# Codes no mapping will ever serve: the deliberately bad events use them.
UNKNOWN_COMPONENT = "SIM-GHOST-PART"
UNKNOWN_WORK_CENTRE = "SIM-WC-GHOST"

PRODUCTS_BY_CODE = {product.code: product for product in PRODUCTS}
