import { describe, expect, it } from 'vitest';
import { IoHelper, RecordingIoHost } from '../../../src/io/io-host.js';
import { exec, runOrThrow } from '../../../src/targets/container/_exec.js';
import {
  builderOrder, detectBuilder, isLoopbackRegistry, parseImageSize, planBuild, planContainerState, planImageSize, planLogin, planPull, planPush,
  planRemoveContainer, planRemoveImage, planRun, planStop, planTag, probeBuilder, type Builder,
} from '../../../src/targets/container/builders.js';
import { imageRefs } from '../../../src/targets/container/image.js';

const docker: Builder = { name: 'docker', command: 'docker', buildx: false, version: '27.0.1', canRun: true };
const buildx: Builder = { ...docker, buildx: true };
const podman: Builder = { name: 'podman', command: 'podman', buildx: false, version: '4.3.1', canRun: true };
const buildah: Builder = { name: 'buildah', command: 'buildah', buildx: false, version: '1.28.2', canRun: false };

const build = { contextDir: '/ctx', tags: ['r.example.com/m:abc', 'r.example.com/m:v1'], platform: 'linux/amd64' as const };

describe('command planners', () => {
  it('build: docker classic, docker buildx, podman, buildah', () => {
    expect(planBuild(docker, build)).toEqual([
      'docker', 'build', '--platform', 'linux/amd64', '--tag', 'r.example.com/m:abc', '--tag', 'r.example.com/m:v1', '--file', '/ctx/Dockerfile', '/ctx',
    ]);
    expect(planBuild(buildx, build)).toEqual([
      'docker', 'buildx', 'build', '--load', '--progress=plain', '--platform', 'linux/amd64',
      '--tag', 'r.example.com/m:abc', '--tag', 'r.example.com/m:v1', '--file', '/ctx/Dockerfile', '/ctx',
    ]);
    expect(planBuild(podman, build)).toEqual([
      'podman', 'build', '--format', 'docker', '--timestamp', '0', '--platform', 'linux/amd64',
      '--tag', 'r.example.com/m:abc', '--tag', 'r.example.com/m:v1', '--file', '/ctx/Dockerfile', '/ctx',
    ]);
    expect(planBuild(buildah, build)).toEqual([
      'buildah', 'bud', '--format', 'docker', '--timestamp', '0', '--platform', 'linux/amd64',
      '--tag', 'r.example.com/m:abc', '--tag', 'r.example.com/m:v1', '--file', '/ctx/Dockerfile', '/ctx',
    ]);
  });

  it('push and pull skip TLS verification only for loopback registries, and never for docker', () => {
    expect(planPush(docker, '127.0.0.1:5000/m:abc')).toEqual(['docker', 'push', '127.0.0.1:5000/m:abc']);
    expect(planPush(podman, '127.0.0.1:5000/m:abc')).toEqual(['podman', 'push', '--tls-verify=false', '127.0.0.1:5000/m:abc']);
    expect(planPush(podman, 'r.example.com/m:abc')).toEqual(['podman', 'push', 'r.example.com/m:abc']);
    expect(planPush(buildah, 'localhost:5000/m:abc')).toEqual(['buildah', 'push', '--tls-verify=false', 'localhost:5000/m:abc', 'docker://localhost:5000/m:abc']);
    expect(planPull(podman, '127.0.0.1:5000/m:abc')).toEqual(['podman', 'pull', '--tls-verify=false', '127.0.0.1:5000/m:abc']);
    expect(planPull(docker, 'r.example.com/m:abc')).toEqual(['docker', 'pull', 'r.example.com/m:abc']);
    expect([isLoopbackRegistry('127.0.0.1:5000/m'), isLoopbackRegistry('localhost/m'), isLoopbackRegistry('127.example.com/m')]).toEqual([true, true, false]);
  });

  it('login reads the password from stdin, never from argv', () => {
    const argv = planLogin(podman, 'r.example.com', 'ci-bot');
    expect(argv).toEqual(['podman', 'login', '--username', 'ci-bot', '--password-stdin', 'r.example.com']);
    expect(argv.some((a) => a.startsWith('--password='))).toBe(false);
  });

  it('run publishes on loopback only, with sorted env; stop, state, rm, rmi, size', () => {
    expect(planRun(podman, { image: 'i:1', name: 'c1', hostPort: 40000, containerPort: 8080, env: { B: '2', A: '1' } })).toEqual([
      'podman', 'run', '--detach', '--name', 'c1', '--publish', '127.0.0.1:40000:8080', '--env', 'A=1', '--env', 'B=2', 'i:1',
    ]);
    expect(() => planRun(buildah, { image: 'i', name: 'c', hostPort: 1, containerPort: 2 })).toThrowError(expect.objectContaining({ code: 'CONTAINER_NO_RUNTIME' }));
    expect(planStop(docker, 'c1', 10)).toEqual(['docker', 'stop', '--time', '10', 'c1']);
    expect(planContainerState(podman, 'c1')).toEqual(['podman', 'inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', 'c1']);
    expect(planRemoveContainer(podman, 'c1')).toEqual(['podman', 'rm', '--force', 'c1']);
    expect(planRemoveImage(docker, ['a', 'b'])).toEqual(['docker', 'rmi', 'a', 'b']);
    expect(planTag(podman, 'r/m:abc', 'r/m:latest')).toEqual(['podman', 'tag', 'r/m:abc', 'r/m:latest']);
    expect(planImageSize(podman, 'i')).toEqual(['podman', 'image', 'inspect', '--format', '{{.Size}}', 'i']);
    expect(parseImageSize(podman, '255147796\n')).toBe(255147796);
    expect(planImageSize(buildah, 'i')).toEqual(['buildah', 'inspect', '--type', 'image', '--format', '{{.Manifest}}', 'i']);
    expect(parseImageSize(buildah, JSON.stringify({ layers: [{ size: 10 }, { size: 32 }] }))).toBe(42);
  });
});

describe('imageRefs', () => {
  it("tags by content and adds the plan's extra tags in its repository", () => {
    expect(imageRefs({ repository: 'r.example.com/ocr/cls', extraTags: ['v3'] }, '0123456789ab')).toEqual({
      repository: 'r.example.com/ocr/cls', contentRef: 'r.example.com/ocr/cls:0123456789ab', refs: ['r.example.com/ocr/cls:0123456789ab', 'r.example.com/ocr/cls:v3'],
    });
    expect(imageRefs({ repository: 'localhost/cls', extraTags: [] }, '0123456789ab').refs).toEqual(['localhost/cls:0123456789ab']);
    // An extra tag equal to the content tag is not given twice.
    expect(imageRefs({ repository: 'localhost/cls', extraTags: ['0123456789ab'] }, '0123456789ab').refs).toEqual(['localhost/cls:0123456789ab']);
  });
});

describe('builderOrder', () => {
  it('tries the configured builder alone, else docker, podman, buildah, leaving buildah out when the image must run', () => {
    expect(builderOrder(undefined, false)).toEqual(['docker', 'podman', 'buildah']);
    expect(builderOrder(undefined, true)).toEqual(['docker', 'podman']);
    expect(builderOrder('buildah', true)).toEqual(['buildah']);
  });
});

describe('detectBuilder', () => {
  const answers = (table: Record<string, { code: number; stdout?: string; stderr?: string }>) => async (argv: readonly string[]) => {
    const a = table[argv.slice(0, 2).join(' ')] ?? { code: 127, stderr: 'not found' };
    return { code: a.code, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
  };

  it('lists what it tried and how to install one when nothing works', async () => {
    const run = answers({ 'docker info': { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' } });
    const error = await detectBuilder({ exec: run }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONTAINER_NO_BUILDER' });
    const message = (error as Error).message;
    expect(message).toContain('docker (Cannot connect to the Docker daemon');
    expect(message).toContain('podman (not installed)');
    expect(message).toContain('buildah (not installed)');
    expect(message).toContain('apt-get install podman buildah runc');
    expect(message).toContain('"Image builders" in docs/containers.md');
  });

  it('asks docker for its engine and buildx, and prefers it', async () => {
    const run = answers({ 'docker info': { code: 0, stdout: '27.0.1\n' }, 'docker buildx': { code: 0 }, 'podman info': { code: 0, stdout: '5.0.0' } });
    const host = new RecordingIoHost();
    expect(await detectBuilder({ exec: run, io: new IoHelper(host) })).toEqual(buildx);
    expect(host.codes()).toEqual(['DM_CONTAINER_PROBE', 'DM_CONTAINER_BUILDER']);
  });

  it('skips buildah when the image must also run, and names a configured builder that fails', async () => {
    const run = answers({ 'buildah info': { code: 0 }, 'buildah --version': { code: 0, stdout: 'buildah version 1.28.2 (image-spec 1.1.0-rc2)' } });
    expect(await detectBuilder({ exec: run })).toEqual(buildah);
    await expect(detectBuilder({ exec: run, mustRun: true })).rejects.toMatchObject({ code: 'CONTAINER_NO_BUILDER' });
    await expect(detectBuilder({ exec: run, preferred: 'buildah', mustRun: true })).rejects.toMatchObject({ code: 'CONTAINER_NO_RUNTIME' });
    await expect(detectBuilder({ exec: run, order: ['docker', 'podman'], mustRun: true })).rejects.toMatchObject({ code: 'CONTAINER_NO_BUILDER' });
    await expect(detectBuilder({ exec: run, preferred: 'podman' })).rejects.toMatchObject({ code: 'CONTAINER_BUILDER_UNAVAILABLE', message: expect.stringContaining('podman (not installed)') });
  });

  it('really asks the docker CLI: a CLI without an engine is not a builder', async () => {
    const { probe } = await probeBuilder('docker');
    const engine = await exec(['docker', 'info', '--format', '{{.ServerVersion}}']);
    expect(probe.ok).toBe(engine.code === 0 && engine.stdout.trim() !== '');
  });
});

describe('runOrThrow', () => {
  it('streams build steps at info and other lines at debug', async () => {
    const host = new RecordingIoHost();
    const script = "console.log('STEP 1/2: FROM base'); console.log('copying blob'); console.error('#5 [2/4] COPY x /app/');";
    await runOrThrow([process.execPath, '-e', script], 'the test command', { io: new IoHelper(host) });
    expect(host.messages.map((m) => [m.code, m.level, m.message])).toEqual([
      ['DM_CONTAINER_STEP', 'info', 'STEP 1/2: FROM base'],
      ['DM_CONTAINER_OUTPUT', 'debug', 'copying blob'],
      ['DM_CONTAINER_STEP', 'info', '#5 [2/4] COPY x /app/'],
    ]);
  });

  it('fails with the end of the output', async () => {
    await expect(runOrThrow([process.execPath, '-e', "console.error('Error: base image not found'); process.exit(3)"], 'Building x'))
      .rejects.toMatchObject({ code: 'CONTAINER_COMMAND_FAILED', message: expect.stringMatching(/Building x failed: .*exited with 3\.\nError: base image not found/s) });
  });

  it('gives a password to stdin', async () => {
    const r = await exec([process.execPath, '-e', "process.stdin.on('data', (d) => process.stdout.write(String(d).length + ''))"], { stdin: 'secret' });
    expect(r.stdout).toBe('6');
  });
});
