/**
 * The audit actions the service writes today. The list filter accepts any well-formed action
 * name; these are documented in Swagger and suggested by the admin console, which imports this
 * file into its bundle (so it imports nothing).
 */
export const KNOWN_AUDIT_ACTIONS = [
  'user.invite',
  'user.disable',
  'user.enable',
  'user.delete',
  'user.delete.complete',
  'group.create',
  'group.delete',
  'group.add_user',
  'group.remove_user',
  'session.revoke',
] as const;
