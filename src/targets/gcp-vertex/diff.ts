/** gcp-vertex diff: what a deploy of the plan would change on Vertex AI, compared with what serves now. */
import type { BuiltRepository } from '../../kits/triton/build-gpu-repository.js';
import type { TargetChange, TargetDiff } from '../driver.js';
import type { VertexApi } from './_vertex-api.js';
import type { VertexContext } from './build.js';
import { planVertexRollout, previousFromLabels, versionOf, vertexVersion } from './plan.js';

const percent = (split: Record<string, number>, names: Map<string, string>): string => {
  const shares = Object.entries(split).filter(([, share]) => share > 0).map(([id, share]) => `${share}% to ${names.get(id) ?? id}`);
  return shares.length > 0 ? shares.join(', ') : 'no traffic';
};

/**
 * The endpoint, the Model, the deployed model (its version, the spec hash, against the live
 * one's) and the traffic split. Nothing is disruptive: the rollout moves traffic away from a
 * serving model only to one that passed its smoke test, and a first deploy replaces nothing.
 */
export async function diffVertex(ctx: VertexContext, api: VertexApi, repo: BuiltRepository): Promise<TargetDiff> {
  const { plan } = ctx;
  const { names, resources } = plan;
  const version = vertexVersion(plan, repo.digest);
  const endpoint = await api.findEndpoint(names.parent, names.base);
  const deployed = endpoint?.deployed ?? [];
  const split = endpoint?.trafficSplit ?? {};
  const rollout = planVertexRollout({ names, specHash: version.specHash, deployed, trafficSplit: split });
  if (rollout.kind === 'unchanged') return { unchanged: true, changes: [] };

  const wanted = version.deployedModelName;
  const machine = `${resources.minReplicaCount === resources.maxReplicaCount ? resources.minReplicaCount : `${resources.minReplicaCount}-${resources.maxReplicaCount}`} x ${resources.machineSpec.machineType} (${resources.machineSpec.acceleratorCount} x ${resources.machineSpec.acceleratorType})`;
  const displayNames = new Map(deployed.map((d) => [d.id, d.displayName]));
  const changes: TargetChange[] = [];
  if (!endpoint) changes.push({ resource: `endpoint ${names.base}`, action: 'create', detail: `a new endpoint in ${names.parent}, labelled ${Object.entries(names.labels).map(([k, v]) => `${k}=${v}`).join(', ')}` });
  changes.push({ resource: `model ${version.model.displayName}`, action: 'create', detail: `the Triton repository uploaded to ${version.artifactUri}, served by ${plan.container.imageUri}` });

  if (rollout.kind === 'first') {
    for (const stale of rollout.stale) {
      changes.push({ resource: `deployed model ${stale.displayName}`, action: 'delete', detail: `${stale.id} takes no traffic (left by an interrupted deploy): undeployed before the new model is deployed`, disruptive: false });
    }
    changes.push({ resource: `deployed model ${wanted}`, action: 'create', detail: `version ${version.specHash} on ${machine}, deployed on ${names.base}; smoke-tested there and undeployed if it fails` });
    changes.push({ resource: `traffic split of ${names.base}`, action: endpoint ? 'update' : 'create', detail: `${percent(split, displayNames)} → 100% to ${wanted}; nothing served before` });
    return { unchanged: false, changes };
  }

  const serving = rollout.previous.filter((d) => (split[d.id] ?? 0) > 0);
  const idle = rollout.previous.filter((d) => (split[d.id] ?? 0) === 0);
  const live = serving.map((d) => `${d.displayName} (version ${versionOf(d.displayName)})`).join(', ');
  changes.push({
    resource: `deployed model ${wanted}`, action: 'replace', disruptive: false,
    detail: `version ${serving.map((d) => versionOf(d.displayName)).join(', ')} → ${version.specHash} on ${machine}: smoke-tested alone on ${names.smokeEndpoint} first; the live ${live} is replaced only after the new model passed its smoke test, then undeployed`,
  });
  for (const old of idle) {
    changes.push({ resource: `deployed model ${old.displayName}`, action: 'delete', detail: `${old.id} takes no traffic: undeployed once the new model serves`, disruptive: false });
  }
  // The Model of the version serving the most traffic stays for `deploy-model rollback`; the one kept before it goes.
  const kept = [...serving].sort((a, b) => split[b.id]! - split[a.id]!)[0];
  for (const old of rollout.previous.filter((d) => d.model)) {
    changes.push(old === kept
      ? { resource: `model ${old.displayName}`, action: 'update', detail: `${old.model}, the Model of the replaced version, kept in the Model Registry once it is undeployed and recorded in the labels of ${names.base} for \`deploy-model rollback\``, disruptive: false }
      : { resource: `model ${old.displayName}`, action: 'delete', detail: `${old.model}, the Model of a replaced version, deleted once it is undeployed`, disruptive: false });
  }
  const recorded = endpoint ? previousFromLabels(endpoint.labels) : undefined;
  if (recorded && !rollout.previous.some((d) => d.model.endsWith(`/models/${recorded.modelId}`))) {
    changes.push({ resource: `model ${names.base}-${recorded.version}`, action: 'delete', detail: `model ${recorded.modelId}, kept for rollback by the deploy before, deleted: the replaced version is kept instead`, disruptive: false });
  }
  changes.push({ resource: `traffic split of ${names.base}`, action: 'update', detail: `${percent(split, displayNames)} → 100% to ${wanted}, after its smoke test`, disruptive: false });
  return { unchanged: false, changes };
}
