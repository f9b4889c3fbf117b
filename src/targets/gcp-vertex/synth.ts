/** gcp-vertex synth: the requests a deploy would send, written to `vertex-resources.json` without calling Google Cloud. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildResult } from '../driver.js';
import { repositoryOf, type VertexContext } from './build.js';
import { planDeployedModel, vertexVersion } from './plan.js';

export async function synthVertex(ctx: VertexContext, build: BuildResult): Promise<BuildResult> {
  const { plan } = ctx;
  const version = vertexVersion(plan, repositoryOf(build).digest);
  const spec = {
    parent: plan.names.parent,
    artifactUri: version.artifactUri,
    model: version.model,
    endpoint: plan.endpoints.live,
    smokeEndpoint: plan.endpoints.smoke,
    deployedModel: planDeployedModel({ names: plan.names, specHash: version.specHash, model: '(uploaded model)', resources: plan.resources }),
  };
  const file = path.join(ctx.workDir, 'vertex-resources.json');
  await mkdir(ctx.workDir, { recursive: true });
  const text = `${JSON.stringify(spec, null, 2)}\n`;
  await writeFile(file, text);
  return { artifacts: [{ kind: 'vertex-resources', file, bytes: Buffer.byteLength(text) }], ...(build.outputs === undefined ? {} : { outputs: build.outputs }) };
}
