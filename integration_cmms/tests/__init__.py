from . import test_cmms_record_state
from . import test_cmms_equipment
