/** Campaigns and contacts as aligned text for a terminal; `--json` and `--csv` print the API's own forms instead. */

import type { Campaign, Contact, CreatedCampaign } from "../client/index.js";

/** Columns padded to their widest cell; the last column is not padded, so no line ends in spaces. */
function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

const done = (stats: Campaign["stats"]) => stats.completed + stats.failed + stats.cancelled;

export function campaignsTable(campaigns: readonly Campaign[]): string {
  return formatTable(
    ["ID", "STATUS", "DONE", "CREATED", "NAME"],
    campaigns.map((c) => [c.id, c.status, `${done(c.stats)}/${c.stats.total}`, c.created_at.slice(0, 16).replace("T", " "), c.name]),
  );
}

/** One campaign as `field  value` lines, its counts and settings together. */
export function campaignDetails(campaign: Campaign): string {
  const { stats } = campaign;
  const rows: [string, string][] = [
    ["id", campaign.id],
    ["name", campaign.name],
    ["status", campaign.status],
    ...(campaign.status_reason ? ([["reason", campaign.status_reason]] as [string, string][]) : []),
    [
      "contacts",
      `${stats.total}: ${stats.pending} pending, ${stats.originated + stats.connected} calling, ${stats.completed} completed, ${stats.failed} failed, ${stats.cancelled} cancelled`,
    ],
    ["agent", campaign.agent_id],
    ["number", campaign.phone_number_id],
    ["max concurrent calls", String(campaign.max_concurrent_calls)],
    ["retries per contact", `${campaign.retries_per_contact}, ${campaign.retry_delay_seconds} s apart`],
    ["scheduled at", campaign.scheduled_at ?? "-"],
    ["started at", campaign.started_at ?? "-"],
    ["completed at", campaign.completed_at ?? "-"],
    ["created at", campaign.created_at],
  ];
  return formatTable(["FIELD", "VALUE"], rows).split("\n").slice(1).join("\n");
}

/** What create says: the new id and status, what the upload skipped, and the next command to run. */
export function createdSummary(created: CreatedCampaign): string {
  const skipped = [
    created.duplicates_skipped ? `${created.duplicates_skipped} repeated numbers skipped` : "",
    created.dnc_suppressed ? `${created.dnc_suppressed} on the do-not-call list (cancelled)` : "",
  ].filter(Boolean);
  const next = created.status === "draft" ? `\nStart it with: edgedial campaigns start ${created.id}` : "";
  return `Created ${created.id} (${created.status}) with ${created.stats.total} contacts${skipped.length ? `; ${skipped.join(", ")}` : ""}.${next}`;
}

export function contactsTable(contacts: readonly Contact[]): string {
  return formatTable(
    ["ID", "PHONE", "STATUS", "ATTEMPTS", "OUTCOME", "DISPOSITION"],
    contacts.map((c) => [c.id, c.phone_number, c.status, String(c.attempts), c.outcome ?? "-", c.result?.disposition ?? "-"]),
  );
}
