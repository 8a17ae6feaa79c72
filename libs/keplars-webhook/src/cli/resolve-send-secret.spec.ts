import { resolveSendSecret } from './resolve-send-secret.js';

const FILES: Record<string, string> = {
  'app/.env': '# the app\'s own\nPORT=4000\nKEPLARS_WEBHOOK_SECRET="from-dotenv"\n',
  'app/.env.example': 'KEPLARS_WEBHOOK_SECRET=from-example\n',
  'app/empty.env': 'KEPLARS_WEBHOOK_SECRET=\n',
};
const readFile = (path: string) => FILES[path];

describe('resolveSendSecret', () => {
  it.each([
    ['--secret first', { secret: 'flag', envFiles: ['app/.env'] }, { KEPLARS_WEBHOOK_SECRET: 'env' }, { secret: 'flag', source: '--secret' }],
    ['then the environment', { secret: undefined, envFiles: ['app/.env'] }, { KEPLARS_WEBHOOK_SECRET: 'env' }, { secret: 'env', source: 'KEPLARS_WEBHOOK_SECRET from the environment' }],
    ['then the first dotenv file that sets it', { secret: undefined, envFiles: ['app/.env', 'app/.env.example'] }, {}, { secret: 'from-dotenv', source: 'KEPLARS_WEBHOOK_SECRET from app/.env' }],
    ['skipping files that are missing or leave it empty', { secret: undefined, envFiles: ['app/missing.env', 'app/empty.env', 'app/.env.example'] }, {}, { secret: 'from-example', source: 'KEPLARS_WEBHOOK_SECRET from app/.env.example' }],
    ['an empty environment variable counts as unset', { secret: undefined, envFiles: ['app/.env.example'] }, { KEPLARS_WEBHOOK_SECRET: '' }, { secret: 'from-example', source: 'KEPLARS_WEBHOOK_SECRET from app/.env.example' }],
  ])('%s', (_, options, env, expected) => {
    expect(resolveSendSecret(options, env, readFile)).toEqual(expected);
  });

  it('finds nothing when nothing sets it', () => {
    expect(resolveSendSecret({ secret: undefined, envFiles: ['app/missing.env'] }, {}, readFile)).toBeUndefined();
  });
});
