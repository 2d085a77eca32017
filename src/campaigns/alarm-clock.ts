import type { Timers } from "./object-storage/timers";

/**
 * Exactly one alarm, at the earliest timer row. The armed time is kept in memory, because
 * callbacks ask to re-arm far more often than the earliest timer changes.
 */
export class AlarmClock {
  /** The alarm as last set by this instance (undefined until read from storage once). */
  private armedAt: number | null | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly timers: Timers,
    /** Other parts that need the alarm (the webhook outbox): their next due time, or null. */
    private readonly otherDue: () => number | null = () => null,
  ) {}

  async arm() {
    const other = this.otherDue();
    const timer = this.timers.earliest();
    const earliest = other === null ? timer : timer === null ? other : Math.min(timer, other);
    this.armedAt ??= await this.storage.getAlarm();
    if (earliest === this.armedAt) return;
    this.armedAt = earliest;
    if (earliest === null) await this.storage.deleteAlarm();
    else await this.storage.setAlarm(earliest);
  }

  /** A running alarm is no longer armed; whatever it leaves due is armed again afterwards. */
  fired() {
    this.armedAt = null;
  }

  async disarm() {
    await this.storage.deleteAlarm();
    this.armedAt = null;
  }

  armedFor(): Promise<number | null> {
    return this.storage.getAlarm();
  }
}
