import type { Env } from "../env";
import { MeteredD1 } from "./metered-d1";
import { countAlarm, countCarrierCallback, countObjectRequest, countWorkerRequest } from "./usage-counts";

/**
 * Usage metering for the cost benchmark: on only where the simulator is enabled and USAGE_METER
 * is "true", so a production deployment never wraps its bindings.
 */
export const meteringOn = (env: Pick<Env, "SIMULATOR_ENABLED" | "USAGE_METER">) => env.SIMULATOR_ENABLED === "true" && env.USAGE_METER === "true";

/** Every RPC method call or fetch on a stub is one billed Durable Object request. */
function meteredStub<T extends object>(stub: T, namespace: string): T {
  return new Proxy(stub, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function" || typeof property === "symbol" || property === "then") return value;
      return (...args: unknown[]) => {
        countObjectRequest(namespace);
        return Reflect.apply(value, target, args);
      };
    },
  });
}

function meteredNamespace(namespace: DurableObjectNamespace, name: string): DurableObjectNamespace {
  return new Proxy(namespace, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property === "get" || property === "getByName") {
        return (...args: unknown[]) => meteredStub(Reflect.apply(value, target, args) as object, name);
      }
      return value.bind(target);
    },
  });
}

const metered = new WeakMap<Env, Env>();

/** The bindings with D1 and the object namespaces counted; the same env back when metering is off. */
export function meteredEnv(env: Env): Env {
  if (!meteringOn(env)) return env;
  let wrapped = metered.get(env);
  if (!wrapped) {
    wrapped = {
      ...env,
      DB: new MeteredD1(env.DB),
      CAMPAIGNS: meteredNamespace(env.CAMPAIGNS, "campaign"),
      ACCOUNTS: meteredNamespace(env.ACCOUNTS, "account"),
      // The simulator plays the carrier: its objects are the carrier's cost, not edgedial's.
      SIMULATOR: env.SIMULATOR,
      WEBHOOK_SINK: meteredNamespace(env.WEBHOOK_SINK, "webhook_sink"),
    };
    metered.set(env, wrapped);
  }
  return wrapped;
}

/** Paths whose requests are the simulated carrier's or the meter's own, not edgedial's. */
const NOT_EDGEDIAL = /^\/simulator(\/|$)/;

/** A request entering the Worker from outside. */
export function meterWorkerRequest(request: Request, env: Env): Env {
  if (!meteringOn(env)) return env;
  if (!NOT_EDGEDIAL.test(new URL(request.url).pathname)) countWorkerRequest();
  return meteredEnv(env);
}

/** A request an object hands to the app in-process: a carrier callback here is a Worker request in production. */
export function meterOwnOriginRequest(request: Request, env: Env) {
  if (meteringOn(env) && new URL(request.url).pathname.startsWith("/webhooks/")) countCarrierCallback();
}

export function meterAlarm(env: Env, objectClass: string) {
  if (meteringOn(env)) countAlarm(objectClass);
}
