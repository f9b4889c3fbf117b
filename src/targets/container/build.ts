/** Builds what the container target ships: the image's build context, whose hash is the content tag, and the image's references. */
import type { BuildResult, TargetContext } from '../driver.js';
import type { Platform } from './builders.js';
import { createBuildContext } from './create-build-context.js';
import { imageRefs } from './image.js';
import { withImage, type Manifests } from './manifests.js';
import type { ContainerPlan } from './plan.js';
import type { ContainerTargetConfig } from './schema.js';

/** The build's outputs: plain data that synth and the rollout hooks read instead of building again. */
export interface ContainerArtifacts {
  context: {
    dir: string;
    /** sha256 over every file's path, mode and content, in path order. */
    digest: string;
    files: number;
    bytes: number;
    platform: Platform;
  };
  /** The first 12 hex digits of the context's digest. */
  contentTag: string;
  /** `<repository>:<content tag>`: what the manifests reference. */
  contentRef: string;
  /** The content ref, then the extra tags' refs. */
  refs: string[];
}

export type ContainerContext = TargetContext<ContainerTargetConfig, ContainerPlan>;

/**
 * Writes the build context (`context/`, with the server bundled in `bundle/`) and names the image
 * after its hash. The image itself is built by the rollout's stage, from this context.
 */
export async function buildContainerArtifacts(ctx: ContainerContext): Promise<BuildResult<ContainerArtifacts>> {
  const written = await createBuildContext({ plan: ctx.plan, signature: ctx.signature, outDir: ctx.workDir, io: ctx.io });
  const refs = imageRefs(ctx.plan.image, written.contentTag);
  const outputs: ContainerArtifacts = {
    context: { dir: written.dir, digest: written.digest, files: written.files.length, bytes: written.bytes, platform: written.platform },
    contentTag: written.contentTag,
    contentRef: refs.contentRef,
    refs: refs.refs,
  };
  return { artifacts: [{ kind: 'build context', file: written.dir, bytes: written.bytes, sha256: written.digest }], outputs };
}

/** The manifests of a build: the plan's, with the build's content tag in the image reference. */
export function builtManifests(plan: ContainerPlan, artifacts: Pick<ContainerArtifacts, 'contentRef'>): Manifests {
  return withImage(plan.manifests.objects, plan.manifests.image, artifacts.contentRef);
}
