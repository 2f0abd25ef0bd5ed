"""Plain-Python helpers of the engine: no ORM, unit-testable without a database."""
