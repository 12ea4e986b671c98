"""The hub's local web page (status for the family and the technician)."""

from hub.web.status import StatusProvider, create_app

__all__ = ["StatusProvider", "create_app"]
