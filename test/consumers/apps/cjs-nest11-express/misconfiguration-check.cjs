// The newcomer's mistakes of issue 11, made in a real CommonJS app on the packed package: each must stop
// the app, or warn, with the message the READMEs document. Prints one JSON line per mistake:
// { mistake, outcome: 'refused' | 'warned' | 'started', message }; the consumer test checks that each
// message is the documented one, and that both READMEs quote it.
// Usage: node misconfiguration-check.cjs (in the app's folder, after `npm install`).
require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { ConfigModule, ConfigService } = require('@nestjs/config');
const { KeplarsWebhookModule } = require('nestjs-keplars-webhook');

const MISTAKES = {
  'a misspelled nested option': () => [KeplarsWebhookModule.forRoot({ secret: 's', deduplication: { windowSecond: 60 } })],
  'forRootAsync without imports: [ConfigModule]': () => [
    ConfigModule.forRoot(),
    KeplarsWebhookModule.forRootAsync({ inject: [ConfigService], useFactory: (config) => ({ secret: config.get('KEPLARS_WEBHOOK_SECRET') }) }),
  ],
  'no handler (the service left out of providers)': () => [KeplarsWebhookModule.forRoot('s')],
};

async function main() {
  const results = [];
  for (const [mistake, imports] of Object.entries(MISTAKES)) {
    const warnings = [];
    const logger = { log() {}, error() {}, debug() {}, verbose() {}, fatal() {}, warn: (message) => warnings.push(String(message)) };
    class AppModule {}
    let outcome;
    try {
      Module({ imports: imports() })(AppModule);
      const app = await NestFactory.create(AppModule, { rawBody: true, logger, abortOnError: false });
      await app.init();
      await app.close();
      outcome = warnings.length > 0 ? { outcome: 'warned', message: warnings.join('\n') } : { outcome: 'started', message: '' };
    } catch (error) {
      outcome = { outcome: 'refused', message: error instanceof Error ? error.message : String(error) };
    }
    results.push({ mistake, ...outcome });
  }
  console.log(JSON.stringify(results));
}

void main();
