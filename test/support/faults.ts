/**
 * Fault injection at the fetch boundary: a fetch that passes everything to the real one except
 * requests a rule matches, which get the rule's answer instead.
 */
export type Fault = (request: Request) => Response | Promise<Response> | undefined;

export interface FaultyFetch {
  (input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** The rule in force; `undefined` passes everything through. */
  fault: Fault | undefined;
  /** How many requests a rule answered. */
  injected: number;
}

export function faultyFetch(): FaultyFetch {
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const answer = f.fault?.(request.clone());
    if (answer !== undefined) {
      f.injected++;
      return answer;
    }
    return fetch(request);
  }) as FaultyFetch;
  f.fault = undefined;
  f.injected = 0;
  return f;
}

/** A request to a URL whose path ends with `suffix`. */
export const to = (suffix: string) => (request: Request) =>
  new URL(request.url).pathname.endsWith(suffix);

/** Never answers until the request's signal aborts (a hung server). */
export function hang(request: Request): Promise<Response> {
  return new Promise((_, reject) => {
    request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true });
  });
}

/** Edits the JSON body of a real response. */
export async function editJson(
  request: Request,
  edit: (
    body: Record<string, unknown>,
  ) => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<Response> {
  const real = await fetch(request);
  const body = await edit((await real.json()) as Record<string, unknown>);
  return Response.json(body, { status: real.status });
}
