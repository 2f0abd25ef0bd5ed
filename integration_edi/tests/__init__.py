from . import test_edi_backend
from . import test_edi_record_state
from . import test_edi_syntax
from . import test_edi_orders
from . import test_edi_upload
from . import test_edi_control_numbers
