/** What a deploy of the container target would change: the recorded image and each manifest under `k8s/`. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { BuildResult, TargetChange, TargetDiff } from '../driver.js';
import { builtManifests, type ContainerArtifacts, type ContainerContext } from './build.js';
import { readImageRecord, type ImageRecord } from './image-record.js';
import { sameRefs } from './image.js';
import { MANIFEST_FILES, renderManifest, type Manifests } from './manifests.js';
import type { ContainerPlan } from './plan.js';

/**
 * The image (this build's content tag against the recorded one, and whether it is pushed) and the
 * manifests (each file under `k8s/` against what a deploy would write). deploy-model applies
 * nothing to a cluster, so no change is disruptive.
 */
export async function diffContainer(ctx: ContainerContext, build: BuildResult): Promise<TargetDiff> {
  const artifacts = build.outputs as ContainerArtifacts;
  const changes: TargetChange[] = [];
  const image = imageChange(ctx.plan, artifacts, await readImageRecord(ctx.workDir));
  if (image) changes.push(image);
  changes.push(...(await manifestChanges(ctx.plan, builtManifests(ctx.plan, artifacts), ctx.workDir)));
  return { unchanged: changes.length === 0, changes };
}

/** The image this build makes against the one the last deploy recorded. */
export function imageChange(plan: ContainerPlan, artifacts: ContainerArtifacts, record: ImageRecord | undefined): TargetChange | undefined {
  const resource = `image ${plan.image.repository}`;
  const push = plan.image.push ? `, pushed to ${plan.image.repository}` : ', kept local';
  if (!record) return { resource, action: 'create', detail: `build ${artifacts.refs.join(' and ')}${push}` };
  if (record.contentTag !== artifacts.contentTag) {
    return { resource, action: 'update', detail: `content tag ${record.contentTag} → ${artifacts.contentTag}${push}` };
  }
  if (!sameRefs(record.refs, artifacts.refs)) {
    return { resource, action: 'update', detail: `tags ${record.refs.join(', ')} → ${artifacts.refs.join(', ')}${push}` };
  }
  if (plan.image.push && !record.pushed) return { resource, action: 'update', detail: `push ${artifacts.refs.join(' and ')} (recorded, not pushed yet)` };
  return undefined;
}

/** Each file under `k8s/` against what a deploy would write there. */
export async function manifestChanges(plan: ContainerPlan, manifests: Manifests, workDir: string): Promise<TargetChange[]> {
  const changes: TargetChange[] = [];
  for (const key of Object.keys(MANIFEST_FILES) as (keyof Manifests)[]) {
    const resource = `${plan.manifests.dir}/${MANIFEST_FILES[key]}`;
    const wanted = manifests[key];
    const current = await readFile(join(workDir, resource), 'utf8').catch(() => undefined);
    if (wanted && current === undefined) {
      changes.push({ resource, action: 'create', detail: `${describe(wanted)}` });
    } else if (wanted && current !== renderManifest(wanted)) {
      changes.push({ resource, action: 'update', detail: `${describe(wanted)}: ${summarise(parseQuietly(current!), wanted)}` });
    } else if (!wanted && current !== undefined) {
      changes.push({ resource, action: 'delete', detail: key === 'inferenceService' ? 'kserve is false: no InferenceService is written' : 'no longer planned' });
    }
  }
  return changes;
}

/** `Deployment ocr-cls`. */
function describe(object: Record<string, unknown>): string {
  const name = (object.metadata as { name?: string } | undefined)?.name;
  return `${String(object.kind)}${name ? ` ${name}` : ''}`;
}

function parseQuietly(text: string): unknown {
  try {
    return parse(text);
  } catch {
    return undefined;
  }
}

/** One line: the first differing fields with their values, and how many more differ. */
export function summarise(before: unknown, after: unknown): string {
  const diffs: string[] = [];
  walk(before, after, '', diffs);
  if (diffs.length === 0) return 'only the text differs (comments or layout)';
  const shown = diffs.slice(0, 2).join('; ');
  return diffs.length > 2 ? `${shown}; ${diffs.length - 2} more field(s) differ` : shown;
}

function walk(before: unknown, after: unknown, path: string, out: string[]): void {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    for (const k of keys) walk(before[k], after[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) walk(before[i], after[i], `${path}[${i}]`, out);
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push(`${path || '(the object)'}: ${show(before)} → ${show(after)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (value === undefined) return '(none)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
