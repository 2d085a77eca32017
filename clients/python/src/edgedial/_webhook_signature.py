"""Checks a webhook delivery the Standard Webhooks way (https://www.standardwebhooks.com)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Mapping, Optional, Union, cast

from ._errors import WebhookVerificationError
from .types import WebhookMessage

SECRET_PREFIX = "whsec_"
# The specification's default: a delivery signed more than 5 minutes from now is a replay or a broken clock.
DEFAULT_TOLERANCE_SECONDS = 300


def _header(headers: Mapping[str, str], name: str) -> str:
    # Frameworks hand headers over in any case; HTTP names are case-insensitive.
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"The delivery has no {name} header; it was not sent by edgedial.")


def _secret_bytes(secret: str) -> bytes:
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("The webhook secret is not a whsec_… value: use the secret the endpoint's create answer carried.") from error


def sign(payload: Union[str, bytes], message_id: str, timestamp: int, secret: str) -> str:
    """The `webhook-signature` value edgedial sends for this body: `v1,<base64 HMAC-SHA256>`."""
    body = payload if isinstance(payload, bytes) else payload.encode("utf-8")
    signed = f"{message_id}.{timestamp}.".encode("utf-8") + body
    mac = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def verify(
    payload: Union[str, bytes],
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: Optional[float] = None,
) -> WebhookMessage:
    """The delivery's body once its signature and timestamp check out; WebhookVerificationError otherwise.

    Pass the body exactly as received (bytes or text, before any JSON parsing): a re-serialised
    body does not match its signature.
    """
    message_id = _header(headers, "webhook-id")
    raw_timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise WebhookVerificationError("The webhook-timestamp header is not a number of seconds.") from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError(f"The delivery was signed more than {tolerance} s ago; refuse it as a replay.")
    if timestamp > current + tolerance:
        raise WebhookVerificationError(f"The delivery is signed more than {tolerance} s in the future; check the clocks.")
    expected = sign(payload, message_id, timestamp, secret).encode("ascii")
    matched = False
    # The header may carry several space-separated signatures (during a secret rotation); any v1 one may match.
    for candidate in signatures.split():
        version, _, _value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(candidate.encode("ascii", "replace"), expected):
            matched = True
    if not matched:
        raise WebhookVerificationError("No webhook-signature matches the body: the secret is wrong or the body was changed.")
    body = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    try:
        parsed = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("The signed body is not JSON.") from None
    if not isinstance(parsed, dict):
        raise WebhookVerificationError("The signed body is not a JSON object.")
    return cast(WebhookMessage, parsed)
