/** Sends what the fake's Lambda functions print to its CloudWatch Logs, as Lambda does. */
import type { FunctionRunner } from './function-runner.js';
import { cloudWatchLogsFake, lambdaLogStreamName } from './logs.js';
import type { FakeState } from './state.js';

/**
 * The log group a function writes to, as Lambda picks it: its `LoggingConfig.LogGroup` (the CDK's
 * `logGroup` prop sets it), else `/aws/lambda/<name>`.
 */
export function functionLogGroup(state: FakeState, functionName: string): string {
  for (const stack of state.cloudformation.stacks.values()) {
    for (const r of stack.resources.values()) {
      if (r.type !== 'AWS::Lambda::Function' || r.physicalId !== functionName) continue;
      const group = (r.properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
      if (typeof group === 'string' && group) return group;
    }
  }
  return `/aws/lambda/${functionName}`;
}

/**
 * Wraps a runner so that what each execution environment prints goes to CloudWatch Logs as
 * Lambda sends it: one stream per environment (`2024/05/01/[<version>]<hex>`), each line an event
 * ending in a newline (INIT_START, the runtime's output, START, END, REPORT). A runner that gives
 * no line sink (the in-process one) is logged from each invocation's log tail instead.
 */
export function lambdaLogs(runner: FunctionRunner, state: FakeState): FunctionRunner {
  return {
    async start(spec) {
      const logs = cloudWatchLogsFake(state);
      const group = functionLogGroup(state, spec.functionName);
      const stream = lambdaLogStreamName(spec.version);
      let streamed = false;
      const running = await runner.start({ ...spec, log: (line) => { streamed = true; logs.put(group, stream, `${line}\n`); } });
      return {
        async invoke(event) {
          const result = await running.invoke(event);
          if (!streamed) for (const line of (result.logTail ?? '').split('\n').filter(Boolean)) logs.put(group, stream, `${line}\n`);
          return result;
        },
        stop: () => running.stop(),
      };
    },
  };
}
