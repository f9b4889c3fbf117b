import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const modulesDir = fileURLToPath(new URL('../../../node_modules/', import.meta.url));

/** Type declarations of installed packages, for generated code type-checked outside the project. */
export const PACKAGE_TYPES = {
  'onnxruntime-web': path.join(modulesDir, 'onnxruntime-web/types.d.ts'),
  'onnxruntime-react-native': path.join(modulesDir, 'onnxruntime-react-native/dist/typescript/index.d.ts'),
} as const;

export interface TypecheckOptions {
  /** @default ['ES2022', 'DOM'] (a browser) */
  lib?: string[];
  /** Package name to its declaration file. @default {} */
  paths?: Record<string, string>;
  /** Extra compiler options. */
  compilerOptions?: ts.CompilerOptions;
}

/**
 * Type-checks files (name to TypeScript source) with the TypeScript compiler, strict, in a temp
 * folder, and returns the diagnostics as `file(line,col): message` lines; empty when they compile.
 */
export function typecheck(files: Record<string, string>, options: TypecheckOptions = {}): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'dm-typecheck-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
    }
    const program = ts.createProgram(Object.keys(files).filter((f) => /\.tsx?$/.test(f)).map((f) => path.join(dir, f)), {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: (options.lib ?? ['ES2022', 'DOM']).map((l) => `lib.${l.toLowerCase()}.d.ts`),
      types: [],
      skipLibCheck: true,
      noUncheckedIndexedAccess: true,
      paths: Object.fromEntries(Object.entries(options.paths ?? {}).map(([k, v]) => [k, [v]])),
      ...options.compilerOptions,
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file && d.start !== undefined ? (() => {
        const { line, character } = d.file!.getLineAndCharacterOfPosition(d.start!);
        return `${path.relative(dir, d.file!.fileName)}(${line + 1},${character + 1}): `;
      })() : '';
      return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
