import type { CognitoLocalHandle } from '../tools/local-stack/cognito-local';
import { PostgresHandle, withClient } from '../tools/local-stack/postgres';
import type { S3rverHandle } from '../tools/local-stack/s3rver';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as Record<string, unknown>).__TEST_STACK__ as
    { pg: PostgresHandle; cognito: CognitoLocalHandle; s3: S3rverHandle; runId: string } | undefined;
  if (stack === undefined) {
    return;
  }
  await stack.cognito.stop();
  await stack.s3.stop();
  if (process.env.TEST_DATABASE_URL !== undefined && process.env.TEST_DATABASE_URL !== '') {
    // An external server outlives the run: drop the scratch databases this run made.
    await withClient(stack.pg.adminUrl, async (client) => {
      const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [
        `${stack.runId}%`,
      ]);
      for (const { datname } of rows) {
        await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      }
    });
  }
  await stack.pg.stop();
}
