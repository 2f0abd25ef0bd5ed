from . import maintenance_equipment
from . import cmms_equipment_processor
