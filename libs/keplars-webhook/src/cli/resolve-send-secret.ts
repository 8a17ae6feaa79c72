import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { SECRET_VARIABLE, type SendOptions } from './parse-send-args.js';

export interface FoundSecret {
  secret: string;
  /** Where it came from, to print (never the secret itself). */
  source: string;
}

/** Reads a file's text, or `undefined` when it does not exist. */
export type ReadOptionalFile = (path: string) => string | undefined;

/**
 * The secret to sign with, looked for where an app's own secret lives: `--secret`, then the
 * environment, then each `--dotenv` in order (missing files are skipped: a fresh clone has no .env).
 */
export function resolveSendSecret(
  options: Pick<SendOptions, 'secret' | 'envFiles'>,
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadOptionalFile = readOptionalFile,
): FoundSecret | undefined {
  if (options.secret) return { secret: options.secret, source: '--secret' };
  if (env[SECRET_VARIABLE]) return { secret: env[SECRET_VARIABLE], source: `${SECRET_VARIABLE} from the environment` };
  for (const path of options.envFiles) {
    const text = readFile(path);
    const secret = text === undefined ? undefined : parseEnv(text)[SECRET_VARIABLE];
    if (secret) return { secret, source: `${SECRET_VARIABLE} from ${path}` };
  }
  return undefined;
}

function readOptionalFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read --dotenv ${path}: ${(error as Error).message}`);
  }
}
