from . import test_mes_backend
from . import test_mes_outbound
from . import test_mes_inbound
from . import test_mes_webhook
from . import test_mes_event_config
from . import test_mes_record_state
from . import test_mes_journeys
from . import test_mes_floor
