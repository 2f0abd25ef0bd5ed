from . import test_integration_backend
