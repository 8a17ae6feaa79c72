// Stops the Redis server that the global setup started, if it started one.
import { spawnSync } from 'node:child_process';

export default async function teardown() {
  const port = process.env.KEPLARS_TEST_REDIS_PORT;
  if (port) spawnSync('redis-cli', ['-p', port, 'shutdown', 'nosave']);
}
