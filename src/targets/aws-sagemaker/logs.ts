/**
 * The aws-sagemaker target's logs: CloudWatch Logs, `/aws/sagemaker/Endpoints/<endpoint>`, where
 * SageMaker writes what each instance's container (Triton) prints, one stream per instance
 * (`<variant>/<instance id>`).
 */
import { DeployModelError } from '../../errors.js';
import { cloudWatchLogLines } from '../../kits/aws/cloudwatch-logs.js';
import { describeStack } from '../../kits/aws/describe-stack.js';
import type { LogLine, LogsOptions } from '../../kits/logs/log-line.js';
import type { SageMakerNames } from '../../kits/sagemaker/names.js';
import type { SageMakerContext } from './build.js';

export async function* sageMakerLogs(ctx: SageMakerContext, names: SageMakerNames & { region: string }, options: LogsOptions): AsyncGenerator<LogLine> {
  const { stackName, endpointName, logGroupName, region } = names;
  // The stack first: it says whether anything was deployed, and a missing credential fails here with its fix.
  const stack = await describeStack({ stackName, region });
  const deployed = stack !== undefined && stack.status !== 'DELETE_COMPLETE';
  ctx.io.debug('DM_LOGS_SOURCE', `${ctx.targetName}: CloudWatch Logs group ${logGroupName} in ${region}`, { logGroupName, region });
  yield* cloudWatchLogLines({
    ...options, region, logGroupName,
    // The stack makes the group; a deleted stack may leave it (its logs stay readable), else nothing was ever deployed.
    missingGroup: () => deployed ? undefined : new DeployModelError('NOT_DEPLOYED',
      `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no logs: there is no stack ${stackName} and no log group ${logGroupName} in ${region}. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`,
      { details: { target: ctx.targetName, stackName, endpointName, logGroupName } }),
  });
}
