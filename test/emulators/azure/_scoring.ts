import { ArmError, type WireReply, type WireRequest } from './_arm.js';
import type { Deployment, FakeContext, RecordedRequest } from './_state.js';

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
      const weighted = [...deployments.values()].filter((d) => (endpoint.properties.traffic[d.name] ?? 0) > 0);
      let pick = Math.random() * 100;
      target = weighted.find((d) => (pick -= endpoint.properties.traffic[d.name]) < 0) ?? weighted[weighted.length - 1];
      if (!target) throw new ArmError(404, 'NoValidDeployments', 'No valid deployments to route to. Please check that the endpoint has at least one deployment with positive weight values or use a deployment specific header to route.');
    }
    if (!target.server || target.properties.provisioningState !== 'Succeeded') throw new ArmError(503, 'DeploymentNotReady', `Deployment ${target.name} is ${target.properties.provisioningState}.`);
    record.servedBy = target.name;
    const sub = `/${rest.join('/')}`;
    const res = await fetch(`${target.server.url}${sub === '/score' ? '/score' : sub}`, {
      method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: req.body }),
    });
    return { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json', 'azureml-model-deployment': target.name }, body: Buffer.from(await res.arrayBuffer()) };
  };
}
