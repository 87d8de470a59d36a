/**
 * The parent side of the cross-process refresh race: spawns app processes
 * (`node --import tsx test/support/race-worker.ts`), drives their rounds over IPC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DoneMessage } from './race-worker.js';

const WORKER = fileURLToPath(new URL('./race-worker.ts', import.meta.url));

export interface RaceWorkerSettings {
  issuer: string;
  api: string;
  store: 'postgres' | 'redis';
  namespace: string;
  key: string;
  leaseMs: number;
  encryptionKeys?: string;
  fault?: 'hang-token';
  /** Hide the store's lock(): per-process coordination only. */
  noLock?: boolean;
}

export interface RaceWorker {
  readonly child: ChildProcess;
  /** Resolves with the next message of this type. */
  next<T = unknown>(type: string): Promise<T>;
  /** Runs one round of `calls` concurrent calls. */
  round(round: number, calls: number): Promise<DoneMessage>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** Asks the worker to exit, and waits for it. */
  stop(): Promise<void>;
}

/** Starts one worker process and waits until it is ready. */
export async function spawnRaceWorker(settings: RaceWorkerSettings): Promise<RaceWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      RACE_ISSUER: settings.issuer,
      RACE_API: settings.api,
      RACE_STORE: settings.store,
      RACE_NAMESPACE: settings.namespace,
      RACE_KEY: settings.key,
      RACE_LEASE_MS: String(settings.leaseMs),
      RACE_ENCRYPTION_KEYS: settings.encryptionKeys ?? '',
      RACE_FAULT: settings.fault ?? '',
      RACE_NO_LOCK: settings.noLock ? '1' : '',
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiters: { type: string; resolve(m: unknown): void; reject(e: Error): void }[] = [];
  child.on('message', (m: { type: string }) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
  });
  void exited.then(() => {
    for (const w of waiters.splice(0)) w.reject(new Error(`race worker exited before ${w.type}`));
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) =>
      waiters.push({ type, resolve: resolve as (m: unknown) => void, reject }),
    );
  const ready = next('ready');
  await ready;
  return {
    child,
    next,
    exited,
    round(round, calls) {
      const done = next<DoneMessage>('done');
      child.send({ type: 'round', round, calls });
      return done;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.connected) {
        child.send({ type: 'exit' });
      }
      await exited;
    },
  };
}

/** The p-th percentile of some numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
