/** azure-ml diff: what a deploy of the plan would change on the online endpoint, compared with what serves now. */
import type { BuiltRepository } from '../../kits/triton/build-gpu-repository.js';
import type { TargetChange, TargetDiff } from '../driver.js';
import type { AzureApi } from './_azure-api.js';
import type { AzureContext } from './build.js';
import { AZURE_TAG_KEYS, azureVersion, nextModelVersion, planAzureRollout } from './plan.js';

const shares = (traffic: Record<string, number>): string => {
  const out = Object.entries(traffic).filter(([, share]) => share > 0).map(([name, share]) => `${share}% to ${name}`);
  return out.length > 0 ? out.join(', ') : 'no traffic';
};

/**
 * The endpoint, the model version, the deployment (its version, the spec hash, against the live
 * one's) and the traffic. A changed auth mode replaces the endpoint, which takes down what serves
 * on it: that change is disruptive. A new deployment is not: traffic moves to it only after its
 * smoke test.
 */
export async function diffAzure(ctx: AzureContext, api: AzureApi, repo: BuiltRepository): Promise<TargetDiff> {
  const { plan } = ctx;
  const { names } = plan;
  const { specHash, blobPath, repositoryTag } = azureVersion(plan, repo.digest);
  const wantedAuth = plan.endpoint.properties.authMode;
  const endpoint = await api.findEndpoint(names.endpoint);
  const replacesEndpoint = endpoint !== undefined && endpoint.authMode !== wantedAuth;
  // A replaced endpoint comes back empty: nothing of the old one's deployments or traffic stays.
  const kept = endpoint && !replacesEndpoint ? endpoint : undefined;
  const deployments = kept ? await api.listDeployments(names.endpoint) : [];
  const traffic = kept?.traffic ?? {};
  const rollout = planAzureRollout({ deployments, traffic, specHash });
  if (rollout.kind === 'unchanged') return { unchanged: true, changes: [] };

  const changes: TargetChange[] = [];
  if (!endpoint) {
    changes.push({ resource: `online endpoint ${names.endpoint}`, action: 'create', detail: `auth mode ${wantedAuth}, in the region of workspace ${plan.workspace}` });
  } else if (replacesEndpoint) {
    changes.push({
      resource: `online endpoint ${names.endpoint}`, action: 'replace', disruptive: true,
      detail: `auth mode ${endpoint.authMode} → ${wantedAuth}: Azure fixes the auth mode when the endpoint is created, so the endpoint and its deployments (now serving ${shares(endpoint.traffic)}) would be deleted and created again, and clients need a new ${wantedAuth === 'Key' ? 'key' : 'token'}. deploy refuses this change: set authMode back, or run \`deploy-model destroy --target ${ctx.targetName}\` and deploy again`,
    });
  }

  const versions = await api.listModelVersions(names.model);
  if (!versions.some((v) => v.tags[AZURE_TAG_KEYS.repository] === repositoryTag)) {
    changes.push({ resource: `model ${names.model} version ${nextModelVersion(versions.map((v) => v.version))}`, action: 'create', detail: `a triton_model of the repository ${repositoryTag}, uploaded to ${blobPath} in the workspace's default datastore` });
  }
  for (const stale of rollout.remove) {
    changes.push({ resource: `deployment ${stale}`, action: 'delete', detail: 'takes no traffic (left by an earlier deploy): deleted before the new deployment is created', disruptive: false });
  }

  const instances = `${plan.instanceCount} x ${plan.instanceType}`;
  if (rollout.live) {
    const liveSpec = deployments.find((d) => d.name === rollout.live)?.spec ?? 'unknown';
    changes.push({
      resource: `deployment ${rollout.next}`, action: 'replace', disruptive: false,
      detail: `version ${liveSpec} → ${specHash} on ${instances}: created beside ${rollout.live} without traffic and smoke-tested through azureml-model-deployment; the live ${rollout.live} is replaced only after ${rollout.next} passed its smoke test, then deleted`,
    });
    for (const other of rollout.previous.filter((d) => d !== rollout.live)) {
      changes.push({ resource: `deployment ${other}`, action: 'delete', detail: `has ${traffic[other]}% of the traffic, which moves to ${rollout.next} after its smoke test; then deleted`, disruptive: false });
    }
  } else {
    changes.push({ resource: `deployment ${rollout.next}`, action: 'create', detail: `version ${specHash} on ${instances}, created without traffic and smoke-tested through azureml-model-deployment before it gets any` });
  }
  changes.push({ resource: `traffic of ${names.endpoint}`, action: kept ? 'update' : 'create', detail: `${shares(traffic)} → 100% to ${rollout.next}, after its smoke test`, disruptive: false });
  return { unchanged: false, changes };
}
