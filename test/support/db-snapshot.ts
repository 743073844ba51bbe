import type { Client } from 'pg';

/**
 * The tables whose rows a refused request must leave exactly as they were. Not pending_changes:
 * its worker retries and removes rows in the background, whatever the request in flight.
 */
export const SNAPSHOT_TABLES = ['user_mapping', 'posts', 'comments', 'audit_log', 'revoked_tokens', 'uploads', 'idempotency_keys'] as const;

export type Snapshot = Record<string, Map<string, boolean>>;

/**
 * Every row of every table, as PostgreSQL's text form of the row. A row marked `true` is a
 * record of a failed admin attempt (audit_log outcome 'failed'), which the admin services write on
 * purpose when it refuses a change; it is the one row a refusal may add.
 */
export async function snapshot(db: Client): Promise<Snapshot> {
  const result: Snapshot = {};
  for (const table of SNAPSHOT_TABLES) {
    const allowed = table === 'audit_log' ? `t.outcome = 'failed'` : 'false';
    const { rows } = await db.query<{ r: string; allowed: boolean }>(`SELECT t::text AS r, ${allowed} AS allowed FROM ${table} t`);
    result[table] = new Map(rows.map((row) => [row.r, row.allowed]));
  }
  return result;
}

export interface SnapshotDiff {
  table: string;
  added: string[];
  removed: string[];
}

/** Rows added or removed (a changed row is both), ignoring added failure records of the audit log. */
export function diffSnapshots(before: Snapshot, after: Snapshot): SnapshotDiff[] {
  const diffs: SnapshotDiff[] = [];
  for (const table of SNAPSHOT_TABLES) {
    const added = [...after[table].entries()].filter(([row, allowed]) => !before[table].has(row) && !allowed).map(([row]) => row);
    const removed = [...before[table].keys()].filter((row) => !after[table].has(row));
    if (added.length > 0 || removed.length > 0) {
      diffs.push({ table, added, removed });
    }
  }
  return diffs;
}
