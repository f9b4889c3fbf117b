import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Faults } from './faults.js';
import type { FunctionRunner, InvokeResult, RunningFunction } from './function-runner.js';
import type { FakeState, LambdaCode } from './state.js';

/**
 * Starts function versions lazily on first invoke and keeps them warm. An instance is keyed by
 * function, version and code hash, so `$LATEST` restarts when its code changes and each
 * published version keeps running the code it was published with.
 */
export class LambdaRuntime {
  private readonly instances = new Map<string, Promise<RunningFunction>>();

  constructor(
    private readonly runner: FunctionRunner,
    private readonly faults: Faults,
    private readonly state: FakeState,
    private readonly workDir: string,
    private readonly where: { region: string; accountId: string; readonly endpoint?: string },
  ) {}

  async invoke(functionName: string, version: string, code: LambdaCode, event: unknown): Promise<InvokeResult> {
    const initFailure = this.faults.initFailureFor(functionName);
    if (initFailure !== undefined) {
      return {
        payload: Buffer.from(JSON.stringify({ errorType: 'Runtime.InitError', errorMessage: initFailure })),
        functionError: 'Unhandled',
        logTail: `INIT_REPORT Init Duration: 1.00 ms\tPhase: init\tStatus: error\tError Type: Runtime.InitError\n${initFailure}\n`,
      };
    }
    const versionFailure = this.faults.versionFailureFor(functionName, version);
    if (versionFailure !== undefined) {
      return { payload: Buffer.from(JSON.stringify({ errorType: 'Error', errorMessage: versionFailure })), functionError: 'Unhandled', logTail: `ERROR\t${versionFailure}\n` };
    }
    const key = `${functionName}:${version}:${code.sha256}`;
    let instance = this.instances.get(key);
    if (!instance) {
      instance = this.start(functionName, version, code);
      this.instances.set(key, instance);
      instance.catch(() => this.instances.delete(key));
    }
    return (await instance).invoke(event);
  }

  /** Stops the running instances of a function (all versions, or one). */
  async stopFunction(functionName: string, version?: string): Promise<void> {
    const prefix = version === undefined ? `${functionName}:` : `${functionName}:${version}:`;
    const stopping: Array<Promise<void>> = [];
    for (const [key, instance] of this.instances) {
      if (!key.startsWith(prefix)) continue;
      this.instances.delete(key);
      stopping.push(instance.then((i) => i.stop(), () => undefined));
    }
    await Promise.all(stopping);
  }

  async stopAll(): Promise<void> {
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.all(all.map((i) => i.then((r) => r.stop(), () => undefined)));
  }

  private async start(functionName: string, version: string, code: LambdaCode): Promise<RunningFunction> {
    const layerZipFiles: string[] = [];
    // An image's /opt stands where layers would be: Lambda attaches none to an image function.
    if (code.image) layerZipFiles.push(await this.zipFile(code.image.optZip));
    for (const layerArn of code.layers) {
      const [name, number] = layerArn.split(':layer:')[1]?.split(':') ?? [];
      const layer = this.state.lambda.layers.get(name ?? '')?.find((l) => String(l.version) === number);
      if (layer) layerZipFiles.push(await this.zipFile(layer.zip));
    }
    return this.runner.start({
      functionName,
      version,
      handler: code.handler,
      runtime: code.runtime,
      codeZipFile: await this.zipFile(code.zip),
      layerZipFiles,
      env: { ...(code.image ? { ...code.image.env, ...code.env } : code.env), ...this.roleEnvironment() },
      memoryMb: code.memoryMb,
      timeoutSeconds: code.timeoutSeconds,
      region: this.where.region,
      accountId: this.where.accountId,
    });
  }

  /**
   * What Lambda gives every function besides its own variables: the execution role's temporary
   * credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; "Defined runtime
   * environment variables" in the Lambda developer guide). Here they are dummies, and
   * AWS_ENDPOINT_URL_S3 points the function's S3 calls at this fake, which stands in for S3's
   * regional endpoint (a real function has no such variable).
   */
  private roleEnvironment(): Record<string, string> {
    return {
      AWS_ACCESS_KEY_ID: 'ASIAFAKEROLECREDENTIAL', AWS_SECRET_ACCESS_KEY: 'fake-role-secret', AWS_SESSION_TOKEN: 'fake-role-session-token',
      ...(this.where.endpoint ? { AWS_ENDPOINT_URL_S3: this.where.endpoint } : {}),
    };
  }

  /** Content-addressed, so each version's zip stays on disk as long as the fake runs. */
  private async zipFile(zip: Buffer): Promise<string> {
    const dir = join(this.workDir, 'code');
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${createHash('sha256').update(zip).digest('hex')}.zip`);
    await writeFile(path, zip);
    return path;
  }
}
