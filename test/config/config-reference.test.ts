import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { withConfigReference } from '../../src/config/config-reference.js';
import { configTypesSource } from '../../src/config/config-types-source.js';
import { configJsonSchema } from '../../src/config/json-schema.js';

describe('config reference', () => {
  it('the README reference is the one generated from the schema (run `npm run docs:config` after a schema change)', async () => {
    const readme = await readFile(path.resolve(__dirname, '../../README.md'), 'utf8');
    expect(withConfigReference(readme)).toBe(readme);
  });

  it('src/config/config-types.ts is the one generated from the schema (run `npm run docs:config`)', async () => {
    const file = await readFile(path.resolve(__dirname, '../../src/config/config-types.ts'), 'utf8');
    expect(file).toBe(configTypesSource());
  });

  it('an editor shows each field\'s description and default, and a misspelt field is reported on that field', async () => {
    // GIVEN a config with a typo, compiled against the package's own types
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-types-'));
    const file = path.join(dir, 'deploy-model.config.ts');
    const entry = path.resolve(__dirname, '../../src/config/define-config.ts');
    await writeFile(file, `import { defineConfig } from ${JSON.stringify(entry.replace(/\.ts$/, '.js'))};\nexport default defineConfig({ name: 'm', model: { path: './m.onnx' }, targets: { local: { type: 'local', prot: 8080 } } });\n`);
    const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file);
    // THEN one error, on the misspelt key, naming it: not "no overload matches this call"
    expect(diagnostics.map((d) => d.code)).toEqual([2353]);
    expect(ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, '\n')).toMatch(/'prot' does not exist in type 'LocalTargetInput'/);
    // AND hover text: the generated type carries the field's description and default
    const checker = program.getTypeChecker();
    const local = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(path.resolve(__dirname, '../../src/config/config-types.ts'))!)!).find((s) => s.name === 'LocalTargetInput')!;
    const timeout = checker.getDeclaredTypeOfSymbol(local).getProperty('timeoutSeconds')!;
    expect(ts.displayPartsToString(timeout.getDocumentationComment(checker))).toMatch(/^Per-request timeout, as on Lambda\. Default: 30\.$/);
    expect(timeout.getJsDocTags().map((t) => `${t.name} ${ts.displayPartsToString(t.text)}`)).toEqual(['default 30']);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('every optional field states its default in its description', () => {
    const missing: string[] = [];
    const walk = (s: any, at: string): void => {
      for (const [key, prop] of Object.entries<any>(s.properties ?? {})) {
        const required = s.required?.includes(key) && prop.default === undefined;
        if (!required && key !== 'type' && !/Default:/.test(prop.description ?? '') && !prop.properties) missing.push(`${at}${key}`);
        if (prop.properties) walk(prop, `${at}${key}.`);
      }
    };
    const schema: any = configJsonSchema();
    walk(schema, '');
    for (const t of schema.properties.targets.additionalProperties.oneOf) walk(t, `targets.<${t.properties.type.const}>.`);
    expect(missing).toEqual([]);
  });
});
