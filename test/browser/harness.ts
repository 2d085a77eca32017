import { existsSync, mkdirSync } from "node:fs";
import { createServer, request as forward, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { importJWK, SignJWT } from "jose";
import { type Browser, chromium, type Page } from "playwright-core";
import { inject } from "vitest";
import { CHROMIUM, launchHeadless } from "../../bench/chromium.mjs";
import { provisionDemo } from "../../scripts/demo.mjs";

export const SCREENSHOTS = join(import.meta.dirname, "..", "..", "test-results");

export const worker = () => inject("worker");

/** Debian's chromium, headless, with nothing that reaches beyond loopback; Playwright gives it a fresh profile. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium), as .ci/run does.`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  return launchHeadless(chromium);
}

/** Everything a page logs as an error, and every uncaught exception: a clean page leaves both empty. */
export function watchConsole(page: Page) {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  return errors;
}

export interface Tenant {
  account_id: string;
  key: string;
  agent_id: string;
  phone_number_id: string;
}

let tenants = 0;
/** A fresh demo-like account per call, provisioned by the same code as `npm start`. */
export async function newTenant(caps: Record<string, number> = {}): Promise<Tenant> {
  const { origin, adminToken } = worker();
  const accountId = `browser-${process.pid}-${Date.now().toString(36)}-${tenants++}`;
  return provisionDemo(origin, adminToken, { accountId, caps: { calls_per_minute: 6000, ...caps } });
}

export async function api<T = Record<string, unknown>>(tenant: Tenant, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${worker().origin}${path}`, {
    method,
    headers: { Authorization: `Bearer ${tenant.key}`, Accept: "application/json", ...(body !== undefined && { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** A campaign over the given numbers (the simulator's outcome is in their last two digits). */
export async function createCampaign(tenant: Tenant, numbers: string[], fields: Record<string, unknown> = {}) {
  return api<{ id: string; status: string }>(tenant, "POST", "/api/v1/campaigns", {
    name: "Spring renewals",
    agent_id: tenant.agent_id,
    phone_number_id: tenant.phone_number_id,
    contacts: numbers.map((phone_number, i) => ({ phone_number, first_name: `Person ${i}` })),
    ...fields,
  });
}

/** Every contact transition the campaign logged, by id, read back with the key from id 0. */
export async function allTransitionIds(tenant: Tenant, campaignId: string): Promise<number[]> {
  const res = await fetch(`${worker().origin}/api/v1/campaigns/${campaignId}/events?last_event_id=0`, { headers: { Authorization: `Bearer ${tenant.key}` } });
  const text = await res.text();
  if (!text.includes("event: end")) throw new Error(`campaign ${campaignId} has not ended: ${text.slice(0, 200)}`);
  return [...text.matchAll(/^event: contact\nid: (\d+)$/gm)].map((m) => Number(m[1]));
}

/** Makes `subject` a member of the tenant's account, as an operator signing in with a session would be. */
export async function addMember(tenant: Tenant, subject: string) {
  const { origin, adminToken } = worker();
  const res = await fetch(`${origin}/admin/v1/accounts/${tenant.account_id}/members`, {
    method: "POST",
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ subject }),
  });
  if (res.status !== 201) throw new Error(`adding member ${subject}: ${res.status} ${await res.text()}`);
}

/** A session JWT from the issuer the test Worker trusts. */
export async function signSession(subject: string) {
  const { jwt } = worker();
  const key = await importJWK(JSON.parse(jwt.privateJwk), "ES256");
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: "browser" })
    .setSubject(subject)
    .setIssuer(jwt.issuer)
    .setAudience(jwt.audience)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(key);
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

/** A loopback HTTP server whose routes a test sets: the customer's site on another origin. */
export async function startSite(port: number) {
  const routes = new Map<string, Handler>();
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", async () => {
      const route = routes.get(`${req.method} ${new URL(req.url ?? "/", "http://x").pathname}`);
      if (!route) {
        res.writeHead(404).end("not found");
        return;
      }
      try {
        await route(req, res, body);
      } catch (error) {
        res.writeHead(500).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    route(method: string, path: string, handler: Handler) {
      routes.set(`${method} ${path}`, handler);
    },
    page(path: string, html: string) {
      routes.set(`GET ${path}`, (_req, res) => {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(html);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface ProxiedRequest {
  method: string;
  path: string;
  lastEventId: string | undefined;
  status?: number;
}

/**
 * A loopback proxy in front of the Worker that logs each request and can cut every open
 * connection at once, the way a network drop does.
 */
export async function startProxy(port: number, target: string) {
  const log: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const entry: ProxiedRequest = { method: req.method ?? "GET", path: req.url ?? "/", lastEventId: req.headers["last-event-id"] as string | undefined };
    log.push(entry);
    const outgoing = forward(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        entry.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outgoing.on("error", () => res.destroy());
    res.on("close", () => outgoing.destroy());
    req.pipe(outgoing);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Waits for a condition in Node, polling briefly; the bound keeps a broken run from hanging. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
