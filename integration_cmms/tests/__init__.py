from . import test_cmms_equipment
