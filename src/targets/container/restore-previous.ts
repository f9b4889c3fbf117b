/** `deploy-model rollback` on the container target: puts back the image recorded before the last deploy, its record and its manifests. */
import { DeployModelError } from '../../errors.js';
import type { BuildResult, RestoreResult } from '../driver.js';
import { builtManifests, type ContainerContext } from './build.js';
import { detectBuilder } from './builders.js';
import { tagImage } from './image.js';
import { readImageRecord, writeImageRecord } from './image-record.js';
import { withoutCanary, writeManifests } from './manifests.js';
import { ensureLocalImage, previousImageMissing } from './traffic-split.js';

/**
 * Makes the previous record the current one (with no previous of its own, so a second rollback
 * finds nothing), gives it back the extra tags the newer image took, and writes the manifests under
 * `k8s/` with its reference and no canary share. The toolkit then smoke-tests it through `connect`,
 * which runs it. The registry is not changed: its content tags are immutable, and its extra tags are
 * said to still name the newer image.
 */
export async function restoreContainerPrevious(ctx: ContainerContext, _build: BuildResult): Promise<RestoreResult> {
  const record = await readImageRecord(ctx.workDir);
  if (!record) {
    throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no recorded image to roll back from: nothing was deployed (no image.json in ${ctx.workDir}). Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName } });
  }
  const previous = record.previous;
  if (!previous) {
    throw new DeployModelError('ROLLBACK_NO_PREVIOUS', `Target '${ctx.targetName}' has no earlier image to roll back to: it records ${record.ref} (version ${record.contentTag}) and nothing before it (a first deploy, or a rollback already made). Deploy the earlier model or config to serve it again.`, { details: { target: ctx.targetName, ref: record.ref, version: record.contentTag } });
  }
  const builder = await detectBuilder({ preferred: previous.builder, order: ctx.plan.builder.order, mustRun: true, io: ctx.io });
  if (!(await ensureLocalImage(builder, previous, ctx.io))) {
    throw previousImageMissing(ctx, builder, previous, 'the rollback', `the record still names ${record.ref}, which serves on`);
  }
  ctx.io.info('DM_CONTAINER_RESTORE', `${ctx.targetName}: putting back ${previous.ref} (version ${previous.contentTag}) in place of ${record.ref} (version ${record.contentTag})`, { from: record.contentTag, to: previous.contentTag, ref: previous.ref });
  const extra = previous.refs.filter((r) => r !== previous.ref);
  for (const ref of extra) await tagImage(builder, previous.ref, ref, ctx.io);
  if (previous.pushed && extra.length > 0) {
    ctx.io.warn('DM_CONTAINER_REGISTRY_TAGS_KEPT', `${extra.join(', ')} name ${previous.ref} here again, but in the registry they still name ${record.ref}: push them with \`${extra.map((r) => `${builder.command} push ${r}`).join(' && ')}\`. The manifests use the content tag, which needs nothing.`, { refs: extra, ref: previous.ref });
  }
  // The restored image takes all of KServe's traffic once applied: no canary share in its manifests.
  const written = await writeManifests(withoutCanary(builtManifests(ctx.plan, { contentRef: previous.ref })), ctx.workDir, ctx.io);
  await writeImageRecord(ctx.workDir, { ...previous });
  return { from: record.contentTag, to: previous.contentTag, endpoint: previous.ref, details: { image: previous.ref, replaced: record.ref, manifests: written.dir } };
}
