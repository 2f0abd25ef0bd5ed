from . import test_cmms_equipment
from . import test_cmms_record_state
from . import test_cmms_work_order
from . import test_cmms_breakdown
from . import test_cmms_maintenance_window
from . import test_cmms_spare_parts
from . import test_cmms_polling
from . import test_cmms_journeys
