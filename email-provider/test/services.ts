// PostgreSQL for the store tests (CI starts it, .ci/install): each run works in its own schema
// and removes it afterwards. Redis and the cuttable TCP proxy: @bsso/protocol/testing.
import { dropPostgresSchema } from '../src/storage/postgres-database.ts';

export const DATABASE_URL =
  process.env.BSSO_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function dropSchema(schema: string): Promise<void> {
  await dropPostgresSchema(DATABASE_URL, schema);
}
