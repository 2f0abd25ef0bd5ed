from . import test_cmms_equipment
from . import test_cmms_record_state
