import { exec } from '../../src/targets/container/_exec.js';
import { detectBuilder, type Builder } from '../../src/targets/container/builders.js';

/** The base image the real container tests build on (made by `.ci/containers.sh`). */
export const TEST_BASE_IMAGE = process.env.DEPLOY_MODEL_TEST_BASE_IMAGE ?? `localhost/deploy-model-base:node${process.versions.node.split('.')[0]}`;

/**
 * Whether real container tests can run here: a builder that runs images, and the base image.
 * Either the builder, or the reason it cannot be had.
 */
export async function containerBuilder(): Promise<{ builder?: Builder; reason?: string }> {
  let builder: Builder;
  try {
    builder = await detectBuilder({ mustRun: true });
  } catch (e) {
    return { reason: `no container builder that runs images (${(e as Error).message.split('. ')[0]})` };
  }
  const base = await exec([builder.command, 'image', 'inspect', '--format', '{{.Id}}', TEST_BASE_IMAGE], { timeoutMs: 30_000 });
  return base.code === 0 ? { builder } : { reason: `the base image ${TEST_BASE_IMAGE} is not there` };
}
