import type { Timers } from "./storage/timers";

/**
 * Exactly one alarm, at the earliest timer row or the outbox's next due time, whichever is first. The armed time is kept in memory, because
 * callbacks ask to re-arm far more often than the earliest timer changes. While the alarm handler
 * runs, only the handler arms, on its way out: it then sees every timer set meanwhile, and the
 * callbacks that arrive during a tick cost no alarm writes.
 */
export class AlarmClock {
  /** The alarm as last set by this instance (undefined until read from storage once). */
  private armedAt: number | null | undefined;
  private handlerRunning = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly timers: Timers,
    /** Other parts that need the alarm (the webhook outbox): their next due time, or null. */
    private readonly otherDue: () => number | null = () => null,
  ) {}

  async arm() {
    if (this.handlerRunning) return;
    const other = this.otherDue();
    const timer = this.timers.earliest();
    const earliest = other === null ? timer : timer === null ? other : Math.min(timer, other);
    this.armedAt ??= await this.storage.getAlarm();
    if (earliest === this.armedAt) return;
    this.armedAt = earliest;
    if (earliest === null) await this.storage.deleteAlarm();
    else await this.storage.setAlarm(earliest);
  }

  /** The alarm handler started: a running alarm is no longer armed. */
  fired() {
    this.handlerRunning = true;
    this.armedAt = null;
  }

  /** The alarm handler ends: whatever is due next, including what came in meanwhile, is armed now. */
  async handlerDone() {
    this.handlerRunning = false;
    await this.arm();
  }

  async disarm() {
    await this.storage.deleteAlarm();
    this.armedAt = null;
  }

  armedFor(): Promise<number | null> {
    return this.storage.getAlarm();
  }
}
