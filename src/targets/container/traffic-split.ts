/** Runs the recorded image beside the new one behind a weighted front, for the traffic steps of a local canary or linear rollout. */
import { randomBytes } from 'node:crypto';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { exec } from './_exec.js';
import type { Builder } from './builders.js';
import type { ContainerContext } from './build.js';
import { pullImage } from './image.js';
import type { ImageRecord } from './image-record.js';
import { runContainer, stopContainer, type RunContainerOptions } from './run-container.js';
import { startWeightedFront, type WeightedFront } from './weighted-front.js';

/** The recorded image's run and the front before both. */
export interface TrafficSplit {
  /** The container running the recorded image. */
  readonly previousContainer: string;
  readonly front: WeightedFront;
}

/**
 * Whether `ref` is in the builder's local storage; a pushed image that is not is pulled back from
 * its registry first. False when it is not there and cannot be had.
 */
export async function ensureLocalImage(builder: Builder, record: Pick<ImageRecord, 'ref' | 'pushed'>, io?: IoHelper): Promise<boolean> {
  const inspect = () => exec([builder.command, 'image', 'inspect', '--format', '{{.Id}}', record.ref], { timeoutMs: 30_000 });
  if ((await inspect()).code === 0) return true;
  if (!record.pushed) return false;
  try {
    await pullImage(builder, record.ref, io);
  } catch {
    return false;
  }
  return (await inspect()).code === 0;
}

/** CONTAINER_PREVIOUS_IMAGE_MISSING for the recorded image, `needed` saying what it was needed for. */
export function previousImageMissing(ctx: ContainerContext, builder: Builder, record: Pick<ImageRecord, 'ref' | 'contentTag' | 'pushed'>, needed: string, instead: string): DeployModelError {
  return new DeployModelError('CONTAINER_PREVIOUS_IMAGE_MISSING',
    `${ctx.targetName}: ${needed} needs the image recorded before, ${record.ref} (version ${record.contentTag}), and it is no longer in ${builder.name}'s local storage${record.pushed ? ', nor could it be pulled from its registry' : ''}. ` +
    `Rebuild it: deploy the config and model of that version again with \`deploy-model deploy --target ${ctx.targetName}\` (the same build context gives the same content tag, ${record.contentTag}); ${instead}.`,
    { details: { target: ctx.targetName, ref: record.ref, version: record.contentTag, builder: builder.name } });
}

/**
 * Runs the recorded image on a free loopback port and puts a weighted front before it and the
 * candidate, every request on the recorded image until the first traffic step moves some.
 */
export async function startTrafficSplit(ctx: ContainerContext, options: { builder: Builder; previous: ImageRecord; candidateUrl: string; run: RunContainerOptions }): Promise<TrafficSplit> {
  const { builder, previous, candidateUrl } = options;
  const name = `${ctx.plan.run.namePrefix}-prev-${randomBytes(4).toString('hex')}`;
  const running = await runContainer(builder, previous.ref, { ...options.run, name, io: ctx.io });
  let front: WeightedFront;
  try {
    front = await startWeightedFront({ previous: running.url, candidate: candidateUrl }, 0);
  } catch (e) {
    await stopContainer(builder, name).catch(() => undefined);
    throw e;
  }
  ctx.io.info('DM_CONTAINER_SPLIT', `${ctx.targetName}: ${previous.ref} (recorded) and the new image run side by side behind ${front.url}, every request on the recorded one for now`, { previous: previous.ref, candidate: candidateUrl, url: front.url });
  return { previousContainer: name, front };
}

/** Closes the front, then stops the recorded image's run; a failure to stop is reported, not thrown. */
export async function stopTrafficSplit(ctx: ContainerContext, builder: Builder, split: TrafficSplit): Promise<void> {
  await split.front.close();
  try {
    await stopContainer(builder, split.previousContainer, { io: ctx.io });
  } catch (e) {
    ctx.io.warn('DM_CONTAINER_STOP_FAILED', `Could not stop ${split.previousContainer}: ${(e as Error).message}. Remove it with \`${builder.command} rm --force ${split.previousContainer}\`.`, { name: split.previousContainer });
  }
}
