/**
 * A contact's custom fields as D1 stores them: a JSON array of values in the order of the campaign's
 * `custom_columns`, with null where a JSON upload's contact had no such key. The names live once on
 * the campaign instead of on each of its contacts, which makes a 100k-contact upload about a third
 * fewer bytes to send and store. Contacts stored before this format hold a JSON object; every reader
 * goes through this module, so both read the same.
 */

/** The stored text for one contact's values. */
export const storedFieldValues = (values: readonly (string | null)[]): string => JSON.stringify(values);

/** `fields[name] = value`, also for a column named "__proto__", which plain assignment would swallow. */
export function setField(fields: Record<string, string>, name: string, value: string) {
  if (name === "__proto__") Object.defineProperty(fields, name, { value, enumerable: true, writable: true, configurable: true });
  else fields[name] = value;
}

/** The fields as the API shows them: name → value, in column order, without the keys a JSON upload left out. */
export function fieldsObject(stored: string, columns: readonly string[]): Record<string, string> {
  const parsed = JSON.parse(stored) as unknown;
  if (!Array.isArray(parsed)) return parsed as Record<string, string>;
  const fields: Record<string, string> = {};
  for (let i = 0; i < columns.length; i++) {
    const value = parsed[i] as string | null | undefined;
    if (typeof value === "string") setField(fields, columns[i] as string, value);
  }
  return fields;
}

/** The stored fields rewritten as the JSON object the API shows (the Durable Object keeps its working contacts so). */
export const fieldsObjectText = (stored: string, columns: readonly string[]): string =>
  stored.startsWith("[") ? JSON.stringify(fieldsObject(stored, columns)) : stored;

/** One value per column, "" where the contact has none: a spreadsheet row's cells. */
export function fieldCells(stored: string, columns: readonly string[]): string[] {
  const parsed = JSON.parse(stored) as unknown;
  if (Array.isArray(parsed)) return columns.map((_, i) => (typeof parsed[i] === "string" ? (parsed[i] as string) : ""));
  const fields = parsed as Record<string, unknown>;
  return columns.map((column) => (Object.hasOwn(fields, column) && typeof fields[column] === "string" ? (fields[column] as string) : ""));
}
