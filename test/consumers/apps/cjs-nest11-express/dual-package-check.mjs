// The dual-package hazard, checked (issue 11, point 6): an app can load both builds of the package at
// once, its own code through require() (the CommonJS build) and a library through import (the ES
// module build). Each copy has its own classes, so the module's tokens and the decorator's metadata
// key must be global. Here, a handler decorated with one copy's @OnKeplarsEvent() must be found by
// the other copy's module, both ways round, and its event handled once.
// Prints one JSON line: { ok, checks: [...] } or { ok: false, problem }.
// Usage: node dual-package-check.mjs (in the app's folder, after `npm install`).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('reflect-metadata');
const { Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');

const fromRequire = require('nestjs-keplars-webhook');
const fromImport = await import('nestjs-keplars-webhook');
const testing = require('nestjs-keplars-webhook/testing');
const secret = 'whsec_dual_package';

const fail = (problem) => {
  console.log(JSON.stringify({ ok: false, problem }));
  process.exit(1);
};

const resolvedByRequire = require.resolve('nestjs-keplars-webhook');
const resolvedByImport = import.meta.resolve('nestjs-keplars-webhook');
if (fromRequire.KeplarsWebhookModule === fromImport.KeplarsWebhookModule) {
  fail(`require() and import loaded the same copy (${resolvedByRequire}, ${resolvedByImport}): the check would prove nothing`);
}

const copies = { 'CommonJS build': fromRequire, 'ES module build': fromImport };
const checks = [];
for (const [moduleFrom, decoratorFrom] of [['CommonJS build', 'ES module build'], ['ES module build', 'CommonJS build']]) {
  class OpenedHandler {
    seen = [];
    onOpened(event) {
      this.seen.push(event.id);
    }
  }
  const method = Object.getOwnPropertyDescriptor(OpenedHandler.prototype, 'onOpened');
  copies[decoratorFrom].OnKeplarsEvent('email.opened')(OpenedHandler.prototype, 'onOpened', method);
  Injectable()(OpenedHandler);

  class AppModule {}
  Module({ imports: [copies[moduleFrom].KeplarsWebhookModule.forRoot(secret)], providers: [OpenedHandler] })(AppModule);

  const app = await NestFactory.create(AppModule, { rawBody: true, logger: false });
  try {
    const eventId = `evt_dual_${checks.length}`;
    const answer = await testing.postKeplarsEvent(app, testing.buildKeplarsPayload('email.opened', { id: eventId }), { secret });
    const seen = app.get(OpenedHandler).seen;
    if (answer.status !== 200 || seen.length !== 1 || seen[0] !== eventId) {
      fail(`the module of the ${moduleFrom} with a handler decorated by the ${decoratorFrom}: answered ${answer.status}, the handler saw ${JSON.stringify(seen)}`);
    }
    checks.push(`a handler decorated by the ${decoratorFrom} ran under the module of the ${moduleFrom}`);
  } finally {
    await app.close();
  }
}
console.log(JSON.stringify({ ok: true, checks }));
