/** Builds what the container target ships: the image's build context, whose hash is the content tag, and the image's references. */
import type { BuildResult, TargetContext } from '../driver.js';
import type { Platform } from './builders.js';
import { createBuildContexts } from './create-build-context.js';
import { imageRefs } from './image.js';
import { withImage, type Manifests } from './manifests.js';
import type { ContainerPlan } from './plan.js';
import type { ContainerTargetConfig } from './schema.js';

/** The build's outputs: plain data that synth and the rollout hooks read instead of building again. */
export interface ContextArtifact {
  dir: string;
  /** sha256 over every file's path, mode and content, in path order. */
  digest: string;
  files: number;
  bytes: number;
  platform: Platform;
}

export interface ContainerArtifacts {
  /** The first platform's context: the only one of a single-platform image. */
  context: ContextArtifact;
  /**
   * Every platform's context, with the local reference its image gets: the content ref for a single
   * platform, `<content ref>-<arch>` for each of several (the content ref then names their manifest list).
   */
  contexts: Array<ContextArtifact & { ref: string }>;
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
  const written = await createBuildContexts({ plan: ctx.plan, signature: ctx.signature, outDir: ctx.workDir, io: ctx.io });
  const refs = imageRefs(ctx.plan.image, written.contentTag);
  const multi = written.contexts.length > 1;
  const contexts = written.contexts.map((c) => ({
    dir: c.dir, digest: c.digest, files: c.files.length, bytes: c.bytes, platform: c.platform,
    ref: multi ? `${refs.contentRef}-${c.platform.split('/')[1]}` : refs.contentRef,
  }));
  const { ref: _ref, ...first } = contexts[0]!;
  const outputs: ContainerArtifacts = {
    context: first,
    contexts,
    contentTag: written.contentTag,
    contentRef: refs.contentRef,
    refs: refs.refs,
  };
  return { artifacts: contexts.map((c) => ({ kind: multi ? `build context ${c.platform}` : 'build context', file: c.dir, bytes: c.bytes, sha256: c.digest })), outputs };
}

/** The manifests of a build: the plan's, with the build's content tag in the image reference. */
export function builtManifests(plan: ContainerPlan, artifacts: Pick<ContainerArtifacts, 'contentRef'>): Manifests {
  return withImage(plan.manifests.objects, plan.manifests.image, artifacts.contentRef);
}
