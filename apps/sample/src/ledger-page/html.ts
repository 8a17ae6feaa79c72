/** A piece of HTML made by {@link html}: inserted as it is into another template. */
export class Html {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

/**
 * A tagged template for HTML in which every inserted value is escaped, unless it is itself made by
 * `html`: what Keplars' events carry (subjects, addresses, bounce reasons) comes from outside and is
 * only ever text on the page. Lists are joined; `undefined`, `null` and `false` insert nothing.
 *
 * @example html`<td>${email.subject}</td>` // a subject of `<b>` shows as "<b>"
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return new Html(strings.reduce((out, string, index) => out + string + (index < values.length ? inserted(values[index]) : ''), ''));
}

function inserted(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(inserted).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as it may stand in HTML, in an element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}
