// The bull-board version trap of issue 22, as npm really installs it: `npm install @bull-board/api
// @bull-board/fastify` gave @bull-board/api 9.10.2 beside @bull-board/fastify 9.10.1 (which keeps its
// own 9.10.1 API in its node_modules). The package's dashboard must refuse to start, naming both
// versions and the install that fixes them, before it looks for a queue (so this app needs no Redis).
// Prints one JSON line: { outcome: 'refused' | 'started', message, installed }.
// Usage: node dashboard-version-check.cjs (in the app's folder, after `npm install`).
require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { KeplarsDashboardModule, KeplarsWebhookModule } = require('nestjs-keplars-webhook');

async function main() {
  const installed = ['@bull-board/api', '@bull-board/fastify'].map((name) => `${name} ${require(`./node_modules/${name}/package.json`).version}`);
  const silent = { log() {}, warn() {}, error() {}, debug() {}, verbose() {}, fatal() {} };
  class AppModule {}
  Module({
    imports: [KeplarsWebhookModule.forRoot('whsec_version_check'), KeplarsDashboardModule.forRoot({ auth: { user: 'admin', password: 'version-check' } })],
  })(AppModule);
  let result;
  try {
    const app = await NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true, logger: silent, abortOnError: false });
    await app.init();
    await app.close();
    result = { outcome: 'started', message: '' };
  } catch (error) {
    result = { outcome: 'refused', message: error instanceof Error ? error.message : String(error) };
  }
  console.log(JSON.stringify({ ...result, installed }));
}

void main();
