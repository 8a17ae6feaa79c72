// Jest global setup: the Redis tests need a server. Use the one at REDIS_URL (default
// 127.0.0.1:6379) when it answers; otherwise start a throwaway one, so `npm test` needs nothing
// set up beyond `redis-server` on the PATH.
import { spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

export default async function setup() {
  if (await answersPing(url.hostname, Number(url.port || 6379))) return;
  const port = await freePort();
  const started = spawnSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes']);
  if (started.error || started.status !== 0) {
    throw new Error(`No Redis answers at ${url.host}, and redis-server could not be started (${started.error?.message ?? started.stderr}). Install it (apt-get install redis-server) or set REDIS_URL.`);
  }
  for (let attempt = 0; attempt < 100 && !(await answersPing('127.0.0.1', port)); attempt++) await new Promise((r) => setTimeout(r, 20));
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
  process.env.KEPLARS_TEST_REDIS_PORT = String(port);
  console.log(`\nNo Redis at ${url.host}: started one for the tests on port ${port}.`);
}

function answersPing(host, port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(500, () => (socket.destroy(), resolve(false)));
    socket.on('error', () => resolve(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => (socket.destroy(), resolve(data.toString().startsWith('+PONG'))));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
