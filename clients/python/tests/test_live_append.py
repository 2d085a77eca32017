"""append_contacts against POST /api/v1/campaigns/{id}/contacts (SPEC "Safe operations"): passes once that route is in."""

from __future__ import annotations

import uuid

import edgedial
from edgedial import Edgedial

from .conftest import Live


def test_live_append_contacts_to_a_draft(live: Live) -> None:
    base = uuid.uuid4().int % 10_000
    first, second = f"+1415{base:04d}0004", f"+1415{(base + 1) % 10_000:04d}0004"
    with Edgedial(api_key=live.api_key, base_url=live.base_url) as client:
        campaign = client.campaigns.create(
            name="Append", agent_id=live.agent_id, phone_number_id=live.phone_number_id, contacts=f"phone_number,plan\n{first},gold\n".encode()
        )
        appended = client.campaigns.append_contacts(campaign["id"], [{"phone_number": second, "plan": "silver"}, {"phone_number": first, "plan": "gold"}])
        assert appended == {"added": 1, "duplicates_skipped": 1, "dnc_suppressed": 0, "total": 2}
        contacts = client.campaigns.list_contacts(campaign["id"]).items
        assert [contact["phone_number"] for contact in contacts] == [first, second]
        try:
            client.campaigns.append_contacts(campaign["id"], f"phone_number,colour\n{second}0,red\n".encode())
        except edgedial.BadRequestError as refused:
            assert "colour" in refused.message
        else:
            raise AssertionError("a column the campaign does not have must be refused")
