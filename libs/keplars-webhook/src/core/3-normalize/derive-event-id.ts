import { createHash } from 'node:crypto';

/**
 * A deterministic id for a payload that carries none: a hash of its content with object keys sorted,
 * so a retry matches its first delivery even if Keplars serialised it differently.
 */
export function deriveKeplarsEventId(body: Readonly<Record<string, unknown>>): string {
  return `kpl_${createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 32)}`;
}

/** Whether the event's id was derived from its content (the payload carried no id of Keplars' own). */
export function hasDerivedId(event: { readonly body: Readonly<Record<string, unknown>> }): boolean {
  return event.body.id === undefined || event.body.id === null;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
