/**
 * The `edgedial` command: global options, the client they configure, and the one place where any
 * failure becomes a sentence on stderr and an exit status.
 */

import type { Writable } from "node:stream";
import { type Command, CommanderError, Command as Program } from "commander";
import { Edgedial } from "../client/index.js";
import { addCampaignCommands, type CommandContext } from "./campaign-commands.js";
import { describeError, EXIT_USAGE, exitCodeFor, UsageError } from "./errors.js";

/** The client's own default, named here so "cannot reach …" can say which address it tried. */
const DEFAULT_BASE_URL = "http://127.0.0.1:8787";

export interface CliProcess {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: CommandContext["stdout"];
  stderr: Writable;
  version: string;
}

function baseUrlOf(command: Command, env: CliProcess["env"]): string {
  const given = (command.optsWithGlobals().baseUrl as string | undefined) ?? env.EDGEDIAL_BASE_URL ?? DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`the base URL "${given}" is not a URL; give the server's address, like ${DEFAULT_BASE_URL}.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`the base URL "${given}" must start with http:// or https://.`);
  return given.replace(/\/$/, "");
}

/** Runs one command line and answers its exit status; nothing it does throws past here. */
export async function runCli(cli: CliProcess): Promise<number> {
  let exitCode = 0;
  let baseUrl = cli.env.EDGEDIAL_BASE_URL ?? DEFAULT_BASE_URL;
  const context: CommandContext = {
    client(command) {
      baseUrl = baseUrlOf(command, cli.env);
      const apiKey = (command.optsWithGlobals().apiKey as string | undefined) ?? cli.env.EDGEDIAL_API_KEY;
      if (!apiKey) throw new UsageError("no API key: set EDGEDIAL_API_KEY or pass --api-key (npm start saves the demo key in .wrangler/demo.json).");
      return new Edgedial({ apiKey, baseUrl });
    },
    stdout: cli.stdout,
    stderr: cli.stderr,
    env: cli.env,
    setExitCode: (code) => {
      exitCode = code;
    },
  };

  const program = new Program("edgedial")
    .description("Run edgedial campaigns from a terminal: create, start, watch and export.")
    .version(cli.version, "-V, --version")
    .option("--api-key <key>", "API key (default: $EDGEDIAL_API_KEY)")
    .option("--base-url <url>", `server address (default: $EDGEDIAL_BASE_URL or ${DEFAULT_BASE_URL})`)
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: (text) => void cli.stdout.write(text), writeErr: (text) => void cli.stderr.write(text) });
  addCampaignCommands(program, context);

  try {
    await program.parseAsync(cli.argv, { from: "user" });
    return exitCode;
  } catch (error) {
    // Commander has already printed its own message (or the help it was asked for).
    if (error instanceof CommanderError) return error.code.startsWith("commander.help") || error.code === "commander.version" ? error.exitCode : EXIT_USAGE;
    cli.stderr.write(`error: ${describeError(error, baseUrl)}\n`);
    return exitCodeFor(error);
  }
}
