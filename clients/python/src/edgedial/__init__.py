"""The Python client for edgedial's outbound voice campaign API.

    from edgedial import Edgedial

    client = Edgedial()  # EDGEDIAL_API_KEY and EDGEDIAL_BASE_URL from the environment
    for event in client.campaigns.stream_events("cmp_…"):
        print(event.type, event.data)
"""

from ._async_client import AsyncEdgedial
from ._base import DEFAULT_BASE_URL, VERSION
from ._client import Edgedial
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EdgedialError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    WebhookVerificationError,
)
from ._events import (
    CallResultData,
    CampaignEvent,
    ContactEvent,
    ContactTransition,
    EndEvent,
    ResultEvent,
    SnapshotData,
    SnapshotEvent,
    StreamGaveUpError,
)
from ._webhook_signature import verify as verify_webhook

__version__ = VERSION

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncEdgedial",
    "AuthenticationError",
    "BadRequestError",
    "CallResultData",
    "CampaignEvent",
    "ConflictError",
    "ContactEvent",
    "ContactTransition",
    "Edgedial",
    "EdgedialError",
    "EndEvent",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResultEvent",
    "SnapshotData",
    "SnapshotEvent",
    "StreamGaveUpError",
    "WebhookVerificationError",
    "verify_webhook",
]
