import type { Json } from './violation.js';

/**
 * The InferenceService deploy-model wrote before `kserve.mode` existed, for the `ocr-cls` input of
 * manifests.test.ts: the pod-level securityContext, PORT in env and scaleMetric cpu, with no mode.
 * Kept to show which rules it broke on a default (serverless) KServe install.
 */
export const EARLIER_INFERENCE_SERVICE: Json = {
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: { name: 'ocr-cls', labels: { 'app.kubernetes.io/name': 'ocr-cls', 'app.kubernetes.io/component': 'predictor', 'app.kubernetes.io/managed-by': 'deploy-model' } },
  spec: {
    predictor: {
      minReplicas: 2,
      maxReplicas: 6,
      scaleMetric: 'cpu',
      scaleTarget: 60,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'kserve-container',
        image: 'registry.example.com/ocr-cls:0123456789ab',
        imagePullPolicy: 'IfNotPresent',
        ports: [{ name: 'http1', containerPort: 8080, protocol: 'TCP' }],
        env: [{ name: 'PROTOCOL', value: 'v2' }, { name: 'PORT', value: '8080' }],
        resources: { requests: { cpu: '500m', memory: '768Mi' }, limits: { memory: '768Mi' } },
        readinessProbe: { httpGet: { path: '/v2/health/ready', port: 8080 }, periodSeconds: 5, failureThreshold: 2 },
        livenessProbe: { httpGet: { path: '/v2/health/live', port: 8080 }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
        securityContext: { runAsNonRoot: true, runAsUser: 10001, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      }],
    },
  },
};
