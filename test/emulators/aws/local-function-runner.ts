import { startLocalFunction } from '../../../src/lambda-emulator/index.js';
import type { FunctionRunner } from './function-runner.js';

export interface LocalFunctionRunnerOptions {
  /** Receives every log line of every function the fake runs. @default - lines are dropped */
  readonly log?: (functionName: string, version: string, line: string) => void;
}

/**
 * Runs the fake's functions with the project's local executor: each version in its own execution
 * environment (a Node process behind a local Runtime API), with its code, layers and environment,
 * as Lambda would. Use it where a deploy test should end in a real inference.
 */
export function localFunctionRunner(options: LocalFunctionRunnerOptions = {}): FunctionRunner {
  return {
    async start(spec) {
      const fn = await startLocalFunction({
        functionName: spec.functionName,
        version: spec.version,
        handler: spec.handler,
        codeZip: spec.codeZipFile,
        layers: [...spec.layerZipFiles],
        env: { ...spec.env },
        memoryMb: spec.memoryMb,
        timeoutSeconds: spec.timeoutSeconds,
        region: spec.region,
        accountId: spec.accountId,
        log: (line) => { options.log?.(spec.functionName, spec.version, line); spec.log?.(line); },
      });
      return {
        async invoke(event) {
          const result = await fn.invoke(event, { qualifier: spec.version === '$LATEST' ? undefined : spec.version });
          return { payload: result.rawPayload, functionError: result.functionError, logTail: result.logs };
        },
        stop: () => fn.stop(),
      };
    },
  };
}
