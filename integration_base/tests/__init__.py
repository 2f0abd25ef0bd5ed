from . import test_integration_backend
from . import test_integration_credential
from . import test_lib
from . import test_web_client
from . import test_health
from . import test_metrics
from . import test_reconciliation
from . import test_message_trend
