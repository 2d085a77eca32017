/** Import rules for src/, run by `npm run check`; docs/checks.md says why each exists. */
// Without swc the cruiser would read no .ts file and pass on an empty graph; fail loudly instead.
require("@swc/core");

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      comment: "A reader follows arrows one way; a cycle, even a type-only one, ties two capabilities into one.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "db-imports-nothing-above",
      comment: "Schema and queries sit at the bottom so any layer can use them without dragging HTTP or the object in.",
      severity: "error",
      from: { path: "^src/db/" },
      to: { path: "^src/(http|campaigns|campaign-object|routes|uploads)/" },
    },
    {
      name: "http-knows-no-feature",
      comment: "Auth, errors and validation are shared plumbing; a feature import would make every route depend on it.",
      severity: "error",
      from: { path: "^src/http/" },
      to: { path: "^src/(campaigns|campaign-object|routes|uploads)/" },
    },
    {
      name: "pure-machines-see-only-carrier-types",
      comment: "The state machines stay pure and table-testable: carrier shapes yes, carrier adapters and their I/O no.",
      severity: "error",
      from: {
        path: ["^src/campaign-object/lifecycle\\.ts$", "^src/campaign-object/carrier-events/contact-machine\\.ts$", "^src/.+-rules\\.ts$"],
      },
      to: { path: "^src/carriers/", pathNot: "^src/carriers/types\\.ts$" },
    },
    {
      name: "object-storage-imports-no-caller",
      comment: "The object's tables are the floor of the object; importing what calls them would turn storage into a cycle.",
      severity: "error",
      from: { path: "^src/campaign-object/storage/" },
      to: { path: "^src/campaign-object/", pathNot: "^src/campaign-object/storage/" },
    },
    {
      name: "worker-reaches-object-via-stub",
      comment: "Worker code talks to the campaign object through its stub getter only, so the object's inside can change freely.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/campaign-object/", "^src/index\\.ts$"] },
      to: { path: "^src/campaign-object/", pathNot: "^src/campaign-object/stub\\.ts$" },
    },
    {
      name: "contact-ledger-via-stub",
      comment: "The ledger's shards are reached through their stub (naming, shard choice, the policy push), never by importing the object.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/contact-policy/", "^src/index\\.ts$"] },
      to: { path: "^src/contact-policy/ledger-do\\.ts$" },
    },
    {
      name: "env-imports-nothing",
      comment: "Bindings are typed without importing a class, so env.ts can be imported from anywhere without a cycle.",
      severity: "error",
      from: { path: "^src/env\\.ts$" },
      to: { path: "^src/" },
    },
    {
      name: "resolvable-imports",
      comment: "An import the cruiser cannot resolve is invisible to every rule above, so it fails the check too.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // TypeScript 7.0 ships no in-process compiler API; swc parses TS itself and keeps type-only imports.
    parser: "swc",
    doNotFollow: { path: "node_modules" },
    builtInModules: { add: ["cloudflare:workers"] },
    enhancedResolveOptions: {
      extensions: [".ts", ".js", ".mjs"],
      exportsFields: ["exports"],
      conditionNames: ["import", "types", "workerd", "worker", "browser", "default"],
      mainFields: ["module", "main", "types"],
    },
  },
};
