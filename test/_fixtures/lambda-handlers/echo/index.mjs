// Answers with what the function sees: the event, its environment, its context, and which
// packages it can resolve (the test asks for one only a layer has and one only the repo has).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
console.log('echo: init');

export const handler = async (event, context) => {
  console.log('echo: invoked with', JSON.stringify(event).slice(0, 200));
  const resolvable = {};
  for (const name of event?.tryRequire ?? []) {
    try {
      require.resolve(name);
      resolvable[`require:${name}`] = true;
    } catch {
      resolvable[`require:${name}`] = false;
    }
  }
  for (const name of event?.tryImport ?? []) {
    try {
      await import(name);
      resolvable[`import:${name}`] = true;
    } catch {
      resolvable[`import:${name}`] = false;
    }
  }
  return {
    event,
    env: { ...process.env },
    cwd: process.cwd(),
    pid: process.pid,
    execArgv: process.execArgv,
    heapLimitMb: Math.round((await import('node:v8')).getHeapStatistics().heap_size_limit / 1048576),
    context: {
      awsRequestId: context.awsRequestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: context.memoryLimitInMB,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      remainingMs: context.getRemainingTimeInMillis(),
      callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
      clientContext: context.clientContext ?? null,
    },
    resolvable,
  };
};
