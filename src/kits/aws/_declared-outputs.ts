/** The outputs a synthesised stack declares, read from its cloud assembly. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ManifestJson {
  artifacts?: Record<string, { type?: string; properties?: { templateFile?: string; stackName?: string } }>;
}

interface TemplateJson {
  Outputs?: Record<string, { Condition?: string }>;
}

/**
 * The outputs a stack's synthesised template declares without a `Condition`: CloudFormation
 * returns every one of them once the stack is deployed. Read from the cloud assembly's
 * `manifest.json`; empty when the assembly does not name the stack.
 */
export function declaredOutputs(assemblyDir: string, stackName: string): string[] {
  const manifestFile = path.join(assemblyDir, 'manifest.json');
  if (!existsSync(manifestFile)) return [];
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as ManifestJson;
  const stack = Object.entries(manifest.artifacts ?? {}).find(([id, a]) =>
    a.type === 'aws:cloudformation:stack' && (a.properties?.stackName ?? id) === stackName)?.[1];
  const templateFile = stack?.properties?.templateFile;
  if (!templateFile) return [];
  const template = JSON.parse(readFileSync(path.join(assemblyDir, templateFile), 'utf8')) as TemplateJson;
  return Object.entries(template.Outputs ?? {}).filter(([, o]) => !o.Condition).map(([key]) => key);
}
