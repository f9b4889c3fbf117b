// Container-image functions for the fake's Lambda: the ImageUri checked as Lambda checks it, the image pulled from the fake's ECR registry and unpacked.
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { detectBuilder, type Builder } from '../../../src/kits/container/builders.js';
import { exec, tail } from '../../../src/kits/container/exec.js';
import type { FakeContext } from './_context.js';
import { ecrFake } from './ecr.js';

/** What an image function runs: its /var/task as the code zip, its /opt as a layer, its CMD as the handler. */
export interface ImageCode {
  readonly uri: string;
  readonly zip: Buffer;
  readonly optZip: Buffer;
  /** The image's CMD (or ImageConfig.Command): the handler its Runtime API client loads. */
  readonly handler: string;
  /** The image's ENV, less what the execution environment sets itself. */
  readonly env: Record<string, string>;
  /** The image manifest digest's hex, which Lambda reports as the function's CodeSha256. */
  readonly sha256: string;
}

/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>(:<tag>|@sha256:<digest>)`. */
const ECR_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+)(?::([\w][\w.-]{0,127})|@(sha256:[0-9a-f]{64}))$/;

/** Set by the execution environment (the runtime's own layout), never taken from the image. */
const ENVIRONMENT_OWNED = new Set(['PATH', 'NODE_PATH', 'LD_LIBRARY_PATH', 'HOME', 'TZ', 'LANG', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR', 'DM_RUNTIME_LOG_MARKERS']);

const cache = new Map<string, Promise<ImageCode>>();
let builder: Promise<Builder> | undefined;

/**
 * The code of an image function. Lambda refuses, at CreateFunction/UpdateFunctionCode, an
 * ImageUri that is not an ECR image URI with a tag or digest ("Source image ... is not valid"),
 * one in another region, and one whose repository or image does not exist ("Source image ...
 * does not exist. Provide a valid source image.", aws/aws-cdk#24648; API_CreateFunction.html:
 * "the image must be in an Amazon ECR repository in the same Region as the function").
 *
 * The image is not run as a container: its /var/task and /opt are copied out and run by the
 * fake's function runner (the project's local executor) with the image's handler and ENV, which
 * keeps a deploy test within seconds. The image's own ENTRYPOINT is tested by running it against
 * the Runtime API emulator (test/targets/aws-lambda/image.real.test.ts).
 */
export function imageCode(ctx: Pick<FakeContext, 'accountId' | 'region' | 'state' | 'workDir'>, uri: string, command?: readonly string[]): Promise<ImageCode> {
  const match = ECR_URI.exec(uri);
  if (!match) return Promise.reject(new Error(`Source image ${uri} is not valid. Provide a valid source image.`));
  const [, account, region, repository, tag, digest] = match;
  if (region !== ctx.region || account !== ctx.accountId) {
    return Promise.reject(new Error(`Source image ${uri} is not valid. Provide a valid source image. (The image must be in an Amazon ECR repository of account ${ctx.accountId} in ${ctx.region}, the function's.)`));
  }
  const ecr = ecrFake(ctx.state);
  if (!ecr.repositories.has(repository!)) return Promise.reject(new Error(`Source image ${uri} does not exist. Provide a valid source image.`));
  const ref = `${ecr.registry}/${repository}${digest ? `@${digest}` : `:${tag}`}`;
  const key = `${ref} ${JSON.stringify(command ?? [])}`;
  let code = cache.get(key);
  if (!code) {
    code = unpack(ctx.workDir, uri, ref, command);
    cache.set(key, code);
    code.catch(() => cache.delete(key));
  }
  return code;
}

async function unpack(workDir: string, uri: string, ref: string, command?: readonly string[]): Promise<ImageCode> {
  builder ??= detectBuilder({ mustRun: true });
  const b = await builder;
  const tls = b.name === 'docker' ? [] : ['--tls-verify=false'];
  const pulled = await exec([b.command, 'pull', ...tls, ref], { timeoutMs: 300_000 });
  if (pulled.code !== 0) throw new Error(`Source image ${uri} does not exist. Provide a valid source image. (${tail(pulled.stderr, 2)})`);
  const inspect = await exec([b.command, 'image', 'inspect', '--format', '{{json .Config}} {{.Digest}}', ref], { timeoutMs: 60_000 });
  if (inspect.code !== 0) throw new Error(`Could not read image ${ref}: ${tail(inspect.stderr, 2)}`);
  const [configJson, digest = ''] = inspect.stdout.trim().split(/ (?=sha256:)/);
  const config = JSON.parse(configJson!) as { Cmd?: string[]; Env?: string[] };
  const dir = await mkdtemp(path.join(workDir, 'image-'));
  const name = `fake-lambda-${createHash('sha256').update(ref).digest('hex').slice(0, 12)}-${process.pid}`;
  try {
    const created = await exec([b.command, 'create', '--name', name, ref], { timeoutMs: 60_000 });
    if (created.code !== 0) throw new Error(`Could not create a container of ${ref}: ${tail(created.stderr, 2)}`);
    for (const [from, to] of [['/var/task', 'task'], ['/opt', 'opt']] as const) {
      const copied = await exec([b.command, 'cp', `${name}:${from}`, path.join(dir, to)], { timeoutMs: 300_000 });
      if (copied.code !== 0) throw new Error(`Could not copy ${from} out of ${ref}: ${tail(copied.stderr, 2)}`);
    }
  } finally {
    await exec([b.command, 'rm', '--force', name], { timeoutMs: 60_000 });
  }
  try {
    const env: Record<string, string> = {};
    for (const line of config.Env ?? []) {
      const i = line.indexOf('=');
      const k = line.slice(0, i);
      if (i > 0 && !ENVIRONMENT_OWNED.has(k)) env[k] = line.slice(i + 1);
    }
    const handler = (command && command.length > 0 ? command : config.Cmd ?? [])[0] ?? '';
    return { uri, zip: await zipFolder(path.join(dir, 'task')), optZip: await zipFolder(path.join(dir, 'opt')), handler, env, sha256: digest.replace(/^sha256:/, '') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A folder as a stored (uncompressed) zip: the runner unzips it at once. */
async function zipFolder(root: string): Promise<Buffer> {
  const files: Zippable = {};
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir)) {
      const full = path.join(dir, entry);
      const st = await lstat(full);
      if (st.isDirectory()) await walk(full);
      else if (st.isFile()) files[path.relative(root, full).split(path.sep).join('/')] = [await readFile(full), { level: 0 }];
    }
  };
  await walk(root);
  return Buffer.from(zipSync(files, { mtime: new Date('1980-01-01T00:00:00Z') }));
}
