// Test helper for validation errors: which field a PolyedgeError names.
import assert from 'node:assert/strict';

/** The PolyedgeError field `f` throws on, or undefined when it does not throw. */
export function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    const field = (err as { field?: string }).field;
    assert.ok(field !== undefined, `no field named: ${(err as Error).message}`);
    return field;
  }
}
