import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { BIN, type CliRun, edgedial, expectNoStackTrace } from "./run-cli";

/** Five numbers the simulator answers and one it finds busy (last two digits 70): with no retries, 5 completed and 1 failed. */
const CONTACTS = ["phone_number,first_name", ...[10, 11, 12, 13, 14].map((n, i) => `+1415555${String(n).padStart(4, "0")},P${i}`), "+14155550170,Busy"].join(
  "\n",
);
/** One plain line of `watch` in a pipe. */
const PLAIN_LINE =
  /^(draft|scheduled|running|paused|completed|failed): (\d+) of (\d+) done \((\d+) completed, (\d+) failed, (\d+) cancelled\), (\d+) calling, (\d+) pending, (\d+) in flight, (\d+) dials\/min$/;

const dir = mkdtempSync(join(tmpdir(), "edgedial-cli-"));
const csvPath = join(dir, "contacts.csv");
writeFileSync(csvPath, `${CONTACTS}\n`);

const json = <T>(run: CliRun): T => {
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
};

async function createCampaign(name: string, tenant = inject("cli").tenant, extra: string[] = []) {
  const run = await edgedial(["campaigns", "create", csvPath, "--name", name, "--agent", tenant.agentId, "--number", tenant.numberId, "--json", ...extra], {
    EDGEDIAL_API_KEY: tenant.key,
  });
  return json<{ id: string; status: string; stats: { total: number }; duplicates_skipped: number }>(run);
}

describe("a campaign from a terminal", () => {
  let id = "";
  let watched: CliRun;

  beforeAll(async () => {
    const created = await createCampaign("CLI campaign");
    expect(created, "create --json prints the API's answer").toMatchObject({ status: "draft", stats: { total: 6 }, duplicates_skipped: 0 });
    id = created.id;
    const started = await edgedial(["campaigns", "start", id]);
    expect(started).toMatchObject({ code: 0, stdout: `${id} is running.\n`, stderr: "" });
    watched = await edgedial(["campaigns", "watch", id]);
  });

  it("create prints a summary and the next command without --json", async () => {
    const { tenant } = inject("cli");
    const run = await edgedial(["campaigns", "create", csvPath, "--name", "Summary", "--agent", tenant.agentId, "--number", tenant.numberId]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Created cmp_\w+ \(draft\) with 6 contacts\.\nStart it with: edgedial campaigns start cmp_\w+\n$/);
  });

  it("watch in a pipe prints plain lines until completed and exits 0", () => {
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stderr).toBe("");
    const lines = watched.stdout.trimEnd().split("\n");
    for (const line of lines) expect(line, "every line is a plain progress line").toMatch(PLAIN_LINE);
    const done = lines.map((line) => Number(PLAIN_LINE.exec(line)?.[2]));
    expect(done, "contacts only ever finish").toEqual([...done].sort((a, b) => a - b));
    const counts = lines.slice(0, -1).map((line) => line.replace(/, \d+ dials\/min$/, ""));
    expect(new Set(counts).size, "a line is printed only when a count or the status changed").toBe(counts.length);
    const last = PLAIN_LINE.exec(lines.at(-1) ?? "");
    expect(last?.slice(1, 11), "the final counts, and the six dials of the last minute").toEqual(["completed", "6", "6", "5", "1", "0", "0", "0", "0", "6"]);
  });

  it("list and get answer the API's JSON with --json, and tables without", async () => {
    const list = json<{ campaigns: { id: string }[]; total: number; has_next: boolean }>(await edgedial(["campaigns", "list", "--json", "--limit", "100"]));
    expect(list.campaigns.map((c) => c.id)).toContain(id);
    const one = json<{ id: string; status: string; stats: { completed: number; failed: number } }>(await edgedial(["campaigns", "get", id, "--json"]));
    expect(one).toMatchObject({ id, status: "completed", stats: { completed: 5, failed: 1 } });
    const table = await edgedial(["campaigns", "list", "--status", "completed"]);
    expect(table.stdout).toMatch(/^ID\s+STATUS\s+DONE\s+CREATED\s+NAME\n/);
    expect(table.stdout).toMatch(new RegExp(`${id}\\s+completed\\s+6/6\\s+.*CLI campaign`));
    const details = await edgedial(["campaigns", "get", id]);
    expect(details.stdout).toMatch(/^id\s+cmp_/);
    expect(details.stdout).toMatch(/\ncontacts\s+6: 0 pending, 0 calling, 5 completed, 1 failed, 0 cancelled\n/);
  });

  it("contacts lists a page, filters by status, and prints CSV with --csv", async () => {
    const table = await edgedial(["campaigns", "contacts", id, "--limit", "2"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+PHONE\s+STATUS\s+ATTEMPTS\s+OUTCOME\s+DISPOSITION$/);
    expect(table.stdout).toContain("1-2 of 6; --offset 2 for more, or --csv for all.");
    const failed = json<{ contacts: { phone_number: string; outcome: string }[] }>(
      await edgedial(["campaigns", "contacts", id, "--status", "failed", "--json"]),
    );
    expect(failed.contacts).toEqual([expect.objectContaining({ phone_number: "+14155550170", outcome: "busy" })]);
    const csv = await edgedial(["campaigns", "contacts", id, "--status", "completed", "--csv"]);
    const rows = csv.stdout.trimEnd().split(/\r?\n/);
    expect(rows[0]).toMatch(/^row,phone_number,status,/);
    expect(rows).toHaveLength(6);
  });

  it("export streams the server's CSV to stdout, or to a file with -o", async () => {
    const { origin, tenant } = inject("cli");
    const served = await (await fetch(`${origin}/api/v1/campaigns/${id}/contacts.csv`, { headers: { Authorization: `Bearer ${tenant.key}` } })).text();
    const run = await edgedial(["campaigns", "export", id]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(served);
    expect(run.stdout.trimEnd().split(/\r?\n/)).toHaveLength(7);
    const file = join(dir, "results.csv");
    expect((await edgedial(["campaigns", "export", id, "-o", file])).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(served);
  });
});

describe("lifecycle commands", () => {
  it("pause, resume and stop say the new status; watch on a stopped campaign exits 0 with its cancelled contacts", async () => {
    const { id } = await createCampaign("Stopped", inject("cli").tenant, ["--scheduled-at", new Date(Date.now() + 3_600_000).toISOString()]);
    expect((await edgedial(["campaigns", "get", id, "--json"])).stdout).toContain('"status": "scheduled"');
    const stop = await edgedial(["campaigns", "stop", id]);
    expect(stop).toMatchObject({ code: 0, stdout: `${id} is completed.\n` });
    const watch = await edgedial(["campaigns", "watch", id]);
    expect(watch.code).toBe(0);
    expect(watch.stdout).toBe("completed: 6 of 6 done (0 completed, 0 failed, 6 cancelled), 0 calling, 0 pending, 0 in flight, 0 dials/min\n");
    const again = await edgedial(["campaigns", "pause", id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe("error: The campaign is completed; only a running campaign can be paused.\n");
  });

  it("Ctrl-C ends a watch at once with exit status 130", async () => {
    const { id } = await createCampaign("Interrupted", inject("cli").tenant, ["--max-concurrent-calls", "1"]);
    expect((await edgedial(["campaigns", "start", id])).code).toBe(0);
    expect((await edgedial(["campaigns", "pause", id])).stdout).toBe(`${id} is paused.\n`);
    const { origin, tenant } = inject("cli");
    const child = spawn(process.execPath, [BIN, "campaigns", "watch", id], {
      env: { ...process.env, EDGEDIAL_API_KEY: tenant.key, EDGEDIAL_BASE_URL: origin },
    });
    let stdout = "";
    // A paused campaign's watch goes on until interrupted; the signal goes once the first line is out.
    await new Promise<void>((shown) =>
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("\n")) shown();
      }),
    );
    child.kill("SIGINT");
    const code = await new Promise<number | null>((exited) => child.once("exit", exited));
    expect(code).toBe(130);
    expect(stdout).toMatch(/^paused: \d+ of 6 done/);
    expect((await edgedial(["campaigns", "stop", id])).code).toBe(0);
  });

  it("--start starts at once, and pause then resume answer the new status", async () => {
    const { tenant } = inject("cli");
    const created = json<{ id: string; status: string }>(
      await edgedial([
        "campaigns",
        "create",
        csvPath,
        "--name",
        "Started",
        "--agent",
        tenant.agentId,
        "--number",
        tenant.numberId,
        "--start",
        "--json",
        "--max-concurrent-calls",
        "1",
      ]),
    );
    expect(created.status).toBe("running");
    const pause = await edgedial(["campaigns", "pause", created.id, "--json"]);
    expect(json<{ status: string }>(pause).status).toBe("paused");
    expect((await edgedial(["campaigns", "resume", created.id])).stdout).toBe(`${created.id} is running.\n`);
    expect((await edgedial(["campaigns", "watch", created.id])).code).toBe(0);
  });
});

describe("failures", () => {
  it("a campaign the carrier refuses: watch exits 3 with the reason on stderr", async () => {
    const { brokenCarrier } = inject("cli");
    const { id } = await createCampaign("Refused", brokenCarrier);
    expect((await edgedial(["campaigns", "start", id], { EDGEDIAL_API_KEY: brokenCarrier.key })).code).toBe(0);
    const watch = await edgedial(["campaigns", "watch", id], { EDGEDIAL_API_KEY: brokenCarrier.key });
    expect(watch.code, watch.stdout + watch.stderr).toBe(3);
    expect(watch.stdout.trimEnd().split("\n").at(-1)).toMatch(/^failed: /);
    expect(watch.stderr).toMatch(/^error: the campaign failed: The carrier refused the campaign: .+\n$/);
    expectNoStackTrace(watch);
  });

  const cases: [string, string[], Record<string, string>, number, RegExp][] = [
    ["an unknown campaign", ["campaigns", "get", "cmp_missing"], {}, 1, /^error: [A-Z].*not found.*\n$/i],
    ["a wrong key", ["campaigns", "list"], { EDGEDIAL_API_KEY: "sk_live_nobody_wrong" }, 1, /^error: [A-Z].+\.\n$/],
    ["no key at all", ["campaigns", "list"], { EDGEDIAL_API_KEY: "" }, 2, /^error: no API key: set EDGEDIAL_API_KEY or pass --api-key/],
    [
      "a server that is not there",
      ["campaigns", "list", "--base-url", "http://127.0.0.1:8867"],
      {},
      1,
      /^error: cannot reach http:\/\/127\.0\.0\.1:8867 \(connection refused\)\./,
    ],
    ["a base URL that is no URL", ["campaigns", "list"], { EDGEDIAL_BASE_URL: "localhost" }, 2, /^error: the base URL "localhost" is not a URL/],
    [
      "a missing contacts file",
      ["campaigns", "create", "nope.csv", "--name", "x", "--agent", "agt_x", "--number", "pn_x"],
      {},
      2,
      /^error: cannot read the contacts file nope\.csv: no such file\.\n$/,
    ],
    ["a missing required flag", ["campaigns", "create", "x.csv", "--name", "x"], {}, 2, /^error: required option '--agent <id>' not specified\n/],
    [
      "a count that is not a number",
      ["campaigns", "list", "--limit", "many"],
      {},
      2,
      /^error: option '--limit <n>' argument 'many' is invalid\. It must be a whole number\.\n/,
    ],
    [
      "a status that does not exist",
      ["campaigns", "contacts", "cmp_x", "--status", "done"],
      {},
      2,
      /^error: option '--status <status>' argument 'done' is invalid\. Allowed choices are pending/,
    ],
    ["an unknown command", ["campaign", "list"], {}, 2, /^error: unknown command 'campaign'/],
  ];
  it.each(cases)("%s: a sentence on stderr, a non-zero exit, no stack trace", async (_, args, env, code, stderr) => {
    const run = await edgedial(args, env);
    expect(run.code, run.stderr).toBe(code);
    expect(run.stderr).toMatch(stderr);
    expect(run.stdout).toBe("");
    expectNoStackTrace(run);
  });

  it("a request the API refuses prints the API's own sentence", async () => {
    const { tenant, origin } = inject("cli");
    const args = [
      "campaigns",
      "create",
      csvPath,
      "--name",
      "Too wide",
      "--agent",
      tenant.agentId,
      "--number",
      tenant.numberId,
      "--max-concurrent-calls",
      "500",
    ];
    const run = await edgedial(args);
    const form = new FormData();
    for (const [k, v] of Object.entries({ name: "Too wide", agent_id: tenant.agentId, phone_number_id: tenant.numberId, max_concurrent_calls: "500" }))
      form.set(k, v);
    form.set("contacts", new Blob([CONTACTS]), "contacts.csv");
    const api = await fetch(`${origin}/api/v1/campaigns`, { method: "POST", headers: { Authorization: `Bearer ${tenant.key}` }, body: form });
    expect(api.status).toBe(400);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: ${await api.text()}\n`);
    expect(run.stderr).toContain("max_concurrent_calls");
    expectNoStackTrace(run);
  });
});

describe("--help", () => {
  const commandsIn = (help: string) =>
    [...(help.split("Commands:\n")[1] ?? "").matchAll(/^ {2}(\w[\w-]*)/gm)].map((match) => match[1] ?? "").filter((name) => name !== "help");

  it("every command has its own help, found by walking the help itself", async () => {
    const queue: string[][] = [[]];
    const seen: string[] = [];
    while (queue.length > 0) {
      const path = queue.shift() ?? [];
      const run = await edgedial([...path, "--help"], { EDGEDIAL_API_KEY: "" });
      expect(run.code, `${path.join(" ")} --help`).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: edgedial${path.map((p) => ` ${p}`).join("")} \\[options\\]`));
      seen.push(path.join(" "));
      for (const name of commandsIn(run.stdout)) queue.push([...path, name]);
    }
    expect(seen.sort()).toEqual(
      ["", "campaigns", ...["create", "list", "get", "contacts", "export", "start", "pause", "resume", "stop", "watch"].map((c) => `campaigns ${c}`)].sort(),
    );
  });
});
