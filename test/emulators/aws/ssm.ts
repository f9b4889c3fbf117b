import type { FakeContext } from './_context.js';
import { jsonErrorReply, parseJsonBody, type AwsServiceModule } from './_service.js';
import { AwsError, type WireReply } from './_wire.js';
import type { SsmParameter } from './state.js';

function describe(ctx: FakeContext, p: SsmParameter): Record<string, unknown> {
  return {
    Name: p.name, Type: p.type, Value: p.value, Version: p.version,
    LastModifiedDate: p.lastModified.getTime() / 1000,
    ARN: `arn:aws:ssm:${ctx.region}:${ctx.accountId}:parameter/${p.name.replace(/^\//, '')}`,
    DataType: 'text',
  };
}

function reply(value: unknown): WireReply {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(value) };
}

/** SSM Parameter Store (JSON 1.1): what the CDK bootstrap version check and SSM template parameters read. */
export const ssm: AwsServiceModule = {
  name: 'ssm',
  signingNames: ['ssm'],
  targetPrefixes: ['AmazonSSM'],
  parse(req) {
    const target = String(req.headers['x-amz-target'] ?? '');
    return { action: target.slice(target.indexOf('.') + 1), params: parseJsonBody(req) };
  },
  async handle(call, _req, ctx) {
    const p = call.params as Record<string, any>;
    const parameters = ctx.state.ssm;
    switch (call.action) {
      case 'GetParameter': {
        const found = parameters.get(String(p.Name));
        if (!found) throw new AwsError('ParameterNotFound', '');
        return reply({ Parameter: describe(ctx, found) });
      }
      case 'GetParameters': {
        const names = (p.Names as string[]) ?? [];
        return reply({
          Parameters: names.filter((n) => parameters.has(n)).map((n) => describe(ctx, parameters.get(n)!)),
          InvalidParameters: names.filter((n) => !parameters.has(n)),
        });
      }
      case 'PutParameter': {
        const existing = parameters.get(String(p.Name));
        if (existing && String(p.Overwrite) !== 'true') {
          throw new AwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
        }
        const version = (existing?.version ?? 0) + 1;
        parameters.set(String(p.Name), { name: String(p.Name), value: String(p.Value), type: p.Type ?? existing?.type ?? 'String', version, lastModified: new Date() });
        return reply({ Version: version, Tier: 'Standard' });
      }
      case 'DeleteParameter':
        if (!parameters.delete(String(p.Name))) throw new AwsError('ParameterNotFound', '');
        return reply({});
      default:
        throw new AwsError('UnknownOperationException', `The fake does not implement SSM ${call.action}`);
    }
  },
  errorReply: jsonErrorReply,
  throttlingError: () => new AwsError('ThrottlingException', 'Rate exceeded'),
};
