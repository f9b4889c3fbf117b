/** The deploy-model command line: the program, its commands, and the one place that runs them. */
import { Command } from 'commander';
import { registerInspect } from './commands/inspect.js';
import { registerValidate } from './commands/validate.js';
import { registerSchema } from './commands/schema.js';
import { registerInit } from './commands/init.js';
import { registerDeploy } from './commands/deploy.js';
import { registerManage } from './commands/manage.js';
import { registerPlan } from './commands/plan.js';
import { registerServe } from './commands/serve.js';
import { registerBench } from './commands/bench.js';
import { registerPermissions } from './commands/permissions.js';
import { registerLogs } from './commands/logs.js';
import { registerGolden } from './commands/golden.js';
import { registerRollback } from './commands/rollback.js';
import { runMain } from './run-main.js';
import { loadToolkit } from './context.js';
import { packageVersion } from '../package-root.js';


export function createProgram(): Command {
  const program = new Command('deploy-model')
    .description('Deploy an ONNX model from one typed config: local, AWS Lambda, SageMaker, Vertex AI, Azure ML, containers.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText('after', `
Exit codes: 0 ok, 1 a failure you can fix (invalid config, failed smoke test), 2 usage error, 70 internal error.
Docs: the README of the deploy-model package.`);
  program.configureHelp({ sortSubcommands: false });
  // Command modules hold only their options and help, and import what they run when they run:
  // `--help` and `--version` load none of it. The toolkit (schema, planners) loads before an action.
  program.hook('preAction', loadToolkit);
  registerInit(program);
  registerInspect(program);
  registerValidate(program);
  registerSchema(program);
  registerPlan(program);
  registerManage(program);
  registerDeploy(program);
  registerRollback(program);
  registerGolden(program);
  registerServe(program);
  registerBench(program);
  registerPermissions(program);
  registerLogs(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

await runMain(createProgram(), process.argv);
