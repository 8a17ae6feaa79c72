// The app's own end-to-end test, as a Nest 11 app runs it: Jest in CommonJS, ts-jest, with the
// starter's test/jest-e2e.json as generated. Jest's loader require()s the package's CommonJS build.
// (The monorepo's own Jest ignores test/consumers.)
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { AppModule } from '../src/app.module';
import { EngagementService } from '../src/engagement.service';

describe('Keplars webhooks', () => {
  const secret = 'whsec_e2e';
  let app: INestApplication;

  beforeAll(async () => {
    process.env.KEPLARS_WEBHOOK_SECRET = secret;
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ rawBody: true });
    await app.init();
  });

  afterAll(() => app.close());

  it('records an opened email, once', async () => {
    const payload = buildKeplarsPayload('email.opened', { id: 'evt_e2e_1' });

    expect((await postKeplarsEvent(app, payload, { secret })).body).toEqual({ received: true });
    expect((await postKeplarsEvent(app, payload, { secret })).body).toEqual({ received: true, duplicate: true });
    const opens = app.get(EngagementService).recentOpens().filter((open) => open.eventId === 'evt_e2e_1');
    expect(opens.map((open) => open.via).sort()).toEqual(['OnEvent', 'OnKeplarsEvent']);
  });
});
