import { type RawBuilder, sql } from 'kysely';

/** Thrown when a pagination cursor was not produced by us (or was tampered with). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor() {
    super('invalid cursor');
  }
}

/** Opaque cursor: base64url of a small JSON object. */
export function encodeCursor(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/**
 * Reads a cursor made by {@link encodeCursor} and returns its string fields `keys`.
 * @throws InvalidCursorError when the cursor does not decode to an object holding those keys.
 */
export function decodeCursor<K extends string>(cursor: string, keys: readonly K[]): Record<K, string> {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw new InvalidCursorError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (typeof parsed !== 'object' || parsed === null) throw new InvalidCursorError();
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const v: unknown = (parsed as Record<string, unknown>)[key];
    if (typeof v !== 'string' || v.length === 0) throw new InvalidCursorError();
    out[key] = v;
  }
  return out as Record<K, string>;
}

/** Page-size bounds of every list: 1–100. */
export function pageSize(limit: number): number {
  return Math.min(Math.max(Math.trunc(limit), 1), 100);
}

/**
 * Rows of `table` strictly after the cursor's row in newest-first order (its time column, then
 * id). The comparison is made in SQL against that row itself, so timestamps keep their
 * microseconds.
 */
export function afterRow(
  table: 'messages' | 'verifications' | 'inbound_messages',
  id: string,
  timeColumn: 'created_at' | 'received_at' = 'created_at',
): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(`${table}.${timeColumn}`)}, ${sql.ref(`${table}.id`)}) < (select ${sql.ref(`a.${timeColumn}`)}, a.id from ${sql.table(table)} a where a.id = ${id})`;
}

/** The cursor of most lists: the row's `id`. */
export function byId(row: { readonly id: string | bigint }): Record<string, string> {
  return { id: String(row.id) };
}

/** One page from `limit + 1` rows: the first `limit`, and the cursor of the last when more follow. */
export function toPage<T>(
  rows: readonly T[],
  limit: number,
  cursorOf: (row: T) => Record<string, string>,
): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return {
    data,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
