import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Edgedial } from "../client/index";
import { IDEMPOTENCY_TTL_MS } from "../src/accounts/idempotency-store";
import { getAccountStub } from "../src/accounts/stub";
import { idempotencyKeyProblem, pathBelowMount, requestFingerprint } from "../src/http/request-fingerprint";
import { BASE, call, campaignForm, countRows, csvOf, jsonInit, newTenant, postCampaign, type Tenant } from "./helpers";
import { fetchDocument, HTTP_METHODS } from "./openapi-contract";
import { useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

const withKey = (t: Tenant, key: string, extra: Record<string, string> = {}) => ({ ...t.auth, "Idempotency-Key": key, ...extra });

function createWithKey(t: Tenant, key: string, csv = csvOf(2), fields: Record<string, string> = {}, prefix = "/api/v1") {
  return call(`${prefix}/campaigns`, { method: "POST", headers: withKey(t, key), body: campaignForm(t, csv, fields) });
}

const campaignsOf = (t: Tenant) => countRows("SELECT count(*) AS n FROM campaigns WHERE account_id = ?", t.accountId);

/** How many keys the account's object holds. */
const keptKeys = (t: Tenant) =>
  runInDurableObject(getAccountStub(env, t.accountId), async (_instance, state) =>
    Number(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM idempotency_keys").one().n),
  );

/** A multipart body written by hand, so the boundary is ours to choose. */
function multipartBody(boundary: string, t: Tenant, csv: string): string {
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  return (
    field("name", "Hand-made form") +
    field("agent_id", t.agentId) +
    field("phone_number_id", t.numberId) +
    `--${boundary}\r\nContent-Disposition: form-data; name="contacts"; filename="contacts.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n` +
    `--${boundary}--\r\n`
  );
}

describe("Idempotency-Key", () => {
  it("replays the first answer to the same request, with Idempotent-Replayed: true, and runs it once", async () => {
    const t = await newTenant();
    const first = await createWithKey(t, "create-1");
    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const firstBody = await first.text();
    const again = await createWithKey(t, "create-1");
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.headers.get("Content-Type")).toBe(first.headers.get("Content-Type"));
    expect(again.headers.get("x-d1-bookmark"), "the replay carries the bookmark of the write it reports").toBe(first.headers.get("x-d1-bookmark"));
    expect(await again.text()).toBe(firstBody);
    expect(await campaignsOf(t)).toBe(1);
    // The key names one request on every mount the API is served under.
    const alias = await createWithKey(t, "create-1", csvOf(2), {}, "/v1");
    expect(alias.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await campaignsOf(t)).toBe(1);
  });

  it("answers 422 to the same key with a different body, method or path, and changes nothing", async () => {
    const t = await newTenant();
    expect((await createWithKey(t, "k")).status).toBe(201);
    const otherBody = await createWithKey(t, "k", csvOf(3));
    expect(otherBody.status).toBe(422);
    expect(await otherBody.text()).toContain("different request");
    const otherPath = await call(
      "/api/v1/agents",
      jsonInit("POST", { name: "A", stream_url: "wss://a.test/s" }, withKey(t, "k", { Accept: "application/json" })),
    );
    expect(otherPath.status).toBe(422);
    expect(await otherPath.json()).toMatchObject({ error: { code: "idempotency_key_reused" } });
    expect(await campaignsOf(t)).toBe(1);
  });

  it("runs exactly one of two concurrent requests with one key; the other is told it is in progress or replayed", async () => {
    const t = await newTenant();
    const answers = await Promise.all([createWithKey(t, "race"), createWithKey(t, "race"), createWithKey(t, "race")]);
    const ran = answers.filter((r) => r.status === 201 && r.headers.get("Idempotent-Replayed") === null);
    expect(ran).toHaveLength(1);
    for (const other of answers.filter((r) => r !== ran[0])) {
      expect([409, 201], await other.clone().text()).toContain(other.status);
      if (other.status === 409) expect(await other.text()).toContain("still running");
      else expect(other.headers.get("Idempotent-Replayed")).toBe("true");
    }
    expect(await campaignsOf(t)).toBe(1);
  });

  it("keeps an answer 24 hours: a repeat a minute before is replayed, one after runs anew", async () => {
    restore = useSimulatedTime();
    const t = await newTenant();
    expect((await createWithKey(t, "daily")).status).toBe(201);
    vi.setSystemTime(Date.now() + IDEMPOTENCY_TTL_MS - 60_000);
    expect((await createWithKey(t, "daily")).headers.get("Idempotent-Replayed")).toBe("true");
    vi.setSystemTime(Date.now() + 2 * 60_000);
    const later = await createWithKey(t, "daily");
    expect(later.status).toBe(201);
    expect(later.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await campaignsOf(t)).toBe(2);
  });

  it("keeps keys apart per account: one key in two accounts makes two campaigns", async () => {
    const [a, b] = await Promise.all([newTenant(), newTenant()]);
    const [ra, rb] = [await createWithKey(a, "shared"), await createWithKey(b, "shared")];
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(rb.headers.get("Idempotent-Replayed")).toBeNull();
    expect((await ra.json<{ id: string }>()).id).not.toBe((await rb.json<{ id: string }>()).id);
    expect([await campaignsOf(a), await campaignsOf(b)]).toEqual([1, 1]);
  });

  it("replays a refusal too: the same bad request gets the same 400, and fixing it needs a fresh key", async () => {
    const t = await newTenant();
    const bad = await createWithKey(t, "bad", "name\nAnn\n");
    expect(bad.status).toBe(400);
    const sentence = await bad.text();
    const again = await createWithKey(t, "bad", "name\nAnn\n");
    expect(again.status).toBe(400);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.text()).toBe(sentence);
    expect((await createWithKey(t, "bad")).status).toBe(422);
    expect((await createWithKey(t, "good")).status).toBe(201);
  });

  it("treats one multipart form sent with two different boundaries as the same request", async () => {
    const t = await newTenant();
    const send = (boundary: string) =>
      call("/api/v1/campaigns", {
        method: "POST",
        headers: withKey(t, "form", { "Content-Type": `multipart/form-data; boundary=${boundary}` }),
        body: multipartBody(boundary, t, csvOf(2)),
      });
    const first = await send("----first-boundary-1111");
    expect(first.status, await first.clone().text()).toBe(201);
    const second = await send("xyz-another-boundary-2222");
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await campaignsOf(t)).toBe(1);
  });

  it("refuses a key that is empty, longer than 255 characters or not printable ASCII, before anything runs", async () => {
    const t = await newTenant();
    for (const key of ["", "x".repeat(256), "tab\there"]) {
      const res = await createWithKey(t, key);
      expect(res.status, JSON.stringify(key)).toBe(400);
      expect(await res.text()).toContain("Idempotency-Key");
    }
    expect((await createWithKey(t, "k".repeat(255))).status).toBe(201);
    expect(await campaignsOf(t)).toBe(1);
  });

  it("costs nothing without the header: no key is stored and requests behave as before", async () => {
    const t = await newTenant();
    expect((await postCampaign(t, csvOf(2))).status).toBe(201);
    expect((await postCampaign(t, csvOf(2))).status).toBe(201);
    expect(await campaignsOf(t)).toBe(2);
    expect(await keptKeys(t)).toBe(0);
    // A read with a key is not a mutation: nothing is kept either.
    expect((await call("/api/v1/campaigns", { headers: withKey(t, "read") })).status).toBe(200);
    expect(await keptKeys(t)).toBe(0);
  });
});

describe("Idempotency-Key on every mutating tenant operation", () => {
  const MOUNTS = ["/api/v1", "/v1", "/hub-api/api/v1"];

  it("is documented (header, 409 and 422) on each, and the middleware answers each with a replay", async () => {
    const doc = (await fetchDocument()) as unknown as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>>;
    };
    const t = await newTenant();
    const operations: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith("/api/v1/")) continue;
      for (const method of HTTP_METHODS) {
        const op = item[method];
        if (!op || method === "get") continue;
        const where = `${method.toUpperCase()} ${path}`;
        operations.push(where);
        expect(op.parameters, where).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header" }));
        expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(["409", "422"]));
        // A cheap request (ids that do not exist, an empty JSON body): whatever it answers, the same key answers it again.
        const concrete = path.replace(/\{[^}]+\}/g, "x_missing");
        const init = (key: string) => jsonInit(method.toUpperCase(), {}, withKey(t, key));
        const key = `walk ${where}`;
        const first = await call(concrete, init(key));
        expect(first.status, `${where} answered ${first.status}: ${await first.clone().text()}`).toBeLessThan(500);
        const mount = MOUNTS[operations.length % MOUNTS.length] as string;
        const again = await call(`${mount}${concrete.slice("/api/v1".length)}`, init(key));
        expect(again.headers.get("Idempotent-Replayed"), `${where} under ${mount}`).toBe("true");
        expect(again.status, where).toBe(first.status);
      }
    }
    expect(operations.length).toBeGreaterThan(20);
    expect(operations).toContain("POST /api/v1/campaigns");
  });
});

describe("the idempotency store", () => {
  it("drops the oldest keys past its bound, frees a released key and takes over an abandoned one", async () => {
    const { IdempotencyStore, ABANDONED_AFTER_MS } = await import("../src/accounts/idempotency-store");
    const t = await newTenant();
    await runInDurableObject(getAccountStub(env, t.accountId), async (_instance, state) => {
      const store = new IdempotencyStore(state.storage.sql, { maxKeys: 3 });
      const answer = { status: 201, headers: { "content-type": "application/json" }, body: new TextEncoder().encode("{}").buffer as ArrayBuffer };
      for (const [i, key] of ["a", "b", "c", "d"].entries()) {
        const claimed = store.claim(key, "fp", `claim-${key}`, 1_000 + i);
        expect(claimed.outcome).toBe("run");
        store.keep(key, `claim-${key}`, answer, 1_000 + i);
      }
      expect(store.size()).toBe(3);
      expect(store.claim("a", "fp", "claim-a2", 2_000).outcome, "the oldest was dropped").toBe("run");
      expect(store.claim("d", "fp", "x", 2_000).outcome).toBe("replay");
      expect(store.claim("d", "other", "x", 2_000).outcome).toBe("mismatch");

      expect(store.claim("e", "fp", "claim-e", 3_000).outcome).toBe("run");
      expect(store.claim("e", "fp", "y", 3_001).outcome).toBe("in_progress");
      store.release("e", "not-the-claim");
      expect(store.claim("e", "fp", "y", 3_002).outcome, "only the holder releases").toBe("in_progress");
      store.release("e", "claim-e");
      expect(store.claim("e", "fp", "claim-e2", 3_003).outcome).toBe("run");
      // Its Worker died: past ABANDONED_AFTER_MS another request may run, and the first one's late answer is ignored.
      const later = 3_003 + ABANDONED_AFTER_MS;
      expect(store.claim("e", "fp", "claim-e3", later).outcome).toBe("run");
      store.keep("e", "claim-e2", { ...answer, status: 200 }, later);
      store.keep("e", "claim-e3", answer, later);
      const replay = store.claim("e", "fp", "z", later + 1);
      expect(replay.outcome === "replay" && replay.response.status).toBe(201);

      // A body over the bound is not kept; the key is free again.
      expect(store.claim("big", "fp", "claim-big", later).outcome).toBe("run");
      store.keep("big", "claim-big", { ...answer, body: new ArrayBuffer(64 * 1024 + 1) }, later);
      expect(store.claim("big", "fp", "again", later + 1).outcome).toBe("run");
    });
  });
});

describe("request fingerprint and key shape", () => {
  it.each([
    ["a", null],
    ["k".repeat(255), null],
    [" spaced key ~!", null],
    ["", "is empty"],
    ["k".repeat(256), "is 256 characters long"],
    ["tab\there", "outside printable ASCII"],
    ["caf\u00e9", "outside printable ASCII"],
  ])("idempotencyKeyProblem(%j)", (key, problem) => {
    const found = idempotencyKeyProblem(key);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });

  it("names a path below whichever mount served it", () => {
    const mounts = ["/api/v1", "/hub-api/api/v1", "/v1"];
    expect(pathBelowMount("/api/v1/campaigns", mounts)).toBe("/campaigns");
    expect(pathBelowMount("/hub-api/api/v1/campaigns?x=1", mounts)).toBe("/campaigns?x=1");
    expect(pathBelowMount("/v1/dnc", mounts)).toBe("/dnc");
    expect(pathBelowMount("/v10/dnc", mounts)).toBe("/v10/dnc");
  });

  const bytes = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;
  const form = (boundary: string, fields: [string, string][], file: string) =>
    bytes(
      fields.map(([n, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`).join("") +
        `--${boundary}\r\nContent-Disposition: form-data; name="contacts"; filename="c.csv"\r\nContent-Type: text/csv\r\n\r\n${file}\r\n--${boundary}--\r\n`,
    );
  const multipart = (boundary: string) => `multipart/form-data; boundary=${boundary}`;

  it("is the same for one form under two boundaries, and differs when a field, the order, a file or the request line does", async () => {
    const fields: [string, string][] = [
      ["name", "A"],
      ["agent_id", "agt_1"],
    ];
    const base = await requestFingerprint("POST", "/campaigns", multipart("b1"), form("b1", fields, "phone_number\n+15550000001\n"));
    expect(await requestFingerprint("POST", "/campaigns", multipart("zz-other"), form("zz-other", fields, "phone_number\n+15550000001\n"))).toBe(base);
    const variants = [
      requestFingerprint("POST", "/campaigns", multipart("b1"), form("b1", [["name", "B"], fields[1] as [string, string]], "phone_number\n+15550000001\n")),
      requestFingerprint("POST", "/campaigns", multipart("b1"), form("b1", [...fields].reverse(), "phone_number\n+15550000001\n")),
      requestFingerprint("POST", "/campaigns", multipart("b1"), form("b1", fields, "phone_number\n+15550000002\n")),
      requestFingerprint("PUT", "/campaigns", multipart("b1"), form("b1", fields, "phone_number\n+15550000001\n")),
      requestFingerprint("POST", "/campaigns?x=1", multipart("b1"), form("b1", fields, "phone_number\n+15550000001\n")),
    ];
    for (const variant of await Promise.all(variants)) expect(variant).not.toBe(base);
  });

  it("compares other bodies byte for byte, with their media type but not its parameters", async () => {
    const json = await requestFingerprint("POST", "/agents", "application/json", bytes('{"name":"A"}'));
    expect(await requestFingerprint("POST", "/agents", "application/json; charset=utf-8", bytes('{"name":"A"}'))).toBe(json);
    expect(await requestFingerprint("POST", "/agents", "application/json", bytes('{"name": "A"}'))).not.toBe(json);
    expect(await requestFingerprint("POST", "/agents", "text/csv", bytes('{"name":"A"}'))).not.toBe(json);
    expect(await requestFingerprint("POST", "/agents", "", new ArrayBuffer(0))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("the client's keys", () => {
  it("sends a fresh key per create and re-uses it on its own retry, so a lost answer makes one campaign", async () => {
    const t = await newTenant();
    const keys: (string | null)[] = [];
    let dropNext = true;
    const edgedial = new Edgedial({
      apiKey: t.key,
      baseUrl: BASE,
      retryDelayMs: 1,
      fetch: async (request) => {
        keys.push(request.headers.get("Idempotency-Key"));
        const response = await exports.default.fetch(request);
        // The server ran it, but the answer never arrives: the client cannot tell and tries again.
        if (request.method === "POST" && dropNext) {
          dropNext = false;
          throw new TypeError("network connection lost");
        }
        return response;
      },
    });
    const input = { name: "Retried", agent_id: t.agentId, phone_number_id: t.numberId, contacts: csvOf(2) };
    const created = await edgedial.campaigns.create(input);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(await campaignsOf(t)).toBe(1);
    expect((await edgedial.campaigns.get(created.id)).name).toBe("Retried");
    await edgedial.campaigns.create(input);
    expect(keys.at(-1)).not.toBe(keys[0]);
    expect(await campaignsOf(t)).toBe(2);
    await edgedial.campaigns.list();
    expect(keys.at(-1), "a read carries no key").toBeNull();
  });

  it("waits out a 409 for its own first try still running, and gives up after maxRetries", async () => {
    const inUse = () => Response.json({ error: { code: "idempotency_key_in_use", message: "still running" } }, { status: 409 });
    const seen: string[] = [];
    const answers = [inUse(), Response.json({ id: "agt_x", name: "A" }, { status: 201 })];
    const edgedial = new Edgedial({
      apiKey: "k",
      baseUrl: BASE,
      retryDelayMs: 1,
      fetch: async (request) => {
        seen.push(request.headers.get("Idempotency-Key") ?? "");
        return answers.shift() ?? inUse();
      },
    });
    expect(await edgedial.agents.create({ name: "A", stream_url: "wss://a.test/s" })).toMatchObject({ id: "agt_x" });
    expect(new Set(seen).size).toBe(1);
    await expect(edgedial.agents.create({ name: "A", stream_url: "wss://a.test/s" })).rejects.toMatchObject({ status: 409, code: "idempotency_key_in_use" });
    expect(seen).toHaveLength(2 + 3);
    const stateConflict = new Edgedial({
      apiKey: "k",
      baseUrl: BASE,
      retryDelayMs: 1,
      fetch: async (request) => {
        seen.push(request.method);
        return Response.json({ error: { code: "conflict", message: "Campaign is draft." } }, { status: 409 });
      },
    });
    await expect(stateConflict.campaigns.pause("cmp_1")).rejects.toMatchObject({ code: "conflict" });
    expect(seen.at(-2), "a state conflict is not retried").not.toBe("POST");
  });
});
