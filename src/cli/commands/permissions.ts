/** `deploy-model permissions`: the least permissions a CI identity needs for a target, and the trust that lets CI use it. */
import type { Command } from 'commander';
import { DeployModelError } from '../../errors.js';
// The lists the help names, from the module that defines them; the rest loads when the command runs.
import { PERMISSION_TARGET_TYPES, REPORT_FORMATS } from '../../permissions/target-permissions.js';
import type { TargetPermissions } from '../../permissions/index.js';
import { configOptions, targetOption } from '../common-options.js';
import { makeContext, type GlobalOptions } from '../context.js';

type Opts = GlobalOptions & {
  target?: string[]; format?: string; ciProvider?: string; repo?: string; branch?: string; pullRequests?: boolean;
  gitlabUrl?: string; account?: string; projectNumber?: string;
};

export function registerPermissions(program: Command): void {
  targetOption(configOptions(program.command('permissions')), 'the target to print permissions for (repeatable)')
    .description('Print the least permissions a CI identity needs to deploy, diff, check and destroy a target, and the OIDC trust for GitHub Actions or GitLab CI')
    .option('-f, --format <format>', `what to print: ${REPORT_FORMATS.join(', ')}, or one document: policy (the permissions), trust (the CI provider's trust), bucket-role (gcp-vertex)`, 'text')
    .option('--ci-provider <provider>', 'the CI system the trust accepts: github or gitlab', 'github')
    .option('--repo <path>', 'the repository whose pipelines may deploy: OWNER/REPO on GitHub, GROUP/PROJECT on GitLab (default: a placeholder)')
    .option('--branch <name>', 'the branch whose pipelines deploy', 'main')
    .option('--pull-requests', 'also trust pull request (GitHub) or merge request (GitLab) pipelines, which run diff')
    .option('--gitlab-url <url>', 'the GitLab instance that issues the ID tokens', 'https://gitlab.com')
    .option('--account <id>', 'AWS account id for the ARNs (default: ACCOUNT_ID)')
    .option('--project-number <number>', 'Google Cloud project number for Workload Identity Federation (default: PROJECT_NUMBER)')
    .addHelpText('after', `
Generated from the target's plan (names, region, tags) and from the calls deploy-model makes; covers
${PERMISSION_TARGET_TYPES.join(', ')}.
  aws-lambda, aws-sagemaker  an IAM policy (sts:AssumeRole on the CDK bootstrap roles, plus the CloudFormation,
                             Lambda and SageMaker calls made outside CloudFormation) and the role's trust policy
  gcp-vertex                 custom roles for Vertex AI and the staging bucket, Workload Identity Federation
  azure-ml                   a custom role on the workspace and its blob container, federated credentials
  web                        host 'aws': as above, plus the change set that restores the previous site; other hosts: none
  local, container,          no cloud identity (container: a registry login to push)
  react-native
Examples:
  deploy-model permissions --target lambda --repo acme/ocr
  deploy-model permissions --target lambda --format policy --account 123456789012 > policy.json
  deploy-model permissions --target vertex --ci-provider gitlab --repo acme/ml/ocr --format setup
Recipes for GitHub Actions and GitLab CI: docs/ci.md in the deploy-model package.`)
    .action(async (opts: Opts) => {
      const [{ permissionDocument, resolveCiIdentity, resolveCloudIds, targetPermissions }, { renderDocument, renderPermissions }] = await Promise.all([
        import('../../permissions/index.js'), import('../render-permissions.js'),
      ]);
      // Options first: a typo fails before the config and the model are read.
      const identity = resolveCiIdentity({ provider: opts.ciProvider, repo: opts.repo, branch: opts.branch, pullRequests: opts.pullRequests, gitlabUrl: opts.gitlabUrl });
      const ids = resolveCloudIds({ account: opts.account, projectNumber: opts.projectNumber });
      const format = opts.format ?? 'text';
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const names = Object.keys(project.loaded.config.targets);
      if (!opts.target?.length) {
        throw new DeployModelError('PERMISSIONS_TARGET_REQUIRED',
          `permissions needs --target: the permissions differ per target. Fix: pass one of ${names.map((n) => `--target ${n}`).join(', ')}.`,
          { kind: 'usage', details: { known: names } });
      }
      const plans = await cli.toolkit.plan(project, opts.target);
      const reports: TargetPermissions[] = [];
      for (const plan of Object.values(plans)) reports.push(await targetPermissions(plan, { identity, ids, stage: project.loaded.stage }));

      if (cli.json || format === 'json') return cli.outJson({ targets: reports });
      if (format === 'text') return cli.out(reports.map((r) => renderPermissions(r, cli.style)).join('\n\n'));
      if (format === 'setup') {
        const empty = reports.find((r) => r.setup.length === 0);
        if (empty) permissionDocument(empty, 'setup');
        return cli.out(reports.map((r) => [`# ${r.target} (${r.type})`, ...r.setup].join('\n')).join('\n\n'));
      }
      if (reports.length !== 1) {
        throw new DeployModelError('PERMISSIONS_ONE_TARGET', `--format ${format} prints one document, for one target; got ${reports.length} targets. Fix: pass a single --target.`, { kind: 'usage' });
      }
      cli.out(renderDocument(permissionDocument(reports[0]!, format)));
    });
}
