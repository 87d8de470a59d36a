// Entry for Bun and Deno: `bun this.ts ORIGIN`, `deno run --sloppy-imports this.ts ORIGIN`.
import { runChecks } from './discovery-runtime-check.js';

const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const origin = g.Deno?.args[0] ?? g.process?.argv[2] ?? '';
const report = await runChecks(origin);
console.log(`RESULT ${JSON.stringify(report)}`);
