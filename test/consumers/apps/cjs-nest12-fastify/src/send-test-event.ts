// Sends a signed `email.opened` event to a running app with the package's own test kit: once, again
// (Keplars retrying), and then a payload Keplars would never send (an email id that is a number).
// Prints the three answers as JSON.
// Usage: KEPLARS_WEBHOOK_SECRET=… node dist/send-test-event.js http://127.0.0.1:3000 evt_123
import { buildKeplarsPayload, postKeplarsEvent, type KeplarsDeliveryResponse } from 'nestjs-keplars-webhook/testing';

async function main(): Promise<void> {
  const [baseUrl, eventId] = process.argv.slice(2);
  const webhookUrl = `${baseUrl}/webhooks/keplars`;
  const secret = process.env.KEPLARS_WEBHOOK_SECRET ?? '';
  const payload = buildKeplarsPayload('email.opened', { id: eventId, recipient: 'ada@example.com' });
  const invalid = buildKeplarsPayload('email.opened', { extra: { email_id: 42 } });

  const answer = ({ status, body }: KeplarsDeliveryResponse) => ({ status, body });
  const first = answer(await postKeplarsEvent(webhookUrl, payload, { secret }));
  const retry = answer(await postKeplarsEvent(webhookUrl, payload, { secret }));
  const refused = answer(await postKeplarsEvent(webhookUrl, invalid, { secret }));
  console.log(JSON.stringify({ first, retry, refused }));
}

void main();
