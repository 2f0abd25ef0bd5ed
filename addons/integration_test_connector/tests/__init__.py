from . import test_engine
from . import test_security
from . import test_webhook
from . import test_delivery
from . import test_monitoring
from . import test_hostile_input
from . import test_multi_company
from . import test_reliability_findings
