/**
 * The targets that need no cloud identity: local runs here; container needs a registry login to
 * push; react-native builds a package for the app; web off AWS builds a folder the user publishes.
 */
import type { ContainerPlan } from '../targets/container/index.js';
import type { LocalPlan } from '../targets/local/index.js';
import type { RnPlan } from '../targets/react-native/index.js';
import type { WebPlan } from '../targets/web/index.js';
import type { TargetPermissions } from './types.js';

export function localPermissions(plan: LocalPlan): TargetPermissions {
  return {
    target: plan.targetName, type: plan.type, cloud: 'none',
    summary: 'Runs on this machine under the local Lambda emulator: no cloud account, identity or permission. A CI job needs Node, the model file and nothing else.',
    actions: [], documents: [], setup: [], notes: [],
  };
}

/** The registry host of an image reference: its first segment when that names a host, else Docker Hub. */
export function registryHost(repository: string): string {
  const first = repository.split('/')[0]!;
  return repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/** How to log in to the well-known cloud registries with the CI's cloud identity instead of a stored password. */
function registryLoginHint(host: string, repository: string): string | undefined {
  const ecr = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
  if (ecr) {
    const repo = repository.slice(host.length + 1);
    return `Amazon ECR: \`aws ecr get-login-password --region ${ecr[2]} | docker login --username AWS --password-stdin ${host}\`; the CI role needs ecr:GetAuthorizationToken (resource *) and ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage, ecr:BatchGetImage on arn:aws:ecr:${ecr[2]}:${ecr[1]}:repository/${repo}.`;
  }
  if (/-docker\.pkg\.dev$/.test(host)) return `Artifact Registry: \`gcloud auth configure-docker ${host}\` (or \`gcloud auth print-access-token | docker login -u oauth2accesstoken --password-stdin https://${host}\`); the CI service account needs roles/artifactregistry.writer on the repository.`;
  if (/\.azurecr\.io$/.test(host)) return `Azure Container Registry: \`az acr login --name ${host.split('.')[0]}\`; the CI identity needs the AcrPush role on the registry.`;
  return undefined;
}

export function containerPermissions(plan: ContainerPlan): TargetPermissions {
  const { image } = plan;
  const host = registryHost(image.repository);
  const base = registryHost(image.baseImage);
  const hint = image.push ? registryLoginHint(host, image.repository) : undefined;
  return {
    target: plan.targetName, type: plan.type, cloud: 'none',
    summary: image.push
      ? `Builds the image with docker, podman or buildah and pushes it to ${image.repository}: no cloud permission, a registry login on ${host} with the right to push to that repository.`
      : 'Builds and runs the image on this machine: no cloud permission and no registry login (nothing is pushed; set `push` to push).',
    actions: [],
    documents: [],
    setup: image.push ? [`docker login ${host}   # or: podman login ${host}; with a token that may push to ${image.repository}`] : [],
    notes: [
      ...(hint ? [hint] : []),
      `The build pulls the base image ${image.baseImage}${base === host && image.push ? '' : ` from ${base}`}; a private base image needs a login there too.`,
    ],
  };
}

export function reactNativePermissions(plan: RnPlan): TargetPermissions {
  return {
    target: plan.targetName, type: plan.type, cloud: 'none',
    summary: 'Builds a package (a typed client, the model asset, Metro and Expo settings) that the app\'s own build ships: no cloud account, identity or permission.',
    actions: [], documents: [], setup: [], notes: [],
  };
}

/** The web target anywhere but on AWS (which is a CDK stack, see aws-permissions.ts). */
export function webHostPermissions(plan: WebPlan): TargetPermissions {
  return {
    target: plan.targetName, type: plan.type, cloud: 'none',
    summary: plan.host === 'local'
      ? 'Serves the bundle on 127.0.0.1 and smoke-tests it in headless Chromium: no cloud account, identity or permission.'
      : `Builds the bundle and the header file ${plan.host} reads; publishing the folder is ${plan.host}'s own step, with its own token: deploy-model calls no cloud.`,
    actions: [], documents: [], setup: [], notes: [],
  };
}
