// Runs the service-account scenario under Bun or Deno; the config is in SA_SCENARIO (JSON).
import { runScenario, type ScenarioConfig } from './service-account-scenario.js';

declare const Deno: { env: { get(name: string): string | undefined } } | undefined;
declare const process: { env: Record<string, string | undefined> } | undefined;

const raw = typeof Deno !== 'undefined' ? Deno.env.get('SA_SCENARIO') : process?.env['SA_SCENARIO'];
const result = await runScenario(JSON.parse(raw ?? '{}') as ScenarioConfig);
console.log(JSON.stringify(result));
