import pg from 'pg';
import { runKeplarsWebhookCli } from '../../libs/keplars-webhook/src/cli/run-keplars-webhook.js';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { dropSchemas, KEPLARS_TABLES, POSTGRES_URL, uniqueSchema } from '../support/postgres.js';
import { createWebhookApp } from '../support/webhook-app.js';

// `keplars-webhook migrate`, as a deploy step runs it before apps start with migrations: 'manual'.
async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKeplarsWebhookCli(argv, env, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('keplars-webhook migrate', () => {
  const schema = uniqueSchema('migrate_cli');
  afterAll(() => dropSchemas(schema));

  it('creates the tables, then says there is nothing to do; an app with migrations manual starts on them', async () => {
    const manual = () =>
      createWebhookApp({ adapter: 'express', imports: [KeplarsWebhookModule.forRoot({ secret: 'whsec_m', deduplication: { store: { postgres: POSTGRES_URL, schema, migrations: 'manual' } } })] });
    await expect(manual()).rejects.toThrow(/npx keplars-webhook migrate --database-url <url> --schema migrate_cli_/);

    const first = await run(['migrate', '--schema', schema], { DATABASE_URL: POSTGRES_URL });
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toMatch(new RegExp(`migrated the keplars-webhook tables in schema "${schema}" to version 2`));
    const again = await run(['migrate', `--database-url=${POSTGRES_URL}`, '--schema', schema]);
    expect(again.out).toMatch(/already at version 2/);

    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    const { rows } = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
    await pool.end();
    expect(rows.map((row) => row.table_name)).toEqual(KEPLARS_TABLES);

    const app = await manual();
    await app.close();
  });

  it('says what is missing, and exits 2, without a database URL or with a bad schema name', async () => {
    expect(await run(['migrate'])).toMatchObject({ code: 2, err: expect.stringMatching(/No database given: pass --database-url/) });
    expect(await run(['migrate', '--database-url', 'redis://127.0.0.1:6379'])).toMatchObject({ code: 2, err: expect.stringMatching(/is not a postgres:\/\/ URL/) });
    expect(await run(['migrate', '--schema', 'Bad-Name'], { DATABASE_URL: POSTGRES_URL })).toMatchObject({ code: 2, err: expect.stringMatching(/lower-case Postgres name/) });
    expect(await run(['migrate', '--force'], { DATABASE_URL: POSTGRES_URL })).toMatchObject({ code: 2, err: expect.stringMatching(/Unknown option "--force"/) });
  });

  it('exits 1 with the reason when the database refuses, without the password', async () => {
    const result = await run(['migrate', '--database-url', 'postgres://someone:hunter2@127.0.0.1:5432/no_such_database_here']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/Could not migrate: .*(createdb|user and password)/);
    expect(result.err).not.toContain('hunter2');
  });
});
