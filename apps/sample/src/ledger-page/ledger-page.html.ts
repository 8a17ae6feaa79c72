import type { KeplarsLedgerEmail, KeplarsLedgerEmailWithTimeline, KeplarsLedgerPage, KeplarsSuppression, KeplarsTimelineEvent } from 'nestjs-keplars-webhook';
import { html, type Html } from './html.js';

/** What the page shows: a page of recent emails, perhaps one email's timeline, and the suppression list. */
export interface LedgerPageView {
  emails: KeplarsLedgerPage<KeplarsLedgerEmail>;
  /** The cursor the emails page was read from (`undefined`: the newest). */
  cursor: string | undefined;
  /** The email asked for with `?email=`, and what the ledger has of it. */
  selected: { emailId: string; email: KeplarsLedgerEmailWithTimeline | undefined } | undefined;
  suppressions: KeplarsLedgerPage<KeplarsSuppression>;
}

/** Seconds between the page's reloads, so that events sent meanwhile appear by themselves. */
export const REFRESH_SECONDS = 5;

/** The whole page: server-rendered, no script, every value from an event escaped by `html`. */
export function renderLedgerPage(view: LedgerPageView): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Keplars sample: emails and suppressions</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>Emails and suppressions</h1>
  <p>What the webhook module's ledger kept from the events received at <code>POST /webhooks/keplars</code>. Read-only; reloads every ${REFRESH_SECONDS} s.</p>
</header>
<main${view.selected ? html` class="with-timeline"` : ''}>
  ${emailsSection(view)}
  ${view.selected ? timelineSection(view.selected.emailId, view.selected.email) : ''}
  ${suppressionsSection(view.suppressions)}
</main>
</body>
</html>
`.text;
}

function emailsSection({ emails, cursor, selected }: LedgerPageView): Html {
  const rows = emails.items.map(
    (email) => html`<tr${email.emailId === selected?.emailId ? html` class="selected"` : ''}>
      <td><a href="${linkTo({ email: email.emailId, cursor })}">${email.emailId}</a><div class="recipient">${email.recipient ?? '—'}</div></td>
      <td>${email.subject ?? '—'}</td>
      <td>${statusBadge(email)}</td>
      <td class="number">${email.opens.count}</td>
      <td class="number">${email.clicks.count}</td>
      <td>${time(email.lastEventAt, 'short')}</td>
    </tr>`,
  );
  return html`<section id="emails" aria-labelledby="emails-heading">
  <h2 id="emails-heading">Recent emails</h2>
  ${
    rows.length === 0
      ? html`<p class="empty">No email yet. Send an event with <code>npm run send -- --type email.delivered</code> and it appears here.</p>`
      : html`<table>
    <thead><tr><th>Email, to</th><th>Subject</th><th>Status</th><th>Opens</th><th>Clicks</th><th>Last event (UTC)</th></tr></thead>
    <tbody>${rows}</tbody>
  </table>`
  }
  <nav class="pages">
    ${cursor === undefined ? '' : html`<a href="${linkTo({ email: selected?.emailId })}">Newest emails</a>`}
    ${emails.next === undefined ? '' : html`<a href="${linkTo({ email: selected?.emailId, cursor: emails.next })}">Older emails</a>`}
  </nav>
</section>`;
}

function timelineSection(emailId: string, email: KeplarsLedgerEmailWithTimeline | undefined): Html {
  if (email === undefined) {
    return html`<section id="timeline" aria-labelledby="timeline-heading">
  <h2 id="timeline-heading">Email ${emailId}</h2>
  <p class="empty">No event has been received for this email.</p>
</section>`;
  }
  return html`<section id="timeline" aria-labelledby="timeline-heading">
  <h2 id="timeline-heading">Email ${email.emailId} ${statusBadge(email)}</h2>
  <dl>
    <dt>To</dt><dd>${email.recipient ?? '—'}</dd>
    <dt>Subject</dt><dd>${email.subject ?? '—'}</dd>
    <dt>Opens</dt><dd>${engagement(email.opens)}</dd>
    <dt>Clicks</dt><dd>${engagement(email.clicks)}</dd>
  </dl>
  <h3>Timeline</h3>
  <ol class="timeline">
    ${email.timeline.map((event) => html`<li><span class="when">${time(event.occurredAt)}</span> <strong>${event.type}</strong>${details(event)} <span class="event-id">${event.eventId}</span></li>`)}
  </ol>
</section>`;
}

function suppressionsSection(suppressions: KeplarsLedgerPage<KeplarsSuppression>): Html {
  const rows = suppressions.items.map(
    (suppression) => html`<tr>
      <td>${suppression.address ?? html`<em>forgotten</em>`}</td>
      <td class="reason">${suppression.reason}</td>
      <td>${time(suppression.since)}</td>
      <td>${suppression.expiresAt ? time(suppression.expiresAt) : 'never'}</td>
      <td>${suppression.actor ? `by ${suppression.actor}${suppression.note ? `: ${suppression.note}` : ''}` : suppression.eventId ? `event ${suppression.eventId}` : ''}</td>
    </tr>`,
  );
  return html`<section id="suppressions" aria-labelledby="suppressions-heading">
  <h2 id="suppressions-heading">Suppressed addresses</h2>
  ${
    rows.length === 0
      ? html`<p class="empty">No address is suppressed. A hard bounce puts its recipient here: <code>npm run send -- --type email.bounced --recipient gone@example.com</code></p>`
      : html`<table>
    <thead><tr><th>Address</th><th>Reason</th><th>Since</th><th>Expires</th><th>Cause</th></tr></thead>
    <tbody>${rows}</tbody>
  </table>`
  }
  ${suppressions.next === undefined ? '' : html`<p class="more">More at <code>GET /suppressions</code>.</p>`}
</section>`;
}

function statusBadge(email: KeplarsLedgerEmail): Html {
  const status = email.status ?? 'unknown';
  return html`<span class="status ${email.final ? 'final' : 'progress'}" data-status="${status}">${status}</span>`;
}

/** A bounce's kind and reason, a click's link, a failure's cause: shown as text, never as a link. */
function details(event: KeplarsTimelineEvent): Html {
  const parts = [event.bounceType && `${event.bounceType} bounce`, event.bounceReason, event.url, event.failureReason].filter(Boolean);
  return parts.length === 0 ? html`` : html`: <span class="details">${parts.join(', ')}</span>`;
}

function engagement({ count, first, last }: KeplarsLedgerEmail['opens']): Html {
  if (count === 0 || first === undefined) return html`none`;
  return count === 1 ? html`once, ${time(first)}` : html`${count} times, first ${time(first)}, last ${time(last ?? first)}`;
}

/** `2025-06-15 14:00:05 UTC` (`short`: `2025-06-15 14:00`, under a heading that says UTC): one reading for everybody, whatever their time zone. */
function time(date: Date, length: 'full' | 'short' = 'full'): Html {
  const iso = new Date(date).toISOString();
  return html`<time datetime="${iso}">${length === 'full' ? `${iso.slice(0, 19).replace('T', ' ')} UTC` : iso.slice(0, 16).replace('T', ' ')}</time>`;
}

function linkTo(query: { email?: string | undefined; cursor?: string | undefined }): string {
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return params.toString() === '' ? '/' : `/?${params}`;
}

const STYLE = html`
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
  header { padding: 16px 24px; background: #fff; border-bottom: 1px solid #d0d7de; }
  header h1 { margin: 0 0 4px; font-size: 22px; }
  header p { margin: 0; color: #59636e; }
  main { display: grid; gap: 16px; padding: 16px 24px; }
  main.with-timeline { grid-template-columns: minmax(0, 1fr) minmax(0, 420px); }
  section { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px; }
  .with-timeline #emails, .with-timeline #suppressions { grid-column: 1; }
  .with-timeline #timeline { grid-column: 2; grid-row: 1 / span 2; align-self: start; }
  h2 { font-size: 17px; margin: 0 0 8px; }
  h3 { font-size: 15px; margin: 12px 0 4px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; overflow-wrap: break-word; }
  th { font-weight: 600; color: #59636e; font-size: 13px; white-space: nowrap; }
  td.number { text-align: right; }
  time, td.reason { white-space: nowrap; }
  .recipient { color: #59636e; font-size: 13px; }
  tr.selected { background: #ddf4ff; }
  a { color: #0969da; }
  code { background: #eff1f3; padding: 1px 4px; border-radius: 4px; font-size: 13px; }
  .status { display: inline-block; white-space: nowrap; padding: 0 8px; border-radius: 10px; font-size: 13px; font-weight: 600; }
  .status.progress { background: #dafbe1; color: #116329; }
  .status.final { background: #ffebe9; color: #a40e26; }
  .status[data-status="unknown"] { background: #eff1f3; color: #59636e; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
  dt { color: #59636e; }
  dd { margin: 0; overflow-wrap: anywhere; }
  ol.timeline { margin: 0; padding-left: 20px; }
  ol.timeline li { margin: 4px 0; overflow-wrap: anywhere; }
  .when, .event-id { color: #59636e; font-size: 13px; }
  .empty, .more { color: #59636e; }
  nav.pages a { margin-right: 12px; }
  @media (max-width: 900px) { main.with-timeline { grid-template-columns: 1fr; } .with-timeline #timeline { grid-column: 1; grid-row: auto; } }
`;
