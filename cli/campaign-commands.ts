/** `edgedial campaigns …`: one subcommand per campaign operation of the typed client. */

import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { CampaignStatus, ContactStatus, CreateCampaignInput, Edgedial } from "../client/index.js";
import { UsageError } from "./errors.js";
import { campaignDetails, campaignsTable, contactsTable, createdSummary } from "./tables.js";
import { type Terminal, watchCampaign } from "./watch.js";

/** What a command needs from its process: the client for the global options, and where output goes. */
export interface CommandContext {
  client(command: Command): Edgedial;
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
  env: Record<string, string | undefined>;
  /** Where the command's exit status goes (0 unless set). */
  setExitCode(code: number): void;
}

const CAMPAIGN_STATUSES: CampaignStatus[] = ["draft", "scheduled", "running", "paused", "completed", "failed"];
const CONTACT_STATUSES: ContactStatus[] = ["pending", "originated", "connected", "completed", "failed", "cancelled"];

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError("It must be a whole number.");
  return Number(value);
}

const printJson = (context: CommandContext, value: unknown) => context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/** Every optional create field, as a flag named after the API's field with dashes. */
const CREATE_FLAGS = [
  { flag: "--max-concurrent-calls <n>", field: "max_concurrent_calls", help: "calls in flight at once, 1-100 (default 5)", integer: true },
  { flag: "--retries-per-contact <n>", field: "retries_per_contact", help: "redials after busy, no answer, failed or timeout, 0-5 (default 0)", integer: true },
  {
    flag: "--retry-delay-seconds <n>",
    field: "retry_delay_seconds",
    help: "seconds from an attempt's end to its retry, at least 60 (default 300)",
    integer: true,
  },
  { flag: "--scheduled-at <time>", field: "scheduled_at", help: "RFC 3339 time in the future: created scheduled, starts itself then" },
  { flag: "--default-country <code>", field: "default_country", help: "ISO 3166 alpha-2 country for national numbers (e.g. US)" },
  { flag: "--calling-window-start <HH:MM>", field: "calling_window_start", help: "earliest call time on each contact's clock" },
  { flag: "--calling-window-end <HH:MM>", field: "calling_window_end", help: "latest call time on each contact's clock (24:00 is midnight)" },
  { flag: "--calling-days <days>", field: "calling_days", help: "comma list of mon,tue,wed,thu,fri,sat,sun" },
  { flag: "--calling-timezone <zone>", field: "calling_timezone", help: "`recipient` (default) or one IANA zone for every contact" },
  { flag: "--dispositions <names>", field: "dispositions", help: "comma list of the dispositions agents may report" },
  { flag: "--retry-on <outcomes>", field: "retry_on", help: "comma list of busy,no_answer,failed,timeout,voicemail" },
  { flag: "--voicemail-action <action>", field: "voicemail_action", help: "agent (default), hangup or message" },
  { flag: "--voicemail-message <text>", field: "voicemail_message", help: "with --voicemail-action message: text spoken after the beep" },
  { flag: "--voicemail-audio-url <url>", field: "voicemail_audio_url", help: "with --voicemail-action message: https audio played after the beep" },
] as const;

/** Flags arrive camel-cased from commander: `--max-concurrent-calls` is `maxConcurrentCalls`. */
const camel = (field: string) => field.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

async function readContacts(path: string): Promise<Blob> {
  try {
    return new Blob([await readFile(path)], { type: "text/csv" });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new UsageError(`cannot read the contacts file ${path}: ${why}.`);
  }
}

function addCreate(campaigns: Command, context: CommandContext) {
  const create = campaigns
    .command("create")
    .description("create a campaign from a CSV of contacts (a phone_number column; other columns become custom fields)")
    .argument("<csv>", "the contacts file")
    .requiredOption("--name <name>", "the campaign's name")
    .requiredOption("--agent <id>", "the voice agent (agt_…)")
    .requiredOption("--number <id>", "the caller number (pn_…)");
  for (const setting of CREATE_FLAGS) {
    if ("integer" in setting) create.option(setting.flag, setting.help, wholeNumber);
    else create.option(setting.flag, setting.help);
  }
  create
    .option("--start", "start it as soon as it is created")
    .addOption(new Option("-q, --quiet", "print only the new campaign's id, for CMP=$(…)").conflicts("json"))
    .option("--json", "print the API's JSON answer")
    .action(async (csv: string, options: Record<string, string | number | boolean | undefined>, command: Command) => {
      const client = context.client(command);
      const input: Record<string, unknown> = { name: options.name, agent_id: options.agent, phone_number_id: options.number };
      for (const { field } of CREATE_FLAGS) if (options[camel(field)] !== undefined) input[field] = options[camel(field)];
      const created = await client.campaigns.create({ ...(input as CreateCampaignInput), contacts: await readContacts(csv) });
      const started = options.start ? await client.campaigns.start(created.id) : null;
      if (options.quiet) context.stdout.write(`${created.id}\n`);
      else if (options.json) printJson(context, started ? { ...created, ...started } : created);
      else context.stdout.write(`${createdSummary(created)}\n${started ? `Started: ${started.id} is ${started.status}.\n` : ""}`);
    });
}

function addLifecycle(campaigns: Command, context: CommandContext) {
  const actions = {
    start: "start a draft, scheduled or paused campaign",
    pause: "pause a running campaign (calls in flight finish)",
    resume: "resume a paused campaign",
    stop: "stop a campaign: pending contacts are cancelled and it completes",
  } as const;
  for (const [action, description] of Object.entries(actions) as [keyof typeof actions, string][]) {
    campaigns
      .command(action)
      .description(description)
      .argument("<id>", "the campaign (cmp_…)")
      .option("--json", "print the API's JSON answer")
      .action(async (id: string, options: { json?: boolean }, command: Command) => {
        const campaign = await context.client(command).campaigns[action](id);
        if (options.json) printJson(context, campaign);
        else context.stdout.write(`${campaign.id} is ${campaign.status}.\n`);
      });
  }
}

function addReads(campaigns: Command, context: CommandContext) {
  campaigns
    .command("list")
    .description("list the account's campaigns, newest first")
    .addOption(new Option("--status <status>", "only campaigns in this status").choices(CAMPAIGN_STATUSES))
    .option("--limit <n>", "campaigns per page, 1-100", wholeNumber, 20)
    .option("--offset <n>", "skip this many", wholeNumber, 0)
    .option("--json", "print the API's JSON answer")
    .action(async (options: { status?: CampaignStatus; limit: number; offset: number; json?: boolean }, command: Command) => {
      const page = await context.client(command).campaigns.list({ status: options.status, limit: options.limit, offset: options.offset });
      const { items, raw, ...envelope } = page;
      if (options.json) return void printJson(context, { ...raw, ...envelope });
      if (items.length === 0) return void context.stdout.write("No campaigns.\n");
      const more = page.has_next ? `\n${page.offset + 1}-${page.offset + page.count} of ${page.total}; --offset ${page.next_offset} for more.` : "";
      context.stdout.write(`${campaignsTable(items)}${more}\n`);
    });

  campaigns
    .command("get")
    .description("show a campaign: its status, counts and settings")
    .argument("<id>", "the campaign (cmp_…)")
    .option("--json", "print the API's JSON answer")
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const campaign = await context.client(command).campaigns.get(id);
      if (options.json) printJson(context, campaign);
      else context.stdout.write(`${campaignDetails(campaign)}\n`);
    });

  campaigns
    .command("contacts")
    .description("list a campaign's contacts; --csv prints every matching contact as the export's CSV")
    .argument("<id>", "the campaign (cmp_…)")
    .addOption(new Option("--status <status>", "only contacts in this status").choices(CONTACT_STATUSES))
    .option("--disposition <name>", "only contacts whose latest result has this disposition")
    .option("--limit <n>", "contacts per page, 1-1000", wholeNumber, 50)
    .option("--offset <n>", "skip this many", wholeNumber, 0)
    .addOption(new Option("--csv", "print every matching contact as CSV (ignores --limit and --offset)").conflicts("json"))
    .option("--json", "print the API's JSON answer")
    .action(
      async (
        id: string,
        options: { status?: ContactStatus; disposition?: string; limit: number; offset: number; csv?: boolean; json?: boolean },
        command: Command,
      ) => {
        const client = context.client(command);
        if (options.csv) return exportCsv(client, id, options, () => ({ out: context.stdout, end: false }));
        const page = await client.campaigns.listContacts(id, {
          status: options.status,
          disposition: options.disposition,
          limit: options.limit,
          offset: options.offset,
        });
        const { items, raw, ...envelope } = page;
        if (options.json) return void printJson(context, { ...raw, ...envelope });
        if (items.length === 0) return void context.stdout.write("No contacts match.\n");
        const more = page.has_next
          ? `\n${page.offset + 1}-${page.offset + page.count} of ${page.total}; --offset ${page.next_offset} for more, or --csv for all.`
          : "";
        context.stdout.write(`${contactsTable(items)}${more}\n`);
      },
    );

  campaigns
    .command("export")
    .description("write a campaign's contacts and results as CSV, streamed (redirect it: > results.csv)")
    .argument("<id>", "the campaign (cmp_…)")
    .addOption(new Option("--status <status>", "only contacts in this status").choices(CONTACT_STATUSES))
    .option("--disposition <name>", "only contacts whose latest result has this disposition")
    .option("-o, --output <file>", "write to this file instead of standard output")
    .action(async (id: string, options: { status?: ContactStatus; disposition?: string; output?: string }, command: Command) => {
      const client = context.client(command);
      const { output } = options;
      await exportCsv(client, id, options, () => (output ? { out: createWriteStream(output), end: true } : { out: context.stdout, end: false }));
    });
}

/**
 * The server's CSV export, piped as it arrives: a campaign of 100k contacts never sits in memory.
 * The destination opens only once the server has said yes, so a refusal leaves no empty file.
 */
async function exportCsv(client: Edgedial, id: string, filter: { status?: ContactStatus; disposition?: string }, open: () => { out: Writable; end: boolean }) {
  const body = await client.campaigns.exportContacts(id, { status: filter.status, disposition: filter.disposition });
  const { out, end } = open();
  await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), out, { end });
}

function addWatch(campaigns: Command, context: CommandContext) {
  campaigns
    .command("watch")
    .description("follow a campaign live until it ends: exit 0 at completed, 3 at failed")
    .argument("<id>", "the campaign (cmp_…)")
    .option("--plain", "print a line per change even in a terminal, as in a pipe or log")
    .action(async (id: string, options: { plain?: boolean }, command: Command) => {
      const { stdout } = context;
      const terminal: Terminal = {
        write: (text) => void stdout.write(text),
        live: Boolean(stdout.isTTY) && !options.plain,
        columns: () => stdout.columns ?? 80,
        // https://no-color.org: any non-empty NO_COLOR turns colour off.
        color: !context.env.NO_COLOR && context.env.TERM !== "dumb",
      };
      const { code, view, reason } = await watchCampaign(context.client(command), id, terminal);
      if (view.status === "failed") context.stderr.write(`error: the campaign failed${reason ? `: ${reason}` : "."}\n`);
      context.setExitCode(code);
    });
}

export function addCampaignCommands(program: Command, context: CommandContext) {
  const campaigns = program.command("campaigns").description("create, run, follow and export campaigns");
  addCreate(campaigns, context);
  addReads(campaigns, context);
  addLifecycle(campaigns, context);
  addWatch(campaigns, context);
}
