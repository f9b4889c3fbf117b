// An image build that podman committed and tagged, then failed to clean up after: accepted only when every tag was reported and the image exists.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IoHelper } from '../../../src/io/io-host.js';
import { runImageBuild, type Builder } from '../../../src/kits/container/builders.js';

// GIVEN a stand-in for podman: `build` prints what podman 4.3 printed when another build removed
// its working container, then exits 125; `image exists` answers as the image store does.
let dir: string;
let podman: string;
const builder = (): Builder => ({ name: 'podman', command: podman, buildx: false, version: '4.3.1', canRun: true });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-run-build-'));
  podman = path.join(dir, 'podman');
  await writeFile(podman, `#!/bin/sh
if [ "$1" = build ]; then
  echo "COMMIT localhost/m:1"
  echo "Successfully tagged localhost/m:1"
  echo "time=\\"2026-12-07T12:41:35Z\\" level=error msg=\\"error deleting build container \\\\\\"0a85\\\\\\": identifier is not a container\\"" >&2
  echo "Error: identifier is not a container" >&2
  exit 125
fi
if [ "$1" = image ] && [ "$2" = exists ]; then
  [ -f "${dir}/exists" ] && exit 0 || exit 1
fi
exit 2
`);
  await chmod(podman, 0o755);
});
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

describe('runImageBuild', () => {
  it('accepts the exit when every tag was reported and the image exists, with a warning', async () => {
    await writeFile(path.join(dir, 'exists'), '');
    const warnings: string[] = [];
    const io = { warn: (code: string) => warnings.push(code), info: () => undefined, debug: () => undefined } as unknown as IoHelper;
    await runImageBuild(builder(), [podman, 'build', '.'], ['localhost/m:1'], 'Building localhost/m:1', { io });
    expect(warnings).toEqual(['DM_CONTAINER_BUILD_CLEANUP']);
  });

  it('throws when the image does not exist, or a tag was not reported', async () => {
    await rm(path.join(dir, 'exists'), { force: true });
    await expect(runImageBuild(builder(), [podman, 'build', '.'], ['localhost/m:1'], 'Building localhost/m:1')).rejects.toMatchObject({ code: 'CONTAINER_COMMAND_FAILED' });
    await writeFile(path.join(dir, 'exists'), '');
    await expect(runImageBuild(builder(), [podman, 'build', '.'], ['localhost/m:1', 'localhost/m:latest'], 'Building localhost/m:1')).rejects.toMatchObject({ code: 'CONTAINER_COMMAND_FAILED' });
  });
});
