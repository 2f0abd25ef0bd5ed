from . import integration_backend
from . import sale_order
from . import account_move
