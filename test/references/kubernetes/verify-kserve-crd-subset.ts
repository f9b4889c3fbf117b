// Compares kserve-crd-subset.ts with KServe's CRD, field by field, when KServe is upgraded:
//   npx tsx test/references/kubernetes/verify-kserve-crd-subset.ts serving.kserve.io_inferenceservices.yaml
// The file is config/crd/full/serving.kserve.io_inferenceservices.yaml at the KServe tag in question;
// it is not kept in this repository. Prints each difference and exits 1 when there is one.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { PREDICTOR_SUBSET, type CrdSchema } from './kserve-crd-subset.js';

type Node = {
  type?: string; format?: string; enum?: string[]; required?: string[]; pattern?: string;
  properties?: Record<string, Node>; items?: Node; additionalProperties?: Node; 'x-kubernetes-int-or-string'?: boolean;
};

/** The differences between our subset and the CRD's schema at `path`. */
export function compareWithCrd(ours: CrdSchema, crd: Node | undefined, path: string): string[] {
  if (!crd) return [`${path}: not in the CRD`];
  const diff = (what: string) => [`${path}: ${what}`];
  switch (ours.type) {
    case 'string':
      if (crd.type !== 'string') return diff(`CRD type ${crd.type}, ours string`);
      return JSON.stringify(ours.enum ?? null) === JSON.stringify(crd.enum ?? null) ? [] : diff(`CRD enum ${JSON.stringify(crd.enum)}, ours ${JSON.stringify(ours.enum)}`);
    case 'integer':
      return crd.type === 'integer' && crd.format === ours.format ? [] : diff(`CRD ${crd.type}/${crd.format}, ours integer/${ours.format}`);
    case 'boolean':
      return crd.type === 'boolean' ? [] : diff(`CRD type ${crd.type}, ours boolean`);
    case 'int-or-string':
      return crd['x-kubernetes-int-or-string'] && !crd.pattern ? [] : diff('CRD is not a plain int-or-string');
    case 'quantity':
      return crd['x-kubernetes-int-or-string'] && crd.pattern ? [] : diff('CRD is not a quantity (int-or-string with a pattern)');
    case 'array':
      return crd.type === 'array' ? compareWithCrd(ours.items, crd.items, `${path}[]`) : diff(`CRD type ${crd.type}, ours array`);
    case 'map':
      return crd.type === 'object' && crd.additionalProperties ? compareWithCrd(ours.values, crd.additionalProperties, `${path}{}`) : diff('CRD has no additionalProperties');
    case 'object': {
      if (crd.type !== 'object') return diff(`CRD type ${crd.type}, ours object`);
      const out: string[] = [];
      const required = (r?: readonly string[]) => JSON.stringify([...(r ?? [])].sort());
      if (required(ours.required) !== required(crd.required)) out.push(`${path}: CRD requires ${required(crd.required)}, ours ${required(ours.required)}`);
      for (const [k, v] of Object.entries(ours.properties)) out.push(...compareWithCrd(v, crd.properties?.[k], `${path}.${k}`));
      return out;
    }
  }
}

if (process.argv[1]?.endsWith('verify-kserve-crd-subset.ts')) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: verify-kserve-crd-subset.ts <serving.kserve.io_inferenceservices.yaml>');
  const crd = parse(await readFile(file, 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Node } }[] } };
  const v1beta1 = crd.spec.versions.find((v) => v.name === 'v1beta1');
  const predictor = v1beta1?.schema.openAPIV3Schema.properties?.spec?.properties?.predictor;
  const differences = compareWithCrd(PREDICTOR_SUBSET, predictor, 'spec.predictor');
  for (const d of differences) process.stdout.write(`${d}\n`);
  process.stdout.write(differences.length ? `${differences.length} differences\n` : 'the subset matches the CRD\n');
  process.exitCode = differences.length ? 1 : 0;
}
