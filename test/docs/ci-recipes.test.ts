/**
 * docs/ci.md's recipes are real: every YAML block parses and has the shape of a GitHub Actions
 * workflow or a GitLab CI pipeline (jobs, steps or scripts, OIDC, the JUnit report published);
 * every `deploy-model` command line in them and in the shell blocks uses a command and flags the
 * built CLI has (read from its `--help`, so a renamed flag fails here); the identities they sign in
 * as are the ones `deploy-model permissions` prints for the example config; and each document shown
 * after a `<!-- permissions: ARGS -->` marker is what the CLI prints for those arguments.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyModelBytes } from '../_helpers/onnx-models.js';
import { REPO, runCli } from '../_helpers/run-cli.js';

const DOC = path.join(REPO, 'docs/ci.md');
const text = readFileSync(DOC, 'utf8');

interface Block { lang: string; body: string; line: number; marker?: string }

/** The fenced code blocks, with the `<!-- permissions: ... -->` marker right before one, if any. */
function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const re = /(?:<!-- permissions: ([^>]*?) -->\n)?^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    blocks.push({ lang: m[2]!, body: m[3]!, line: markdown.slice(0, m.index).split('\n').length, ...(m[1] ? { marker: m[1] } : {}) });
  }
  return blocks;
}

const blocks = codeBlocks(text);
const yamlBlocks = blocks.filter((b) => b.lang === 'yaml').map((b) => ({ ...b, file: /^# (\S+)/.exec(b.body)?.[1] ?? '', doc: parseDocument(b.body) }));

// ---- the CLI's commands and options, from its help -------------------------------------------

interface CommandSpec { options: Map<string, { takesValue: boolean }>; positionals: number }
const specs = new Map<string, CommandSpec>();

/** `Commands:` of the top-level help: each command's name. */
async function commandNames(): Promise<string[]> {
  const run = await runCli(['--help']);
  expect(run.code, run.stderr).toBe(0);
  const section = run.stdout.split(/^Commands:$/m)[1]!.split(/^\S/m)[0]!;
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
}

/** A command's options (long and short names, whether each takes a value) and its positional arguments. */
async function commandSpec(name: string): Promise<CommandSpec> {
  const run = await runCli([name, '--help']);
  expect(run.code, run.stderr).toBe(0);
  const options = new Map<string, { takesValue: boolean }>();
  for (const m of run.stdout.matchAll(/^ {2}(?:(-\w), )?(--[\w-]+)( [<[][^>\]]+[>\]])?/gm)) {
    const spec = { takesValue: Boolean(m[3]) };
    options.set(m[2]!, spec);
    if (m[1]) options.set(m[1], spec);
  }
  const usage = /^Usage: deploy-model \S+ (.*)$/m.exec(run.stdout)?.[1] ?? '';
  return { options, positionals: (usage.replace('[options]', '').match(/[<[][^>\]]+[>\]]/g) ?? []).length };
}

/** The words of a shell command (quotes kept together, not interpreted further). */
const words = (line: string): string[] => line.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];

/**
 * Each `deploy-model ...` invocation in a script: in every simple command (split at `||`, `&&`,
 * `|`, `;`, `$(`) whose program, after variable assignments and `npx`, is deploy-model, the words
 * up to a redirection or a comment.
 */
export function invocations(script: string): string[][] {
  const out: string[][] = [];
  for (const line of script.split('\n')) {
    for (const command of line.split(/\|\||&&|\||;|\$\(/)) {
      const all = words(command);
      const start = all.findIndex((w) => !/^\w+=/.test(w) && w !== 'npx');
      if (all[start] !== 'deploy-model') continue;
      const rest = all.slice(start + 1);
      const end = rest.findIndex((w) => /^(\d?>|<|#)/.test(w));
      out.push(end === -1 ? rest : rest.slice(0, end));
    }
  }
  return out;
}

/** What is wrong with one invocation, against the CLI's commands and options; empty when nothing is. */
export function invocationProblems(args: string[], known: Map<string, CommandSpec>): string[] {
  const [command, ...rest] = args;
  const spec = command ? known.get(command) : undefined;
  if (!spec) return [`unknown command ${command ?? '(none)'}`];
  const problems: string[] = [];
  let positionals = 0;
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (word.startsWith('-')) {
      const [flag, inline] = word.split('=', 2) as [string, string | undefined];
      const option = spec.options.get(flag);
      if (!option) { problems.push(`${command}: unknown option ${flag}`); continue; }
      if (option.takesValue && inline === undefined) {
        if (i + 1 >= rest.length || rest[i + 1]!.startsWith('-')) problems.push(`${command}: ${flag} needs a value`);
        i++;
      }
      if (!option.takesValue && inline !== undefined) problems.push(`${command}: ${flag} takes no value`);
    } else if (++positionals > spec.positionals) {
      problems.push(`${command}: unexpected argument ${word}`);
    }
  }
  return problems;
}

// ---- the shapes of a GitHub workflow and a GitLab pipeline ------------------------------------

type Json = Record<string, any>;
const GITLAB_KEYWORDS = new Set(['stages', 'variables', 'default', 'workflow', 'include', 'image', 'services', 'before_script', 'after_script', 'cache']);
const JUNIT_REPORTERS = /^(mikepenz\/action-junit-report|dorny\/test-reporter)@v\d+$/;
const lines = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

function githubProblems(workflow: Json): string[] {
  const problems: string[] = [];
  if (!workflow.on || typeof workflow.on !== 'object') problems.push('no `on` triggers');
  if (workflow.permissions?.['id-token'] !== 'write') problems.push('permissions.id-token is not write (no OIDC token)');
  const jobs = Object.entries((workflow.jobs ?? {}) as Json);
  if (jobs.length === 0) problems.push('no jobs');
  for (const [name, job] of jobs) {
    if (!job['runs-on']) problems.push(`${name}: no runs-on`);
    if (!Array.isArray(job.steps) || job.steps.length === 0) { problems.push(`${name}: no steps`); continue; }
    for (const [i, step] of (job.steps as Json[]).entries()) {
      if (Boolean(step.uses) === Boolean(step.run)) problems.push(`${name}.steps[${i}]: needs exactly one of uses and run`);
      if (step.uses && !/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@v\d+$/.test(step.uses)) problems.push(`${name}.steps[${i}]: uses ${step.uses} is not pinned to a major version`);
    }
    const deploys = (job.steps as Json[]).flatMap((s) => lines(s.run)).flatMap(invocations).filter((a) => a[0] === 'deploy');
    for (const args of deploys) {
      const file = args[args.indexOf('--junit') + 1];
      if (!args.includes('--junit') || !file) { problems.push(`${name}: deploy without --junit`); continue; }
      const reporter = (job.steps as Json[]).find((s) => JUNIT_REPORTERS.test(String(s.uses ?? '')));
      if (!reporter) problems.push(`${name}: the JUnit report is not published`);
      else {
        if (reporter.if !== 'always()') problems.push(`${name}: the JUnit report is published only on success (if: always())`);
        if (reporter.with?.report_paths !== file && reporter.with?.path !== file) problems.push(`${name}: the reporter reads ${reporter.with?.report_paths ?? reporter.with?.path}, deploy writes ${file}`);
      }
    }
  }
  return problems;
}

/** A GitLab job with the keys of the jobs it extends (deep enough for id_tokens, variables, script). */
function resolvedJob(pipeline: Json, name: string, seen: string[] = []): Json {
  const job = pipeline[name] as Json;
  if (!job || seen.includes(name)) return {};
  const base = lines(job.extends).reduce<Json>((acc, parent) => ({ ...acc, ...resolvedJob(pipeline, parent, [...seen, name]) }), {});
  return { ...base, ...job };
}

function gitlabProblems(pipeline: Json): string[] {
  const problems: string[] = [];
  const stages = lines(pipeline.stages);
  const jobs = Object.keys(pipeline).filter((k) => !GITLAB_KEYWORDS.has(k) && !k.startsWith('.'));
  if (jobs.length === 0) problems.push('no jobs');
  for (const name of jobs) {
    for (const parent of lines(pipeline[name].extends)) if (!pipeline[parent]) problems.push(`${name}: extends ${parent}, which is not defined`);
    const job = resolvedJob(pipeline, name);
    if (lines(job.script).length === 0) problems.push(`${name}: no script`);
    if (!job.stage || !stages.includes(job.stage)) problems.push(`${name}: stage ${job.stage} is not in stages`);
    if (!job.id_tokens || Object.keys(job.id_tokens).length === 0) problems.push(`${name}: no id_tokens (no OIDC token)`);
    if (!Array.isArray(job.rules) || job.rules.length === 0) problems.push(`${name}: no rules (it would run in every pipeline)`);
    for (const args of lines(job.script).flatMap(invocations).filter((a) => a[0] === 'deploy')) {
      const file = args[args.indexOf('--junit') + 1];
      if (!args.includes('--junit') || !file) problems.push(`${name}: deploy without --junit`);
      else if (job.artifacts?.reports?.junit !== file) problems.push(`${name}: artifacts.reports.junit is ${job.artifacts?.reports?.junit}, deploy writes ${file}`);
      else if (job.artifacts?.when !== 'always') problems.push(`${name}: the report is kept only on success (artifacts.when: always)`);
    }
  }
  return problems;
}

/** Every script line of a recipe. */
function scriptsOf(file: string, body: Json): string[] {
  if (file.startsWith('.github/workflows/')) return Object.values((body.jobs ?? {}) as Json).flatMap((job: Json) => (job.steps as Json[] ?? []).flatMap((s) => lines(s.run)));
  const jobs = Object.entries(body).filter(([k]) => !GITLAB_KEYWORDS.has(k)).map(([, job]) => job as Json);
  return [...lines(body.before_script), ...lines(body.default?.before_script), ...jobs.flatMap((job) => [...lines(job.before_script), ...lines(job.script)])];
}

// ---- the tests ---------------------------------------------------------------------------------

let project: string;

beforeAll(async () => {
  const known = await commandNames();
  for (const [name, spec] of await Promise.all(known.map(async (n) => [n, await commandSpec(n)] as const))) specs.set(name, spec);
  // The example config of the doc, as a project: the TypeScript block without its import.
  project = await mkdtemp(path.join(os.tmpdir(), 'dm-ci-recipes-'));
  const config = blocks.find((b) => b.lang === 'ts' && b.body.includes('defineConfig('))!.body;
  await writeFile(path.join(project, 'deploy-model.config.ts'), config.replace(/^import .*\n/m, '').replace('defineConfig(', '('));
  await mkdir(path.join(project, 'models'));
  await writeFile(path.join(project, 'models/det.onnx'), tinyModelBytes('add'));
}, 120_000);

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe('docs/ci.md', { timeout: 120_000 }, () => {
  it('has a GitHub Actions workflow and a GitLab CI pipeline for AWS, Google Cloud and Azure', () => {
    const sections = text.split(/^## /m).slice(1);
    for (const cloud of ['AWS', 'Google Cloud', 'Azure']) {
      const section = sections.find((s) => s.startsWith(cloud));
      expect(section, `a section for ${cloud}`).toBeDefined();
      const files = yamlBlocks.filter((b) => section!.includes(b.body)).map((b) => b.file);
      expect(files.sort(), cloud).toEqual(['.github/workflows/deploy-model.yml', '.gitlab-ci.yml']);
    }
  });

  it('every YAML block parses and is a workflow or a pipeline of the right shape', () => {
    expect(yamlBlocks.length).toBe(6);
    for (const block of yamlBlocks) {
      const where = `docs/ci.md:${block.line} (${block.file})`;
      expect(block.doc.errors.map((e) => e.message), where).toEqual([]);
      const body = block.doc.toJS() as Json;
      if (block.file.startsWith('.github/workflows/')) expect(githubProblems(body), where).toEqual([]);
      else if (block.file === '.gitlab-ci.yml') expect(gitlabProblems(body), where).toEqual([]);
      else throw new Error(`${where}: a YAML block must start with '# .github/workflows/<name>.yml' or '# .gitlab-ci.yml'`);
    }
  });

  it('every deploy-model command line uses commands and flags the CLI has', () => {
    const scripts = [
      ...yamlBlocks.flatMap((b) => scriptsOf(b.file, b.doc.toJS() as Json)),
      ...blocks.filter((b) => b.lang === 'sh').map((b) => b.body),
      // Commands quoted in the prose, e.g. `deploy-model diff --ci --stage prod --target lambda`.
      ...[...text.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/`((?:npx )?deploy-model [^`]+)`/g)].map((m) => m[1]!.replace(/\\\|/g, '|')),
    ];
    const all = scripts.flatMap(invocations);
    expect(all.map((a) => a[0])).toEqual(expect.arrayContaining(['diff', 'deploy', 'permissions']));
    expect(all.flatMap((args) => invocationProblems(args, specs))).toEqual([]);
    // Each recipe runs diff and deploy, deploy with --ci --json --junit.
    for (const block of yamlBlocks) {
      const used = scriptsOf(block.file, block.doc.toJS() as Json).flatMap(invocations);
      expect(used.map((a) => a[0]).sort(), `docs/ci.md:${block.line}`).toEqual(['deploy', 'diff']);
      expect(used.find((a) => a[0] === 'deploy')).toEqual(expect.arrayContaining(['--ci', '--json', '--junit']));
    }
  });

  it('the checker refuses what the CLI does not have: an unknown command, a renamed flag, a missing value', () => {
    expect(invocationProblems(['ship'], specs)).toEqual(['unknown command ship']);
    expect(invocationProblems(['deploy', '--ci', '--junitt', 'x.xml'], specs)).toEqual(['deploy: unknown option --junitt', 'deploy: unexpected argument x.xml']);
    expect(invocationProblems(['deploy', '--junit'], specs)).toEqual(['deploy: --junit needs a value']);
    expect(invocationProblems(['diff', '--ci', '--stage', 'prod', '-t', 'lambda'], specs)).toEqual([]);
    expect(invocations('npx deploy-model diff --ci || [ $? -eq 1 ]\nnpx deploy-model deploy --json > r.json')).toEqual([['diff', '--ci'], ['deploy', '--json']]);
  });

  it('each document shown after a permissions marker is what the CLI prints', async () => {
    const marked = blocks.filter((b) => b.marker);
    expect(marked.length).toBeGreaterThan(0);
    for (const block of marked) {
      const run = await runCli(['permissions', ...words(block.marker!)], { cwd: project });
      expect(run.code, run.stderr).toBe(0);
      expect(block.body.trimEnd(), `docs/ci.md:${block.line}`).toBe(run.stdout.trimEnd());
    }
  });

  it('the recipes sign in as the identities `deploy-model permissions` sets up for the example', async () => {
    const permissions = async (...args: string[]) => {
      const run = await runCli(['permissions', '--stage', 'prod', '--repo', 'acme/ocr', '--pull-requests', '--json', ...args], { cwd: project });
      expect(run.code, run.stderr).toBe(0);
      return run.json().targets[0] as { setup: string[]; documents: Array<{ id: string; content: any }> };
    };
    const doc = (r: { documents: Array<{ id: string; content: any }> }, id: string) => r.documents.find((d) => d.id === id)!.content;
    const recipe = (cloud: string, file: string) => {
      const section = text.split(/^## /m).find((s) => s.startsWith(cloud))!;
      return yamlBlocks.find((b) => b.file === file && section.includes(b.body))!.body;
    };

    // AWS: the role the setup creates, and GitLab's audience in the trust policy.
    const [awsGithub, awsGitlab] = await Promise.all([permissions('--target', 'lambda', '--account', '123456789012'), permissions('--target', 'lambda', '--account', '123456789012', '--ci-provider', 'gitlab')]);
    const roleArn = /# The pipeline assumes (\S+)/.exec(awsGithub.setup.join('\n'))![1]!;
    expect(recipe('AWS', '.github/workflows/deploy-model.yml')).toContain(`AWS_ROLE: ${roleArn}`);
    expect(recipe('AWS', '.gitlab-ci.yml')).toContain(`AWS_ROLE_ARN: ${roleArn}`);
    const gitlabAud = doc(awsGitlab, 'trust').Statement[0].Condition.StringEquals['gitlab.com:aud'];
    expect(recipe('AWS', '.gitlab-ci.yml')).toContain(`aud: ${gitlabAud}`);

    // Google Cloud: the provider and service account, and the audience GitLab's token must carry.
    const [gcpGithub, gcpGitlab] = await Promise.all([permissions('--target', 'vertex', '--project-number', '123456789'), permissions('--target', 'vertex', '--project-number', '123456789', '--ci-provider', 'gitlab')]);
    expect(recipe('Google Cloud', '.github/workflows/deploy-model.yml')).toContain(`workload_identity_provider: ${doc(gcpGithub, 'trust').workloadIdentityProvider}`);
    expect(recipe('Google Cloud', '.github/workflows/deploy-model.yml')).toContain(`service_account: ${doc(gcpGithub, 'trust').serviceAccount}`);
    expect(recipe('Google Cloud', '.gitlab-ci.yml')).toContain(`aud: ${doc(gcpGitlab, 'trust').audience}`);
    expect(recipe('Google Cloud', '.gitlab-ci.yml')).toContain(`WIF_PROVIDER: //iam.googleapis.com/${doc(gcpGitlab, 'trust').workloadIdentityProvider}`);

    // Azure: the federated credential's audience is the token's.
    const azure = await permissions('--target', 'azure', '--ci-provider', 'gitlab');
    expect(recipe('Azure', '.gitlab-ci.yml')).toContain(`aud: ${doc(azure, 'trust')[0].audiences[0]}`);
  });

  it('diff exits 2, not 1, when it cannot compare: the recipes accept exit 1 as "something would change"', async () => {
    // GIVEN a config diff cannot load
    await writeFile(path.join(project, 'broken.config.mjs'), "export default { name: 'Not A Name', model: { path: './models/det.onnx' }, targets: {} };\n");
    // WHEN
    const run = await runCli(['diff', '--ci', '--config', 'broken.config.mjs', '--json'], { cwd: project });
    // THEN
    expect(run.code).toBe(2);
    expect(run.json().error.code).toBe('CONFIG_INVALID');
  });

  it('the README links the recipes', () => {
    expect(readFileSync(path.join(REPO, 'README.md'), 'utf8')).toMatch(/### In CI[\s\S]*\[docs\/ci\.md\]\(docs\/ci\.md\)/);
  });
});
