import { DataSource } from 'typeorm';

/** A user_mapping row to act or be acted upon in audit entries (no Cognito user needed). */
export async function mappedUser(db: DataSource): Promise<string> {
  const [row] = await db.query(
    `INSERT INTO user_mapping (cognito_sub, cognito_username) VALUES (gen_random_uuid()::text, gen_random_uuid()::text) RETURNING id`,
  );
  return row.id as string;
}

export interface SeedEntries {
  count: number;
  actorId: string;
  action?: string;
  targetUserId?: string | null;
  /** The newest entry's created_at; each next one is `stepMs` older. */
  newest: string;
  stepMs?: number;
  details?: Record<string, unknown>;
  /** Bytes of padding in details.pad, to make entries large. */
  padding?: number;
}

/** Inserts audit entries straight into the table (one statement); returns their ids newest first. */
export async function insertAuditEntries(db: DataSource, seed: SeedEntries): Promise<string[]> {
  const rows: Array<{ id: string }> = await db.query(
    `INSERT INTO audit_log (actor_id, action, target_user_id, details, created_at)
     SELECT $1, $2, $3, $4::jsonb || jsonb_build_object('pad', repeat('x', $7::int), 'n', g),
            $5::timestamptz - g * ($6::int * interval '1 millisecond')
       FROM generate_series(0, $8::int - 1) AS g
     RETURNING id`,
    [
      seed.actorId,
      seed.action ?? 'user.disable',
      seed.targetUserId ?? null,
      JSON.stringify(seed.details ?? {}),
      seed.newest,
      seed.stepMs ?? 1000,
      seed.padding ?? 0,
      seed.count,
    ],
  );
  return ordered(
    db,
    rows.map((r) => r.id),
  );
}

/** `ids` in the log's order: created_at, then id, both descending. */
export async function ordered(db: DataSource, ids: string[]): Promise<string[]> {
  const rows: Array<{ id: string }> = await db.query(
    `SELECT id FROM audit_log WHERE id = ANY($1::uuid[]) ORDER BY created_at DESC, id DESC`,
    [ids],
  );
  return rows.map((r) => r.id);
}
