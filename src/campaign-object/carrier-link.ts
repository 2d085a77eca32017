import type { OwnOrigin } from "../carriers/own-origin";
import { carrierAdapter } from "../carriers/registry";
import type { CarrierAdapter, CarrierKind } from "../carriers/types";
import type { Env } from "../env";
import type { D1Sync } from "./d1-sync";
import type { ObjectStorage } from "./storage/object-storage";

export interface CampaignCarrier {
  adapter: CarrierAdapter;
  /** The campaign's caller id (its number's E.164). */
  from: string;
}

/** The carrier adapter of the campaign's number, built once per object instance. */
export class CarrierLink {
  private cached: Promise<CampaignCarrier> | null = null;

  constructor(
    private readonly env: Env,
    private readonly storage: ObjectStorage,
    private readonly d1: D1Sync,
    private readonly loopback: OwnOrigin | undefined,
  ) {}

  get(): Promise<CampaignCarrier> {
    this.cached ??= this.load();
    this.cached.catch(() => {
      this.cached = null;
    });
    return this.cached;
  }

  /** The kind of adapter this instance dials through, if it has loaded one (for the operator view). */
  async loadedKind(): Promise<CarrierKind | null> {
    return this.cached ? ((await this.cached.catch(() => null))?.adapter.kind ?? null) : null;
  }

  /** After a delete the object starts over; a later campaign of the same id reads its number again. */
  forget() {
    this.cached = null;
  }

  private async load(): Promise<CampaignCarrier> {
    const state = this.storage.campaign.get();
    if (!state) throw new Error("the campaign is not loaded");
    const row = await this.d1.numberCarrier(state.phone_number_id);
    if (!row) throw new Error(`phone number ${state.phone_number_id} no longer exists`);
    return { adapter: await carrierAdapter(this.env, row.provider, row.credentials, this.loopback), from: row.e164 };
  }
}
