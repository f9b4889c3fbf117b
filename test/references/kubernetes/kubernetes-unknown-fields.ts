// kubernetes-models validates against the Kubernetes OpenAPI schema, but its schemas do not set
// `additionalProperties: false`: `new Deployment({ spec: { replica: 2 } }).validate()` passes, while
// `kubectl apply` refuses the unknown field (its default `--validate=strict` asks the API server for
// strict field validation, KEP-2885, GA in Kubernetes 1.27). This finds such fields with the same upstream schemas: the compiled validator reads
// every property its schema declares, so a key it never reads is one the schema does not have.
import { validate as validateDeployment } from 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment';
import { validate as validateHpa } from 'kubernetes-models/_schemas/IoK8sApiAutoscalingV2HorizontalPodAutoscaler';
import { validate as validatePodSpec } from 'kubernetes-models/_schemas/IoK8sApiCoreV1PodSpec';
import { validate as validateService } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Service';
import { isObject, type Violation } from './violation.js';

export type SchemaValidate = (data: unknown) => boolean;

export const KUBERNETES_SCHEMAS = { Deployment: validateDeployment, Service: validateService, HorizontalPodAutoscaler: validateHpa, PodSpec: validatePodSpec } as const;

/** Fields of `object` that the schema behind `validate` does not declare (rule `kubernetes-unknown-field`). */
export function unknownFields(validate: SchemaValidate, object: unknown): Violation[] {
  // One record and one proxy per object: the validator reads `data.spec` once to test it and again to
  // descend, and both reads must land on the same record.
  type Seen = { path: string; value: Record<string, unknown>; read: Set<string>; enumerated: boolean; proxy: object };
  const seen = new Map<object, Seen>();
  const wrap = (value: unknown, path: string): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    const known = seen.get(value);
    if (known) return known.proxy;
    const child = (key: string) => (Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key);
    const record = { path, value: value as Record<string, unknown>, read: new Set<string>(), enumerated: false } as Seen;
    record.proxy = new Proxy(value, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (typeof key !== 'string' || !Object.hasOwn(target, key)) return v;
        record.read.add(key);
        return wrap(v, child(key));
      },
      has(target, key) {
        if (typeof key === 'string') record.read.add(key);
        return Reflect.has(target, key);
      },
      // A map (labels, resources.requests) is walked key by key: every key is the schema's.
      ownKeys(target) {
        record.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    seen.set(value, record);
    return record.proxy;
  };
  validate(wrap(object, ''));
  return [...seen.values()]
    .filter((r) => isObject(r.value) && !r.enumerated)
    .flatMap((r) => Object.keys(r.value).filter((k) => !r.read.has(k)).map((k) => (r.path ? `${r.path}.${k}` : k)))
    .map((path) => ({ rule: 'kubernetes-unknown-field', path, message: 'is not a field of this type in the Kubernetes API schema' }));
}
