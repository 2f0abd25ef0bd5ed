from . import integration_backend
from . import integration_edi_interchange
from . import sale_order
from . import account_move
from . import edi_processor
from . import edi_interchange_processor
from . import edi_order_processor
from . import edi_acknowledgement_processor
