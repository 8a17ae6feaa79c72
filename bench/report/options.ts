/** `--name value` or `--name=value` from the command line; `--flag` alone is `'true'`. */
export function parseArguments(argv: readonly string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[index]!);
    if (!match) throw new Error(`unexpected argument "${argv[index]}"`);
    const next = argv[index + 1];
    if (match[2] !== undefined) options.set(match[1]!, match[2]);
    else if (next !== undefined && !next.startsWith('--')) options.set(match[1]!, argv[++index]!);
    else options.set(match[1]!, 'true');
  }
  return options;
}

export function numberOption(options: Map<string, string>, name: string, fallback: number): number {
  const value = options.get(name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number (got ${value})`);
  return parsed;
}

export function listOption<T extends string>(options: Map<string, string>, name: string, all: readonly T[]): T[] {
  const value = options.get(name);
  if (value === undefined) return [...all];
  const picked = value.split(',');
  const unknown = picked.filter((item) => !all.includes(item as T));
  if (unknown.length > 0) throw new Error(`--${name}: unknown ${unknown.join(', ')} (choose from ${all.join(', ')})`);
  return picked as T[];
}
