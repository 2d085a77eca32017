import type { CallingWindow } from "../calling-window/calling-window";
import { nowIso } from "../db/client";
import type { ContactStatus } from "../db/schema";
import { ContactLookup } from "./contact-lookup";
import type { D1Sync } from "./d1-sync";
import type { EventHub } from "./live/event-hub";
import { contactWebhookView } from "./reports/webhook-reports";
import type { ContactView } from "./results/call-results";
import type { CampaignState } from "./storage/campaign-state";
import type { ObjectStorage } from "./storage/object-storage";
import type { Transitions } from "./transitions";

/** `contact`: the view when the object holds the contact; null when D1's row is the contact as it is. */
export type CancelOutcome = { ok: true; changed: boolean; contact: ContactView | null } | { ok: false; reason: "not_found" | "conflict"; message: string };

const windowOf = (state: CampaignState) => (state.calling_window ? (JSON.parse(state.calling_window) as CallingWindow) : null);

/** What cancelling a contact in `status` does: end it, refuse (a call is under way), or nothing (it has ended). */
export function cancelDecision(status: ContactStatus): "cancel" | "in_flight" | "ended" {
  if (status === "pending") return "cancel";
  if (status === "originated" || status === "connected") return "in_flight";
  return "ended";
}

/**
 * An operator cancels one contact (SPEC "Cancel one contact"). The object is the one writer of
 * contact state, and the dispatcher reads a contact again, synchronously, just before it writes the
 * attempt record: a contact cancelled here before that instant is never dialled, and one dialled
 * before it is in flight, which is refused.
 */
export class ContactCancels {
  private readonly lookup: ContactLookup;

  constructor(private readonly parts: { storage: ObjectStorage; d1: D1Sync; transitions: Transitions; hub: EventHub }) {
    this.lookup = new ContactLookup(parts);
  }

  async cancel(campaignId: string, contactId: string, seq: number): Promise<CancelOutcome> {
    const { d1, transitions, hub } = this.parts;
    const state = await d1.load(campaignId);
    if (!state) return { ok: false, reason: "not_found", message: `Campaign ${campaignId} was not found.` };
    const found = await this.lookup.find(campaignId, contactId, seq);
    if (!found) return { ok: false, reason: "not_found", message: `Contact ${contactId} was not found.` };
    // Decided on the contact as it is now: the D1 read above may have let a tick dial it meanwhile.
    const here = this.parts.storage.contacts.get(contactId);
    const status = here?.status ?? ("live" in found ? found.live.status : found.row.status);
    switch (cancelDecision(status)) {
      case "ended":
        return { ok: true, changed: false, contact: here ? contactWebhookView(campaignId, here, nowIso(), windowOf(state)) : null };
      case "in_flight":
        return { ok: false, reason: "conflict", message: `Contact ${contactId} is in a call now; it cannot be cancelled until the call ends.` };
      case "cancel": {
        const contact = here ?? this.lookup.adopt(found);
        const at = nowIso();
        const next = transitions.contact(contact, { status: "cancelled", outcome: "canceled", next_attempt_at: null, callback_at: null }, contact.attempts, at);
        await d1.flush();
        hub.publish();
        return { ok: true, changed: true, contact: contactWebhookView(campaignId, next, at, windowOf(state)) };
      }
    }
  }
}
