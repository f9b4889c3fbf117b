/** A weighted HTTP front on 127.0.0.1 that splits requests between two upstreams by smooth weighted round-robin, for local traffic steps. */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The two versions a front splits between. */
export type Upstream = 'previous' | 'candidate';

/** The header each answer carries naming the upstream that served it. */
export const UPSTREAM_HEADER = 'x-deploy-model-upstream';

export interface WeightedFront {
  /** `http://127.0.0.1:<port>`: the endpoint users reach during the rollout. */
  readonly url: string;
  /** Gives the candidate `percent` of the requests from now on, the previous version the rest. */
  setCandidatePercent(percent: number): void;
  /** The candidate's share now, in percent. */
  readonly candidatePercent: number;
  /** Requests sent to each upstream so far (answered or not). */
  readonly served: Readonly<Record<Upstream, number>>;
  /** Stops taking requests; waits for those in flight. */
  close(): Promise<void>;
}

/**
 * Smooth weighted round-robin (the algorithm of nginx's upstream module, `ngx_http_upstream_get_peer`):
 * each pick adds every peer's weight to its current value, takes the largest, and subtracts the
 * total from it. Deterministic, and spread evenly: with weights 10 and 90, every run of ten picks
 * holds exactly one of the first.
 */
export class SmoothWeightedRoundRobin<K extends string> {
  private readonly current = new Map<K, number>();

  constructor(private weights: Record<K, number>) {
    this.reset(weights);
  }

  /** New weights; the round starts again, so the split is exact from the next pick on. */
  reset(weights: Record<K, number>): void {
    this.weights = { ...weights };
    this.current.clear();
    for (const key of Object.keys(weights) as K[]) this.current.set(key, 0);
  }

  next(): K {
    let best: K | undefined;
    let total = 0;
    for (const [key, value] of this.current) {
      const weight = this.weights[key];
      total += weight;
      this.current.set(key, value + weight);
      if (weight > 0 && (best === undefined || value + weight > this.current.get(best)!)) best = key;
    }
    if (best === undefined) throw new Error('every weight is 0');
    this.current.set(best, this.current.get(best)! - total);
    return best;
  }
}

/**
 * Starts the front: each request goes whole to the upstream the round-robin picks, with its method,
 * path, headers and body, and its answer comes back as it is, with UPSTREAM_HEADER added. An
 * upstream that cannot be reached answers 502, as a load balancer would, so the probes count it.
 */
export async function startWeightedFront(upstreams: Readonly<Record<Upstream, string>>, candidatePercent = 0): Promise<WeightedFront> {
  checkPercent(candidatePercent);
  let percent = candidatePercent;
  const picker = new SmoothWeightedRoundRobin<Upstream>({ previous: 100 - percent, candidate: percent });
  const served: Record<Upstream, number> = { previous: 0, candidate: 0 };

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = picker.next();
    served[upstream]++;
    const target = new URL(req.url ?? '/', upstreams[upstream]);
    const out = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, [UPSTREAM_HEADER]: upstream });
      answer.pipe(res);
    });
    out.on('error', (e) => {
      if (res.headersSent) {
        res.destroy(e);
        return;
      }
      const body = JSON.stringify({ error: `the ${upstream} version at ${upstreams[upstream]} did not answer: ${e.message}` });
      res.writeHead(502, { 'content-type': 'application/json', [UPSTREAM_HEADER]: upstream });
      res.end(body);
    });
    req.pipe(out);
  };

  const server = createServer(forward);
  // Probes come one at a time; an idle keep-alive socket must not hold close() up.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setCandidatePercent(next: number) {
      checkPercent(next);
      percent = next;
      picker.reset({ previous: 100 - next, candidate: next });
    },
    get candidatePercent() { return percent; },
    served,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}

function checkPercent(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new RangeError(`a traffic share must be a whole percent from 0 to 100, not ${percent}`);
}
