"""Plain-Python helpers of the MES connector: no ORM, unit-testable without a database."""
