// Shape checks for values that came out of JSON.parse (venue replies, config,
// journal lines, simulator requests): the one definition every thread and
// module uses, so "is a JSON object" means the same thing everywhere.

/** A JSON object (not null, not an array): the shape every record check starts from. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
