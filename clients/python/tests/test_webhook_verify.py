"""webhooks.verify against deliveries signed the Standard Webhooks way."""

from __future__ import annotations

import time

import pytest

import edgedial
from edgedial import Edgedial
from edgedial._webhook_signature import sign

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = '{"type":"contact.completed","timestamp":"2026-01-02T03:04:05.000Z","data":{"id":"ctc_1","status":"completed"}}'
SENT_AT = 1767323045
# Signed by the reference `standardwebhooks` library for Node, so this check is not only against itself.
HEADERS = {"webhook-id": "msg_2Lh9KsVq8Y", "webhook-timestamp": str(SENT_AT), "webhook-signature": "v1,z6caB3/b+abHjWPDprfPQE7Wt8gVn+/rymV6nAIbt2w="}


def verify(payload: str | bytes = BODY, headers: dict[str, str] = HEADERS, secret: str = SECRET, now: float = SENT_AT + 10) -> object:
    return edgedial.verify_webhook(payload, headers, secret, now=now)


def test_a_reference_signature_verifies_and_answers_the_body() -> None:
    message = verify()
    assert message == {"type": "contact.completed", "timestamp": "2026-01-02T03:04:05.000Z", "data": {"id": "ctc_1", "status": "completed"}}
    assert verify(payload=BODY.encode()) == message, "bytes as received work as well as text"
    assert verify(headers={key.title(): value for key, value in HEADERS.items()}) == message, "header names in any case"
    assert sign(BODY, HEADERS["webhook-id"], SENT_AT, SECRET) == HEADERS["webhook-signature"]


def test_one_matching_signature_among_several_is_enough() -> None:
    rotated = {**HEADERS, "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + HEADERS["webhook-signature"]}
    assert verify(headers=rotated)["type"] == "contact.completed"


@pytest.mark.parametrize(
    "change, sentence",
    [
        ({"payload": BODY.replace("completed", "failed")}, "No webhook-signature matches"),
        ({"secret": "whsec_" + "A" * 32}, "No webhook-signature matches"),
        ({"headers": {**HEADERS, "webhook-id": "msg_other"}}, "No webhook-signature matches"),
        ({"headers": {**HEADERS, "webhook-signature": "v2," + HEADERS["webhook-signature"][3:]}}, "No webhook-signature matches"),
        ({"now": SENT_AT + 301}, "more than 300 s ago"),
        ({"now": SENT_AT - 301}, "in the future"),
        ({"headers": {k: v for k, v in HEADERS.items() if k != "webhook-timestamp"}}, "no webhook-timestamp header"),
        ({"headers": {**HEADERS, "webhook-timestamp": "yesterday"}}, "not a number"),
    ],
)
def test_a_forged_stale_or_incomplete_delivery_is_refused(change: dict, sentence: str) -> None:
    with pytest.raises(edgedial.WebhookVerificationError, match=sentence):
        verify(**change)


def test_the_client_exposes_verify_without_a_key() -> None:
    signed_now = {**HEADERS}
    now = int(time.time())
    signed_now["webhook-timestamp"] = str(now)
    signed_now["webhook-signature"] = sign(BODY, HEADERS["webhook-id"], now, SECRET)
    assert Edgedial(api_key="unused").webhooks.verify(BODY, signed_now, SECRET)["data"]["id"] == "ctc_1"
    with pytest.raises(ValueError, match="whsec_"):
        verify(secret="whsec_not base64!")
