# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one error of formats: the bytes cannot be read as the format says, and where."""


class FormatError(ValueError):
    """The bytes are not valid in their format; ``position`` says where (a line, a segment...)."""

    def __init__(self, message, position=None):
        super().__init__(f"{message} (at {position})" if position is not None else message)
        self.reason = message
        self.position = position
