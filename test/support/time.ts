/** Token `iat` has one-second precision: a token must come from a later second than a revocation. */
export async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 20));
}
