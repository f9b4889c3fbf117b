/**
 * The aws-lambda target's logs: CloudWatch Logs, the function's log group (the stack's
 * LogGroupName output; `/aws/lambda/<function>` for a stack without it), one stream per execution
 * environment, named after the version it runs (`2024/05/01/[3]…`). The group outlives the stack
 * (`DeletionPolicy: Retain`), so a destroyed target's logs are found through the deleted stack's
 * events and stay readable until the group expires or is deleted.
 */
import { DescribeStackEventsCommand, ListStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ONNX_MODEL_FUNCTION_OUTPUTS as OUT } from '../../../infra/outputs.js';
import { DeployModelError } from '../../errors.js';
import { cloudWatchLogLines } from '../../kits/aws/cloudwatch-logs.js';
import { cloudFormationClient, describeStack } from '../../kits/aws/describe-stack.js';
import type { LogLine, LogsOptions } from '../../kits/logs/log-line.js';
import type { LambdaContext } from './build.js';

export async function* lambdaLogs(ctx: LambdaContext, at: { stackName: string; region: string }, options: LogsOptions): AsyncGenerator<LogLine> {
  const { stackName, region } = at;
  const stack = await describeStack({ stackName, region });
  const gone = !stack || stack.status === 'DELETE_COMPLETE';
  const functionName = stack?.outputs[OUT.functionName];
  const logGroupName = gone ? await retainedLogGroup(stackName, region) : stack.outputs[OUT.logGroupName] ?? (functionName ? `/aws/lambda/${functionName}` : undefined);
  if (!logGroupName) {
    const why = gone ? `stack ${stackName} does not exist in ${region}, and no deleted stack of that name left a log group` : `stack ${stackName} is ${stack.status} and names no function yet`;
    throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no function whose logs to read: ${why}. Run \`deploy-model deploy --target ${ctx.targetName}\` first. (\`aws logs describe-log-groups --region ${region}\` lists the log groups that remain.)`,
      { details: { target: ctx.targetName, stackName, status: stack?.status } });
  }
  ctx.io.debug('DM_LOGS_SOURCE', `${ctx.targetName}: CloudWatch Logs group ${logGroupName} in ${region}${gone ? `, kept after stack ${stackName} was deleted` : ''}`, { logGroupName, region, retained: gone });
  // The stack creates the group; until the function first runs it may hold no stream, and reads as
  // empty. A retained group deleted since reads as nothing deployed.
  yield* cloudWatchLogLines({
    ...options, region, logGroupName,
    ...(gone ? {
      missingGroup: () => new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no logs: stack ${stackName} was deleted and so was its log group ${logGroupName} in ${region}. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`,
        { details: { target: ctx.targetName, stackName, logGroupName } }),
    } : {}),
  });
}

/**
 * The log group the last deleted stack of that name kept (its `DELETE_SKIPPED` event; CloudFormation
 * keeps a deleted stack's events for 90 days), or undefined when there is none or it cannot be read.
 */
async function retainedLogGroup(stackName: string, region: string): Promise<string | undefined> {
  const client = cloudFormationClient(region);
  try {
    const stackId = await lastDeleted(client, stackName);
    if (!stackId) return undefined;
    let nextToken: string | undefined;
    do {
      const page = await client.send(new DescribeStackEventsCommand({ StackName: stackId, NextToken: nextToken }));
      const kept = page.StackEvents?.find((e) => e.ResourceType === 'AWS::Logs::LogGroup' && e.ResourceStatus === 'DELETE_SKIPPED' && e.PhysicalResourceId);
      if (kept) return kept.PhysicalResourceId;
      nextToken = page.NextToken;
    } while (nextToken);
    return undefined;
  } catch {
    // Only a hint: without cloudformation:ListStacks or DescribeStackEvents, the target reads as not deployed.
    return undefined;
  } finally {
    client.destroy();
  }
}

/** The ARN of the most recently deleted stack named `stackName`. */
async function lastDeleted(client: CloudFormationClient, stackName: string): Promise<string | undefined> {
  let found: { id: string; at: number } | undefined;
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListStacksCommand({ StackStatusFilter: ['DELETE_COMPLETE'], NextToken: nextToken }));
    for (const s of page.StackSummaries ?? []) {
      const at = s.DeletionTime?.getTime() ?? 0;
      if (s.StackName === stackName && s.StackId && (!found || at > found.at)) found = { id: s.StackId, at };
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return found?.id;
}
