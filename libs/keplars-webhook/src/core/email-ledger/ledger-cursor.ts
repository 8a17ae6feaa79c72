/**
 * Page cursors of the ledger's lists: the sort key of the last item of a page, opaque to the caller.
 * A cursor that does not decode is refused with a message, never read as "from the start".
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * What the ledger's methods throw for input the caller got wrong (not an address, a cursor no page
 * gave, a page size out of range), with a message that says what to send: map it to 400 in an API.
 */
export class KeplarsLedgerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeplarsLedgerInputError';
  }
}

/** Thrown for a cursor that no page of this list handed out. */
export class KeplarsCursorError extends KeplarsLedgerInputError {
  constructor(cursor: string) {
    super(`"${cursor.slice(0, 80)}" is not a cursor of this list: pass the "next" of the page before, or none for the first page.`);
    this.name = 'KeplarsCursorError';
  }
}

/** The sort key a cursor holds, of this shape (`'n'` a number, `'s'` a string, per position: `'nss'`). */
export function decodeCursor(cursor: string, shape: string): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new KeplarsCursorError(cursor);
  }
  const fits = (part: unknown, kind: string) => (kind === 'n' ? typeof part === 'number' && Number.isFinite(part) : typeof part === 'string');
  if (!Array.isArray(key) || key.length !== shape.length || !key.every((part, index) => fits(part, shape[index]!))) throw new KeplarsCursorError(cursor);
  return key as (string | number)[];
}
