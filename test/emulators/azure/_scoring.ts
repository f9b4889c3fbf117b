import { ArmError, type WireReply, type WireRequest } from './_arm.js';
import type { Deployment, Endpoint, FakeContext, RecordedRequest } from './_state.js';

/**
 * The deployment that serves a scoring request without `azureml-model-deployment`: Azure ML
 * sends each deployment its `traffic` percentage of them ("Perform safe rollout of new
 * deployments for real-time inference": https://learn.microsoft.com/azure/machine-learning/how-to-safely-rollout-online-endpoints).
 * The fake picks by smooth weighted round robin (nginx's upstream algorithm) so that the shares are
 * exact over every 100 requests and tests can count.
 */
const routing = new WeakMap<Endpoint, { traffic: string; current: Map<string, number> }>();
export function routeByTraffic(endpoint: Endpoint, deployments: Map<string, Deployment>): Deployment | undefined {
  const { traffic } = endpoint.properties;
  const weighted = [...deployments.values()].filter((d) => (traffic[d.name] ?? 0) > 0);
  if (weighted.length === 0) return undefined;
  const key = JSON.stringify(weighted.map((d) => [d.name, traffic[d.name]]));
  let state = routing.get(endpoint);
  if (state?.traffic !== key) routing.set(endpoint, (state = { traffic: key, current: new Map() }));
  let best: Deployment | undefined;
  for (const d of weighted) {
    state.current.set(d.name, (state.current.get(d.name) ?? 0) + traffic[d.name]!);
    if (!best || state.current.get(d.name)! > state.current.get(best.name)!) best = d;
  }
  const total = weighted.reduce((sum, d) => sum + traffic[d.name]!, 0);
  state.current.set(best!.name, state.current.get(best!.name)! - total);
  return best;
}

/**
 * The online endpoints' scoring surface, `/endpoints/<name>/...`: checks the bearer credential
 * (an endpoint key, or a token from `onlineEndpoints/token`), routes by `azureml-model-deployment`
 * or else by the traffic split, and forwards to the deployment's server (Triton's v2 routes).
 */
export function scoringRoutes(ctx: FakeContext) {
  return async (req: WireRequest, record: RecordedRequest): Promise<WireReply> => {
    const [, name, ...rest] = req.path.split('/').filter(Boolean);
    const endpoint = ctx.state.endpoints.get(name);
    if (!endpoint) throw new ArmError(404, 'EndpointNotFound', `No online endpoint ${name}.`);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const valid = endpoint.properties.authMode === 'Key'
      ? bearer === endpoint.keys.primaryKey || bearer === endpoint.keys.secondaryKey
      : bearer !== undefined && ctx.state.issuedTokens.get(bearer) === name;
    if (!valid) throw new ArmError(401, 'Unauthorized', 'Invalid authentication: the key or token is not valid for this endpoint.');

    const deployments = ctx.state.deployments.get(name) ?? new Map<string, Deployment>();
    const header = req.headers['azureml-model-deployment'];
    record.deploymentHeader = header;
    let target: Deployment | undefined;
    if (header) {
      target = deployments.get(header);
      if (!target) throw new ArmError(404, 'DeploymentNotFound', `No deployment ${header} on endpoint ${name}.`);
    } else {
      target = routeByTraffic(endpoint, deployments);
      if (!target) throw new ArmError(404, 'NoValidDeployments', 'No valid deployments to route to. Please check that the endpoint has at least one deployment with positive weight values or use a deployment specific header to route.');
    }
    if (!target.server || target.properties.provisioningState !== 'Succeeded') throw new ArmError(503, 'DeploymentNotReady', `Deployment ${target.name} is ${target.properties.provisioningState}.`);
    record.servedBy = target.name;
    const failure = ctx.faults.deploymentFailureOf(name, target.name);
    // The model's server answers 500 from the moment the fault was set, as a crashed model would.
    if (failure !== undefined) return { status: 500, headers: { 'content-type': 'application/json', 'azureml-model-deployment': target.name }, body: Buffer.from(JSON.stringify({ error: failure })) };
    const sub = `/${rest.join('/')}`;
    const res = await fetch(`${target.server.url}${sub === '/score' ? '/score' : sub}`, {
      method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: req.body }),
    });
    return { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json', 'azureml-model-deployment': target.name }, body: Buffer.from(await res.arrayBuffer()) };
  };
}
