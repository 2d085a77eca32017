import { defineConfig } from "drizzle-kit";

// Generates SQL into migrations/, which is also wrangler's migrations_dir.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
