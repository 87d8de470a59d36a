// Runs the service-account scenario inside workerd: GET / answers with the results. The config
// is the SA_SCENARIO text binding.
import { runScenario, type ScenarioConfig } from './service-account-scenario.js';

export default {
  async fetch(_request: Request, env: { SA_SCENARIO: string }): Promise<Response> {
    try {
      return Response.json(await runScenario(JSON.parse(env.SA_SCENARIO) as ScenarioConfig));
    } catch (err) {
      const e = err as Error;
      return Response.json({ crashed: `${e.name}: ${e.message}` }, { status: 500 });
    }
  },
};
