/**
 * The aws-lambda target's logs: CloudWatch Logs, the function's log group (the stack's
 * LogGroupName output; `/aws/lambda/<function>` for a stack without it), one stream per execution
 * environment, named after the version it runs (`2024/05/01/[3]…`).
 */
import { ONNX_MODEL_FUNCTION_OUTPUTS as OUT } from '../../../infra/outputs.js';
import { DeployModelError } from '../../errors.js';
import { cloudWatchLogLines } from '../../kits/aws/cloudwatch-logs.js';
import { describeStack } from '../../kits/aws/describe-stack.js';
import type { LogLine, LogsOptions } from '../../kits/logs/log-line.js';
import type { LambdaContext } from './build.js';

export async function* lambdaLogs(ctx: LambdaContext, at: { stackName: string; region: string }, options: LogsOptions): AsyncGenerator<LogLine> {
  const { stackName, region } = at;
  const stack = await describeStack({ stackName, region });
  const functionName = stack?.outputs[OUT.functionName];
  const logGroupName = stack?.outputs[OUT.logGroupName] ?? (functionName ? `/aws/lambda/${functionName}` : undefined);
  if (!stack || stack.status === 'DELETE_COMPLETE' || !logGroupName) {
    const why = !stack || stack.status === 'DELETE_COMPLETE' ? `stack ${stackName} does not exist in ${region}` : `stack ${stackName} is ${stack.status} and names no function yet`;
    throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no function whose logs to read: ${why}. Run \`deploy-model deploy --target ${ctx.targetName}\` first. (A destroyed function's log group is kept until its retention ends; \`aws logs describe-log-groups --region ${region}\` lists it.)`,
      { details: { target: ctx.targetName, stackName, status: stack?.status } });
  }
  ctx.io.debug('DM_LOGS_SOURCE', `${ctx.targetName}: CloudWatch Logs group ${logGroupName} in ${region}`, { logGroupName, region });
  // The stack creates the group; until the function first runs it may hold no stream, and reads as empty.
  yield* cloudWatchLogLines({ ...options, region, logGroupName });
}
