"""How a mock answers like a provider that refuses: an invoke that finds nothing fails, it does not return `{}`."""

from __future__ import annotations

__all__ = ["InvokeFailure"]


class InvokeFailure(Exception):  # noqa: N818 - the provider's word: the invoke reports a failure
    """Raised by a CALLS answer; the mocks return it to the program as the invoke's failure on `property`."""

    def __init__(self, property_name: str, reason: str) -> None:
        self.property_name = property_name
        self.reason = reason
        super().__init__(f"{reason} ({property_name})")
