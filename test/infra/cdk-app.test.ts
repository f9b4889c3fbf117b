import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZipContents } from '../../infra/_zip-contents.js';
import { tinyModelBytes } from '../_helpers/onnx-models.js';
import { cfnLintMissing, runCfnLint, type CfnLintFinding } from '../references/aws/run-cfn-lint.js';
import { topLevelAwaits } from './_module-graph.js';

// GIVEN deploy-model packed as a user gets it (`npm pack`), unpacked into the node_modules of two
// new CDK projects laid out as `cdk init app --language typescript` lays them out (its
// package.json, tsconfig and cdk.json app command): one CommonJS (no "type"), one ESM. Their other
// packages are links to this repository's node_modules: installing deploy-model's dependency tree
// takes minutes and most of a gigabyte, and onnxruntime-node's install step downloads GPU
// libraries from outside the npm registry unless ONNXRUNTIME_NODE_INSTALL=skip is set.
// WHEN each project runs its cdk.json app command (`npx tsc && npx tsx bin/app.ts`) the way the CDK
// CLI does (CDK_OUTDIR set, so the app synthesises when it exits), with no deploy-model config and
// no `deploy-model build`
// THEN the README's example, verbatim, synthesises in both, its assets are built, and cfn-lint
// finds no error in any template.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** The ```ts block after `<!-- cdk-app-example ... -->` in a Markdown file, verbatim. */
function example(file: string): string {
  const text = readFileSync(path.join(repoRoot, file), 'utf8');
  const match = /<!-- cdk-app-example[^>]*-->\n```ts\n([\s\S]*?)\n```/.exec(text);
  if (!match) throw new Error(`${file} has no <!-- cdk-app-example --> block`);
  return `${match[1]}\n`;
}

/** cdk init's tsconfig for a TypeScript app (aws-cdk's init-templates/app/typescript), without jest's types. */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['es2022'], declaration: true, strict: true,
    noImplicitAny: true, strictNullChecks: true, noImplicitThis: true, alwaysStrict: true, noUnusedLocals: false, noUnusedParameters: false,
    noImplicitReturns: true, noFallthroughCasesInSwitch: false, inlineSourceMap: true, inlineSources: true, experimentalDecorators: true,
    strictPropertyInitialization: false, skipLibCheck: true, typeRoots: ['./node_modules/@types'], noEmit: true, isolatedModules: true, types: ['node'],
  },
  exclude: ['node_modules', 'cdk.out'],
};
/** cdk init's app command. */
const APP_COMMAND = 'npx tsc && npx tsx bin/app.ts';

const KINDS = ['commonjs', 'module'] as const;
type Kind = (typeof KINDS)[number];

interface Project {
  readonly dir: string;
  readonly outdir: string;
}

const missingLint = cfnLintMissing();
let root: string;
let projects: Record<Kind, Project>;
/** The SageMaker example of docs/sagemaker.md, synthesised in the ESM project. */
let sageMakerOut: string;
let findings: CfnLintFinding[];
let timings: Record<string, number>;

function env(project: Project, outdir = project.outdir): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // The Node running the tests runs the app; npx finds tsc and tsx in the project.
    PATH: [path.dirname(process.execPath), path.join(project.dir, 'node_modules', '.bin'), process.env.PATH].join(path.delimiter),
    CDK_OUTDIR: outdir,
    XDG_CACHE_HOME: path.join(root, 'cache'),
    // cfn-lint checks the templates below; CDK's own validation would add seconds per synth.
    CDK_VALIDATION: 'false',
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  };
}

async function shell(command: string, cwd: string, environment: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run('sh', ['-c', command], { cwd, env: environment, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`\`${command}\` failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** A new CDK project of one module kind, deploy-model unpacked from the tarball, the rest linked. */
async function newProject(kind: Kind, tarball: string): Promise<Project> {
  const dir = path.join(root, kind);
  const modules = path.join(dir, 'node_modules');
  mkdirSync(path.join(modules, 'deploy-model'), { recursive: true });
  for (const name of readdirSync(path.join(repoRoot, 'node_modules'))) {
    if (name.startsWith('.') && name !== '.bin') continue;
    symlinkSync(path.join(repoRoot, 'node_modules', name), path.join(modules, name));
  }
  await run('tar', ['-xzf', tarball, '-C', path.join(modules, 'deploy-model'), '--strip-components=1']);
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({
    name: `cdk-${kind}`, version: '0.1.0', private: true, ...(kind === 'module' ? { type: 'module' } : {}), bin: { app: 'bin/app.js' },
    scripts: { build: 'tsc', cdk: 'cdk' },
  }, null, 2)}\n`);
  writeFileSync(path.join(dir, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  writeFileSync(path.join(dir, 'cdk.json'), `${JSON.stringify({ app: APP_COMMAND }, null, 2)}\n`);
  mkdirSync(path.join(dir, 'bin'));
  writeFileSync(path.join(dir, 'bin', 'app.ts'), example('README.md'));
  mkdirSync(path.join(dir, 'models'));
  writeFileSync(path.join(dir, 'models', 'det.onnx'), tinyModelBytes('add'));
  return { dir, outdir: path.join(dir, 'cdk.out') };
}

async function timed(what: string, step: () => Promise<void>): Promise<void> {
  const started = Date.now();
  await step();
  timings[what] = Date.now() - started;
}

beforeAll(async () => {
  for (const file of ['dist/infra/index.js', 'dist/infra/asset-builder.js']) {
    if (!existsSync(path.join(repoRoot, file))) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
  }
  timings = {};
  root = mkdtempSync(path.join(tmpdir(), 'dm-cdk-app-'));
  // --ignore-scripts: `prepare` would compile again; npm test has just built dist/.
  let tarball = '';
  await timed('npm pack', async () => {
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
    tarball = path.join(root, (JSON.parse(stdout) as Array<{ filename: string }>)[0].filename);
  });
  projects = { commonjs: await newProject('commonjs', tarball), module: await newProject('module', tarball) };
  // The ESM project also holds the SageMaker example; its app command's tsc checks both files.
  const esm = projects.module;
  writeFileSync(path.join(esm.dir, 'bin', 'sagemaker.ts'), example('docs/sagemaker.md'));
  sageMakerOut = path.join(esm.dir, 'cdk.out.sagemaker');
  // One after the other: the first builds the onnxruntime layer, the second finds it in the cache.
  for (const kind of KINDS) await timed(`synth ${kind}`, () => shell(APP_COMMAND, projects[kind].dir, env(projects[kind])));
  await timed('synth sagemaker', () => shell('npx tsx bin/sagemaker.ts', esm.dir, env(esm, sageMakerOut)));
  if (!missingLint) {
    await timed('cfn-lint', async () => {
      findings = await runCfnLint([...KINDS.map((k) => path.join(projects[k].outdir, 'OcrDet.template.json')), path.join(sageMakerOut, 'Ocr.template.json')], ['eu-west-1', 'us-east-1']);
    });
  }
}, 600_000);

afterAll(() => {
  if (timings) console.info(`cdk-app timings (ms): ${JSON.stringify(timings)}`);
  if (root) rmSync(root, { recursive: true, force: true });
});

interface AssetManifest { files: Record<string, { displayName?: string; source: { path: string; packaging: string } }> }

function stagedAssets(outdir: string, stack: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(path.join(outdir, `${stack}.assets.json`), 'utf8')) as AssetManifest;
  return Object.fromEntries(Object.values(manifest.files).map((f) => [f.displayName ?? '', path.join(outdir, f.source.path)]));
}

function resources(outdir: string, stack: string): Array<{ Type: string; Properties?: Record<string, unknown> }> {
  return Object.values((JSON.parse(readFileSync(path.join(outdir, `${stack}.template.json`), 'utf8')) as { Resources: Record<string, { Type: string }> }).Resources);
}

describe('the README example in a new CDK app', () => {
  it.each(KINDS)('synthesises in a %s project', (kind) => {
    const { outdir } = projects[kind];
    const types = resources(outdir, 'OcrDet').map((r) => r.Type);
    for (const type of ['AWS::Lambda::Function', 'AWS::Lambda::LayerVersion', 'AWS::Lambda::Alias', 'AWS::Lambda::Url', 'AWS::IAM::Role']) expect(types).toContain(type);
    const fn = resources(outdir, 'OcrDet').find((r) => r.Type === 'AWS::Lambda::Function')!;
    expect(fn.Properties).toMatchObject({ Architectures: ['arm64'], Handler: 'index.handler', Environment: { Variables: { DM_MODEL_NAME: 'det' } } });
  });

  it.each(KINDS)('builds the function zip (bundled handler + model) and the arm64 onnxruntime layer in a %s project', (kind) => {
    const assets = stagedAssets(projects[kind].outdir, 'OcrDet');
    const fn = readZipContents(assets['Det/Code']).names.sort();
    expect(fn).toEqual(['index.mjs', 'model/model.onnx', 'model/signature.json']);
    const layer = readZipContents(assets['OnnxRuntimeLayer-arm64/Code']).names;
    expect(layer).toContain('nodejs/node_modules/onnxruntime-node/package.json');
    expect(layer.filter((n) => n.endsWith('.node'))).toEqual(['nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node']);
  });

  it('gives the same assets the same hashes in both projects', () => {
    const names = (kind: Kind) => Object.values(stagedAssets(projects[kind].outdir, 'OcrDet')).map((p) => path.basename(p)).sort();
    expect(names('module')).toEqual(names('commonjs'));
  });

  it('synthesises the SageMaker example of docs/sagemaker.md, its Triton archive built from the model', () => {
    const types = resources(sageMakerOut, 'Ocr').map((r) => r.Type);
    expect(types).toEqual(expect.arrayContaining(['AWS::SageMaker::Model', 'AWS::SageMaker::EndpointConfig', 'AWS::SageMaker::Endpoint', 'AWS::ApplicationAutoScaling::ScalableTarget']));
    expect(path.basename(stagedAssets(sageMakerOut, 'Ocr')['Ocr/Det/ModelArchive'])).toMatch(/^asset\.[0-9a-f]{64}\.tar\.gz$/);
  });

  it.skipIf(missingLint)('passes cfn-lint with no error, and no warning but the accepted ones', () => {
    // The findings test/references/aws/cfn-lint.test.ts accepts, for the same reasons: aws-cdk-lib's
    // lambda.Function adds a DependsOn on its role besides the GetAtt of its Arn (W3005, the same
    // order either way), and writes ARNs (the example's AccountRootPrincipal, Stack.formatArn in
    // the endpoint's policy) as Fn::Join, where cfn-lint would rather see Fn::Sub (I1022, style).
    const seen = findings.map((f) => `${path.basename(f.template)} ${f.rule} ${f.resourceType} ${f.path.split('/').slice(2).join('/')}`).sort();
    expect(findings.filter((f) => f.level === 'Error')).toEqual([]);
    const lambdaStack = [
      'OcrDet.template.json I1022 AWS::IAM::Role Properties/AssumeRolePolicyDocument/Statement/0/Principal/AWS/Fn::Join/0',
      'OcrDet.template.json W3005 AWS::Lambda::Function DependsOn/0',
    ];
    expect(seen).toEqual([
      ...lambdaStack, ...lambdaStack,
      'Ocr.template.json I1022 AWS::IAM::Role Properties/Policies/0/PolicyDocument/Statement/0/Resource/Fn::Join/0',
      'Ocr.template.json I1022 AWS::IAM::Role Properties/Policies/0/PolicyDocument/Statement/1/Resource/Fn::Join/0',
    ].sort());
  });
});

describe('deploy-model/cdk as a CommonJS app loads it', () => {
  it('require() from plain Node, with no loader or compiler in between', async () => {
    // WHEN a CommonJS file of the project requires the package (Node's require of an ES module)
    const script = "const cdk = require('deploy-model/cdk'); console.log(JSON.stringify(Object.keys(cdk).sort()));";
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: projects.commonjs.dir });

    // THEN every construct and builder is there
    expect(JSON.parse(stdout)).toEqual(expect.arrayContaining([
      'OnnxModelFunction', 'OnnxRuntimeLayer', 'TritonSageMakerEndpoint', 'buildModelFunctionZip', 'buildOnnxRuntimeLayerZip', 'buildTritonModelArchive', 'DeployModelError',
    ]));
  });

  it('has no top-level await anywhere in its import graph, which require() of an ES module refuses on every Node version', () => {
    // GIVEN the package's ./cdk entry as installed
    const pkgDir = path.join(projects.commonjs.dir, 'node_modules', 'deploy-model');
    const entry = path.join(pkgDir, (JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> }).exports['./cdk'].default);

    // WHEN
    const graph = topLevelAwaits(entry);

    // THEN
    expect(graph.awaits).toEqual([]);
    expect(graph.esmFiles).toBeGreaterThan(50);
  });

  it('the import graph check finds a top-level await two imports away', () => {
    // GIVEN an entry that imports a module that imports one with a top-level await
    const dir = mkdtempSync(path.join(tmpdir(), 'dm-tla-'));
    writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(path.join(dir, 'entry.js'), "export * from './middle.js';\nexport async function later() { await 1; }\n");
    writeFileSync(path.join(dir, 'middle.js'), "import './waits.js';\nexport const x = 1;\n");
    writeFileSync(path.join(dir, 'waits.js'), 'const config = await Promise.resolve(1);\nexport default config;\n');

    // WHEN / THEN only the module-level await counts
    try {
      expect(topLevelAwaits(path.join(dir, 'entry.js')).awaits).toEqual([`${realpathSync(path.join(dir, 'waits.js'))}:1`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
