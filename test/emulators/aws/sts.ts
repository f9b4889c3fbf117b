import { randomBytes } from 'node:crypto';
import { queryErrorReply, queryReply, type AwsServiceModule } from './_service.js';
import { AwsError, parseQueryForm, toXml } from './_wire.js';

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/**
 * STS: GetCallerIdentity, and AssumeRole for roles that exist in the fake (the bootstrap roles,
 * or roles a stack created); assuming any other role is denied like in AWS, which is what makes
 * toolkit-lib fall back to the caller's credentials in an environment that is not bootstrapped.
 */
export const sts: AwsServiceModule = {
  name: 'sts',
  signingNames: ['sts'],
  parse(req) {
    const { Action, Version: _version, ...params } = parseQueryForm(req.body.toString('utf8'));
    return { action: String(Action), params };
  },
  async handle(call, req, ctx) {
    const account = ctx.accountId;
    let result: Record<string, unknown>;
    switch (call.action) {
      case 'GetCallerIdentity':
        result = { UserId: 'AIDAFAKEUSER', Account: account, Arn: `arn:aws:iam::${account}:user/deploy-model-test` };
        break;
      case 'AssumeRole': {
        const roleArn = String(call.params.RoleArn);
        const roleName = roleArn.split('/').pop()!;
        const role = ctx.state.iam.roles.get(roleName);
        if (!role) {
          throw new AwsError('AccessDenied', `User: arn:aws:iam::${account}:user/deploy-model-test is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
        }
        const caller = String(call.params.RoleSessionName ?? 'caller');
        result = {
          Credentials: {
            AccessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
            SecretAccessKey: randomBytes(20).toString('base64'),
            SessionToken: randomBytes(32).toString('base64'),
            Expiration: new Date(Date.now() + Number(call.params.DurationSeconds ?? 3600) * 1000),
          },
          AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${caller}`, Arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${caller}` },
          PackedPolicySize: 0,
        };
        break;
      }
      default:
        throw new AwsError('InvalidAction', `Could not find operation ${call.action} for version 2011-06-15`);
    }
    return queryReply(call.action, NAMESPACE, Object.entries(result).map(([k, v]) => toXml(k, v)).join(''), req);
  },
  errorReply: queryErrorReply,
  throttlingError: () => new AwsError('Throttling', 'Rate exceeded'),
};
