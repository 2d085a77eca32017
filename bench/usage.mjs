// What a benchmark reads of the platform's usage: the server's metered counts
// (GET /simulator/usage, on with USAGE_METER) and the CPU time of its workerd processes.
import { readdirSync, readFileSync } from "node:fs";

/** Cloudflare's published Workers Paid prices in USD, read on 2026-12-06 (docs/benchmarks.md names the pages). */
export const PRICES = {
  workerRequestPerMillion: 0.3,
  workerCpuMsPerMillion: 0.02,
  objectRequestPerMillion: 0.15,
  objectGbSecondPerMillion: 12.5,
  d1RowsReadPerMillion: 0.001,
  d1RowsWrittenPerMillion: 1.0,
};

export async function readUsage(server) {
  const res = await fetch(`${server.origin}/simulator/usage`, { headers: { Authorization: `Bearer ${server.adminToken}` } });
  if (res.status !== 200) throw new Error(`GET /simulator/usage: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Waits until two reads a second apart agree: the alarms and flushes after a campaign's end have run. */
export async function settledUsage(server) {
  let last = JSON.stringify(await readUsage(server));
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = await readUsage(server);
    if (JSON.stringify(now) === last) return now;
    last = JSON.stringify(now);
  }
  return JSON.parse(last);
}

const sum = (record) => Object.values(record).reduce((a, b) => a + b, 0);

/** `after` minus `before`, in the billed units: edgedial's objects only (the simulator plays the carrier). */
export function usageBetween(before, after) {
  const statements = new Map(before.statements.map((s) => [s.sql, s]));
  return {
    workerRequests: after.worker_requests - before.worker_requests,
    carrierCallbacks: after.carrier_callbacks - before.carrier_callbacks,
    objectRequests: sum(after.object_requests) - sum(before.object_requests),
    objectRequestsBy: Object.fromEntries(Object.entries(after.object_requests).map(([k, v]) => [k, v - (before.object_requests[k] ?? 0)])),
    alarms: sum(after.alarms) - sum(before.alarms),
    d1Queries: after.d1.queries - before.d1.queries,
    rowsRead: after.d1.rows_read - before.d1.rows_read,
    rowsWritten: after.d1.rows_written - before.d1.rows_written,
    statements: after.statements
      .map((s) => {
        const b = statements.get(s.sql) ?? { queries: 0, rows_read: 0, rows_written: 0 };
        return { sql: s.sql, queries: s.queries - b.queries, rowsRead: s.rows_read - b.rows_read, rowsWritten: s.rows_written - b.rows_written };
      })
      .filter((s) => s.queries > 0)
      .sort((a, b) => b.rowsWritten - a.rowsWritten || b.rowsRead - a.rowsRead),
  };
}

/** Every workerd process under `pid` (wrangler runs the runtime as its child). */
function workerdPids(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const parent = Number(fields[1]);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push({ pid: Number(entry), name });
    } catch {}
  }
  const found = [];
  const walk = (p) => {
    for (const child of children.get(p) ?? []) {
      if (child.name.startsWith("workerd")) found.push(child.pid);
      walk(child.pid);
    }
  };
  walk(pid);
  return found;
}

/** User + system CPU milliseconds of the server's workerd processes so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function workerdCpuMs(server) {
  let ticks = 0;
  for (const pid of workerdPids(server.pid)) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10;
}
