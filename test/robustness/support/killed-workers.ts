import type { QueueAppProcess } from '../../queue/support/queue-processes.js';

export interface KilledWorkersOptions {
  /** Workers up at once. */
  readonly workers: number;
  /** The killer stops after this many kills. */
  readonly maxKills: number;
  /** Only a worker up this long may be killed (so it has started taking jobs). @default 1000 */
  readonly minUpMs?: number;
  /** Between two kills: a random pause in [min, max) ms. @default [600, 1200] */
  readonly pauseMs?: readonly [number, number];
}

/**
 * Queue workers that die at random, as the kernel kills them (SIGKILL: no shutdown hook runs), each
 * replaced at once by a new one: every 0.6-1.2 s one of the workers that has been up for a second dies,
 * until {@link stop} or `maxKills`. `start` spawns one worker (and keeps it where the test can stop it
 * at the end); `forget` is told of each victim, once it is dead.
 */
export class KilledWorkers {
  private readonly workers = new Set<QueueAppProcess>();
  private readonly upSince = new Map<QueueAppProcess, number>();
  private readonly starting: Promise<unknown>[] = [];
  private killing = true;
  private killer: Promise<void> | undefined;
  kills = 0;

  constructor(
    private readonly start: () => Promise<QueueAppProcess>,
    private readonly forget: (victim: QueueAppProcess) => void,
    private readonly random: () => number,
    private readonly options: KilledWorkersOptions,
  ) {}

  /** Starts the workers, then the killer. */
  async begin(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.workers }, () => this.startWorker()));
    this.killer = this.killLoop();
  }

  /** Stops killing; resolves once the last replacement is up. Returns how many were killed. */
  async stop(): Promise<number> {
    this.killing = false;
    await this.killer;
    await Promise.all(this.starting);
    return this.kills;
  }

  private async startWorker(): Promise<QueueAppProcess> {
    const worker = await this.start();
    this.upSince.set(worker, Date.now());
    this.workers.add(worker);
    return worker;
  }

  private async killLoop(): Promise<void> {
    const [minPause, maxPause] = this.options.pauseMs ?? [600, 1200];
    const minUpMs = this.options.minUpMs ?? 1000;
    while (this.killing && this.kills < this.options.maxKills) {
      await new Promise((resolve) => setTimeout(resolve, minPause + this.random() * (maxPause - minPause)));
      const ready = [...this.workers].filter((worker) => Date.now() - this.upSince.get(worker)! >= minUpMs);
      if (!this.killing || ready.length === 0) continue;
      const victim = ready[Math.floor(this.random() * ready.length)]!;
      this.workers.delete(victim);
      this.forget(victim);
      await victim.kill();
      this.kills++;
      this.starting.push(this.startWorker());
    }
  }
}
