/**
 * Every PostgreSQL advisory lock id this service takes, in one place so two never collide by
 * accident. One-key locks (a bigint) and two-key locks (two ints) are separate spaces in
 * PostgreSQL, so GROUP_NAMESPACE sharing RECONCILE's number does not make them one lock.
 */
export const AdvisoryLock = {
  /** Session lock, polled: one migration runner at a time (src/database/migrate.ts). */
  MIGRATIONS: 727_001,
  /** Transaction lock: changes that add to or remove from the admin group (AccountChangesService). */
  ADMIN_MEMBERSHIP: 727_002,
  /** Session lock: one reconcile run at a time (ReconcileService). */
  RECONCILE: 727_003,
  /** Two-key transaction lock (this, hashtext(group)): changes to one group (AccountChangesService). */
  GROUP_NAMESPACE: 727_003,
} as const;
