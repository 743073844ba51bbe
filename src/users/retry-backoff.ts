/** Seconds until a failed change is tried again: 30 s, doubling per attempt, at most an hour. */
export const RETRY_BACKOFF_SQL = (attempts: string): string => `least(30 * power(2, ${attempts}), 3600) * interval '1 second'`;
