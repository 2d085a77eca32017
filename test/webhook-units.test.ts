import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { campaignEventType, contactEventType } from "../src/campaign-object/reports/webhook-reports";
import type { CampaignStatus, ContactStatus } from "../src/db/schema";
import { monotonicIds } from "../src/ids";
import { StartBudget } from "../src/outbox/budget";
import { messageBody } from "../src/outbox/event-types";
import { outcomeOfError, outcomeOfResponse, RETRY_DELAYS_MS, retryDelayMs, STEADY_RETRY_MS } from "../src/outbox/schedule";
import { importSigningKey, newWebhookSecret, secretKeyBytes, signMessage, webhookHeaders } from "../src/outbox/signing";
import { checkWebhookUrl, classifyHost, parseIpv4, parseIpv6 } from "../src/outbox/url-policy";

const PRODUCTION = { allowLoopback: false };
const LOCAL = { allowLoopback: true };

describe("webhook URL policy", () => {
  // [url, accepted in production, accepted where the simulator is enabled]
  const table: [string, boolean, boolean][] = [
    ["https://hooks.example.com/edgedial", true, true],
    ["https://93.184.216.34/hook", true, true],
    ["https://[2606:4700::1111]/hook", true, true],
    ["https://hooks.example.com:8443/x?y=1", true, true],
    ["http://hooks.example.com/edgedial", false, false],
    ["http://93.184.216.34/hook", false, false],
    ["ftp://hooks.example.com/", false, false],
    ["hooks.example.com/edgedial", false, false],
    ["https://user:pw@hooks.example.com/", false, false],
    ["https://user@hooks.example.com/", false, false],
    ["http://127.0.0.1:8787/simulator/webhook-sink/a", false, true],
    ["https://127.0.0.1/", false, true],
    ["http://127.255.0.9/", false, true],
    ["http://localhost:3000/hook", false, true],
    ["http://LOCALHOST./hook", false, true],
    ["http://app.localhost/hook", false, true],
    ["http://[::1]:9000/hook", false, true],
    ["http://[0:0:0:0:0:0:0:1]/", false, true],
    // Odd IPv4 spellings the URL parser turns into 127.0.0.1.
    ["http://2130706433/", false, true],
    ["http://0x7f.1/", false, true],
    ["http://0x7f000001/", false, true],
    ["http://0177.0.0.1/", false, true],
    ["http://127.1/", false, true],
    ["http://127.0.0.01/", false, true],
    ["http://127.0.0.1./", false, true],
    // Never, in any mode.
    ["https://10.0.0.1/", false, false],
    ["https://10.255.255.255/", false, false],
    ["https://0xa000001/", false, false],
    ["https://167772161/", false, false],
    ["http://192.168.1.10/", false, false],
    ["https://192.168.0.1/", false, false],
    ["https://0300.0250.0.1/", false, false],
    ["https://172.16.0.1/", false, false],
    ["https://172.31.255.255/", false, false],
    ["https://169.254.169.254/latest/meta-data", false, false],
    ["https://100.64.0.1/", false, false],
    ["https://100.127.255.254/", false, false],
    ["https://0.0.0.0/", false, false],
    ["https://0/", false, false],
    ["https://224.0.0.1/", false, false],
    ["https://255.255.255.255/", false, false],
    ["https://198.18.0.1/", false, false],
    ["https://[::]/", false, false],
    ["https://[::ffff:127.0.0.1]/", false, false],
    ["https://[::ffff:10.0.0.1]/", false, false],
    ["https://[::ffff:93.184.216.34]/", false, false],
    ["https://[::127.0.0.1]/", false, false],
    ["https://[fd00::1]/", false, false],
    ["https://[fc12:3456::1]/", false, false],
    ["https://[fe80::1]/", false, false],
    ["https://[ff02::1]/", false, false],
    ["https://[64:ff9b::a00:1]/", false, false],
    ["https://[2002:a00:1::1]/", false, false],
    ["https://[2001:db8::1]/", false, false],
  ];

  it.each(table)("%s → production %s, simulator %s", (url, production, local) => {
    expect(checkWebhookUrl(url, PRODUCTION).ok, "production").toBe(production);
    expect(checkWebhookUrl(url, LOCAL).ok, "simulator").toBe(local);
  });

  it("explains each refusal in one sentence", () => {
    const reason = (url: string, policy = PRODUCTION) => {
      const check = checkWebhookUrl(url, policy);
      return check.ok ? "" : check.reason;
    };
    expect(reason("http://hooks.example.com/")).toMatch(/must use https; plain http is accepted only for loopback/);
    expect(reason("https://u:p@hooks.example.com/")).toMatch(/must not carry credentials/);
    expect(reason("https://10.1.2.3/")).toBe("url points at 10.1.2.3, a private network address; webhooks are delivered only to public addresses.");
    expect(reason("https://169.254.169.254/")).toContain("link-local");
    expect(reason("https://100.64.1.1/")).toContain("carrier-grade NAT");
    expect(reason("https://[::1]/")).toContain("loopback address, which is accepted only where the simulator is enabled");
    expect(reason("https://2130706433/")).toContain("127.0.0.1");
    expect(reason("https://[::ffff:7f00:1]/")).toContain("IPv4-mapped");
    expect(reason("https://[fd00::1]/")).toContain("unique-local");
    expect(reason("not a url")).toMatch(/not a valid URL/);
    expect(reason(`https://example.com/${"a".repeat(2100)}`)).toMatch(/at most 2048/);
  });

  it("reads the host the way the Workers URL parser normalised it", () => {
    expect(new URL("http://2130706433/").hostname).toBe("127.0.0.1");
    expect(new URL("http://0x7f.1/").hostname).toBe("127.0.0.1");
    expect(new URL("http://[::ffff:127.0.0.1]/").hostname).toBe("[::ffff:7f00:1]");
    // And classifies unnormalised spellings the same way, should a parser ever leave them.
    expect(classifyHost("2130706433")).toBe("loopback");
    expect(classifyHost("0x7f.1")).toBe("loopback");
    expect(classifyHost("012.1")).toBe("private");
    expect(classifyHost("1.2.3.4.5")).toBe("invalid");
    expect(classifyHost("[::ffff:127.0.0.1]")).toBe("IPv4-mapped");
    expect(classifyHost("hooks.example.com")).toBe("public");
  });

  it("parses IPv4 and IPv6 literals", () => {
    expect(parseIpv4("127.0.0.1")).toBe(0x7f000001);
    expect(parseIpv4("0x7f.0.0.1")).toBe(0x7f000001);
    expect(parseIpv4("0177.1")).toBe(0x7f000001);
    expect(parseIpv4("4294967295")).toBe(0xffffffff);
    expect(parseIpv4("4294967296")).toBeNull();
    expect(parseIpv4("256.1.1.1")).toBeNull();
    expect(parseIpv4("09.1.1.1")).toBeNull();
    expect(parseIpv6("[::1]")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("2001:db8::8:800:200c:417a")).toEqual([0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]);
    expect(parseIpv6("::ffff:10.0.0.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]);
    expect(parseIpv6("1:2:3:4:5:6:7:8:9")).toBeNull();
    expect(parseIpv6("1::2::3")).toBeNull();
  });
});

describe("webhook retry schedule", () => {
  it.each([
    [1, 5_000],
    [2, 30_000],
    [3, 120_000],
    [4, 600_000],
    [5, 3_600_000],
    [6, STEADY_RETRY_MS],
    [40, STEADY_RETRY_MS],
  ])("after failure %i waits about %i ms (±10%%)", (failures, base) => {
    expect(retryDelayMs(failures, 0.5)).toBe(base);
    expect(retryDelayMs(failures, 0)).toBe(Math.round(base * 0.9));
    expect(retryDelayMs(failures, 0.999_999)).toBeLessThanOrEqual(Math.round(base * 1.1));
  });

  it("names the schedule the SPEC gives", () => {
    expect([...RETRY_DELAYS_MS, STEADY_RETRY_MS]).toEqual([5_000, 30_000, 120_000, 600_000, 3_600_000, 14_400_000]);
  });

  it.each([
    [200, null, true],
    [204, null, true],
    [299, null, true],
    [301, "https://elsewhere.example/", false],
    [302, null, false],
    [307, "https://elsewhere.example/", false],
    [400, null, false],
    [410, null, false],
    [429, null, false],
    [500, null, false],
    [503, null, false],
  ])("HTTP %i is a %s", (status, location, ok) => {
    const outcome = outcomeOfResponse(status, location);
    expect(outcome.ok).toBe(ok);
    expect(outcome.statusCode).toBe(status);
    if (!outcome.ok && status >= 300 && status < 400) expect(outcome.error).toContain("not followed");
  });

  it("counts timeouts and network errors as failures with no status", () => {
    const timeout = outcomeOfError(new DOMException("The operation timed out.", "TimeoutError"));
    expect(timeout).toEqual({ ok: false, statusCode: null, error: "No answer within 10 s." });
    const network = outcomeOfError(new TypeError("Network connection lost."));
    expect(network).toEqual({ ok: false, statusCode: null, error: "Network error: Network connection lost." });
  });
});

describe("Standard Webhooks signatures", () => {
  it("makes whsec_ secrets of 24 random bytes", () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(secretKeyBytes(secret).length).toBe(24);
    expect(newWebhookSecret()).not.toBe(secret);
  });

  it("matches the specification's published example", async () => {
    // From the Standard Webhooks specification's test vectors.
    const key = await importSigningKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    const body = '{"test": 2432232314}';
    expect(await signMessage(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("produces headers the standardwebhooks library verifies, and a tampered body fails", async () => {
    const secret = newWebhookSecret();
    const body = messageBody({ type: "ping", data: { endpoint_id: "whk_1" }, at: Date.now() });
    const headers = await webhookHeaders(await importSigningKey(secret), "msg_1", Date.now(), body);
    const receiver = new Webhook(secret);
    expect(receiver.verify(body, headers)).toMatchObject({ type: "ping", data: { endpoint_id: "whk_1" } });
    expect(() => receiver.verify(body.replace("whk_1", "whk_2"), headers)).toThrow(/No matching signature/);
    expect(() => receiver.verify(body, { ...headers, "webhook-id": "msg_2" })).toThrow(/No matching signature/);
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow(/No matching signature/);
  });
});

describe("message ids", () => {
  it("sort in the order they were made, also within one millisecond", () => {
    const next = monotonicIds("msg");
    const ids = Array.from({ length: 1000 }, (_, i) => next(1_800_000_000_000 + Math.floor(i / 400)));
    expect(ids.every((id) => /^msg_[0-9a-z]{26}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    // A clock that steps back does not break the order.
    expect(next(1_700_000_000_000) > (ids.at(-1) as string)).toBe(true);
  });
});

describe("which transitions are reported", () => {
  it.each<[ContactStatus, ContactStatus, string | null]>([
    ["originated", "completed", "contact.completed"],
    ["connected", "completed", "contact.completed"],
    ["originated", "failed", "contact.failed"],
    ["pending", "cancelled", "contact.cancelled"],
    ["pending", "originated", null],
    ["originated", "connected", null],
    ["originated", "pending", null],
    ["completed", "completed", null],
  ])("contact %s → %s: %s", (from, to, type) => {
    expect(contactEventType(from, to)).toBe(type);
  });

  it.each<[CampaignStatus, CampaignStatus, string | null]>([
    ["draft", "running", "campaign.started"],
    ["scheduled", "running", "campaign.started"],
    ["paused", "running", "campaign.resumed"],
    ["running", "paused", "campaign.paused"],
    ["running", "completed", "campaign.completed"],
    ["draft", "completed", "campaign.completed"],
    ["paused", "completed", "campaign.completed"],
    ["running", "failed", "campaign.failed"],
    ["running", "running", null],
    ["draft", "scheduled", null],
  ])("campaign %s → %s: %s", (from, to, type) => {
    expect(campaignEventType(from, to)).toBe(type);
  });
});

describe("the outbox's start budget", () => {
  it("lets a burst go at once, then starts at the steady rate", () => {
    const budget = new StartBudget(320, 16);
    expect(budget.take(100, 1_000)).toBe(16);
    expect(budget.take(1, 1_000)).toBe(0);
    expect(budget.nextAt(1_000)).toBe(1_004);
    expect(budget.take(100, 1_025)).toBe(8);
    expect(budget.take(100, 1_025 + 10_000)).toBe(16);
    // Over a minute of steady demand, starts stay within the rate (plus the first burst).
    let started = 0;
    for (let t = 20_000; t < 80_000; t += 7) started += budget.take(100, t);
    expect(started).toBeGreaterThanOrEqual(320 * 60 - 16);
    expect(started).toBeLessThanOrEqual(320 * 60 + 16);
  });
});
