/**
 * Least permissions of a CI identity that deploys a gcp-vertex target, from the calls the driver
 * makes (src/targets/gcp-vertex/_vertex-api.ts, _upload.ts, _raw-predict-client.ts): Vertex AI
 * endpoints and models in the project, and the objects of the staging bucket. Long-running
 * operations are polled with the `.get` permission of their resource, as Vertex AI documents.
 * The identity is a service account that GitHub or GitLab pipelines impersonate through Workload
 * Identity Federation.
 */
import type { GcpVertexPlan } from '../targets/gcp-vertex/index.js';
import { deploySubject, identityArgs, oidcIssuer, placeholdersIn } from './ci-identity.js';
import type { CiIdentity, PermissionAction, PermissionsOptions, TargetPermissions } from './types.js';

/** The project-level custom role and the bucket-level one; role ids are per project, shared by the project's targets. */
export const GCP_ROLE_IDS = { vertex: 'deployModelVertex', staging: 'deployModelStaging' } as const;
export const WIF_POOL = 'deploy-model-ci';
export const CI_SERVICE_ACCOUNT = 'deploy-model-ci';

interface Need { permission: string; usedBy: string }

const VERTEX: readonly Need[] = [
  { permission: 'aiplatform.endpoints.list', usedBy: 'deploy, diff, status, smoke, invoke, destroy: finds the endpoint by its display name' },
  { permission: 'aiplatform.endpoints.get', usedBy: 'deploy, destroy: reads the endpoint and polls its operations' },
  { permission: 'aiplatform.endpoints.create', usedBy: 'deploy: the endpoint, and the smoke-test endpoint a new version is tried on' },
  { permission: 'aiplatform.endpoints.deploy', usedBy: 'deploy: puts a model version on replicas' },
  { permission: 'aiplatform.endpoints.undeploy', usedBy: 'deploy (retires the old version, empties the smoke-test endpoint), destroy' },
  { permission: 'aiplatform.endpoints.update', usedBy: 'deploy: moves traffic to the version that passed its smoke test' },
  { permission: 'aiplatform.endpoints.predict', usedBy: 'deploy (the smoke test, RawPredict), smoke, invoke' },
  { permission: 'aiplatform.endpoints.delete', usedBy: 'deploy (removes the smoke-test endpoint), destroy' },
  { permission: 'aiplatform.models.upload', usedBy: 'deploy: registers the Triton repository as a model' },
  { permission: 'aiplatform.models.list', usedBy: 'deploy, destroy: finds the target\'s models by their labels' },
  { permission: 'aiplatform.models.get', usedBy: 'deploy (polls the upload, reads the model it deploys), destroy' },
  { permission: 'aiplatform.models.delete', usedBy: 'deploy (retired versions), destroy' },
];

const STAGING: readonly Need[] = [
  { permission: 'storage.objects.list', usedBy: 'deploy (skips files already uploaded), destroy' },
  { permission: 'storage.objects.create', usedBy: 'deploy: uploads the Triton repository' },
  { permission: 'storage.objects.delete', usedBy: 'destroy: deletes the uploaded repositories (and replacing an object needs it)' },
];

/** The Workload Identity Federation provider: issuer, claims mapped to attributes, and who may use it. */
export function wifProvider(identity: CiIdentity): { id: string; issuerUri: string; attributeMapping: Record<string, string>; attributeCondition: string; principalSetAttribute: string } {
  if (identity.provider === 'github') {
    const ref = `assertion.ref=='refs/heads/${identity.branch}'`;
    return {
      id: 'github',
      issuerUri: oidcIssuer(identity),
      attributeMapping: { 'google.subject': 'assertion.sub', 'attribute.repository': 'assertion.repository', 'attribute.ref': 'assertion.ref', 'attribute.event_name': 'assertion.event_name' },
      attributeCondition: `assertion.repository=='${identity.repository}' && ${identity.pullRequests ? `(${ref} || assertion.event_name=='pull_request')` : ref}`,
      principalSetAttribute: `attribute.repository/${identity.repository}`,
    };
  }
  return {
    id: 'gitlab',
    issuerUri: oidcIssuer(identity),
    attributeMapping: { 'google.subject': 'assertion.sub', 'attribute.project_path': 'assertion.project_path', 'attribute.ref': 'assertion.ref', 'attribute.ref_type': 'assertion.ref_type' },
    attributeCondition: `assertion.project_path=='${identity.repository}' && assertion.ref_type=='branch'${identity.pullRequests ? '' : ` && assertion.ref=='${identity.branch}'`}`,
    principalSetAttribute: `attribute.project_path/${identity.repository}`,
  };
}

function role(title: string, description: string, needs: readonly Need[]) {
  return { title, description, stage: 'GA', includedPermissions: needs.map((n) => n.permission) };
}

export function gcpVertexPermissions(plan: GcpVertexPlan, options: PermissionsOptions): TargetPermissions {
  const { identity, ids } = options;
  const { project } = plan;
  const bucket = /^gs:\/\/([^/]+)/.exec(plan.names.stagingRoot)?.[1] ?? '';
  const number = ids.gcpProjectNumber;
  const provider = wifProvider(identity);
  const serviceAccount = `${CI_SERVICE_ACCOUNT}@${project}.iam.gserviceaccount.com`;
  const poolName = `projects/${number}/locations/global/workloadIdentityPools/${WIF_POOL}`;
  const principalSet = `principalSet://iam.googleapis.com/${poolName}/${provider.principalSetAttribute}`;
  const vertexRole = role('deploy-model Vertex AI', 'What deploy-model calls to deploy, check and remove Vertex AI endpoints and models.', VERTEX);
  const stagingRole = role('deploy-model staging', 'What deploy-model calls on the objects of its staging bucket.', STAGING);
  const trust = {
    workloadIdentityPool: poolName,
    workloadIdentityProvider: `${poolName}/providers/${provider.id}`,
    issuerUri: provider.issuerUri,
    attributeMapping: provider.attributeMapping,
    attributeCondition: provider.attributeCondition,
    serviceAccount,
    // The principals that may impersonate the service account (roles/iam.workloadIdentityUser).
    member: principalSet,
    ...(identity.provider === 'gitlab' ? { audience: `https://iam.googleapis.com/${poolName}/providers/${provider.id}` } : {}),
  };
  const args = `--target ${plan.targetName}${options.stage === 'dev' ? '' : ` --stage ${options.stage}`}`;
  const idArgs = identityArgs(identity, number === 'PROJECT_NUMBER' ? [] : ['--project-number', number]);
  const mapping = Object.entries(provider.attributeMapping).map(([k, v]) => `${k}=${v}`).join(',');
  const setup = [
    `npx deploy-model permissions ${args} --format policy ${idArgs} > vertex-role.yaml`,
    `npx deploy-model permissions ${args} --format bucket-role ${idArgs} > staging-role.yaml`,
    `# The custom roles (once per project; \`gcloud iam roles update\` when deploy-model needs more).`,
    `gcloud iam roles create ${GCP_ROLE_IDS.vertex} --project=${project} --file=vertex-role.yaml`,
    `gcloud iam roles create ${GCP_ROLE_IDS.staging} --project=${project} --file=staging-role.yaml`,
    `# The service account CI acts as, with the roles: Vertex AI in the project, objects in the staging bucket only.`,
    `gcloud iam service-accounts create ${CI_SERVICE_ACCOUNT} --project=${project} --display-name="deploy-model CI"`,
    `gcloud projects add-iam-policy-binding ${project} --member=serviceAccount:${serviceAccount} --role=projects/${project}/roles/${GCP_ROLE_IDS.vertex} --condition=None`,
    `gcloud storage buckets add-iam-policy-binding gs://${bucket} --member=serviceAccount:${serviceAccount} --role=projects/${project}/roles/${GCP_ROLE_IDS.staging}`,
    `# Workload Identity Federation: the pool, the ${identity.provider === 'github' ? 'GitHub' : 'GitLab'} provider, and who may impersonate the service account.`,
    `gcloud iam workload-identity-pools create ${WIF_POOL} --project=${project} --location=global --display-name="deploy-model CI"`,
    `gcloud iam workload-identity-pools providers create-oidc ${provider.id} --project=${project} --location=global --workload-identity-pool=${WIF_POOL} --issuer-uri="${provider.issuerUri}" --attribute-mapping="${mapping}" --attribute-condition="${provider.attributeCondition}"`,
    `gcloud iam service-accounts add-iam-policy-binding ${serviceAccount} --project=${project} --role=roles/iam.workloadIdentityUser --member="${principalSet}"`,
  ];
  const actions: PermissionAction[] = [
    ...VERTEX.map((n) => ({ action: n.permission, resource: `projects/${project} (${plan.names.parent}/endpoints, /models)`, usedBy: n.usedBy })),
    ...STAGING.map((n) => ({ action: n.permission, resource: `gs://${bucket} (${plan.names.stagingRoot}/)`, usedBy: n.usedBy })),
  ];
  const placeholders = placeholdersIn([JSON.stringify(trust)]);
  return {
    target: plan.targetName,
    type: plan.type,
    cloud: 'gcp',
    summary: `A service account for CI (${serviceAccount}) with a custom Vertex AI role in project ${project} and a custom object role on gs://${bucket}, impersonated by ${deploySubject(identity)}${identity.pullRequests ? ' and its pull/merge requests' : ''} through Workload Identity Federation.`,
    actions,
    documents: [
      { id: 'policy', title: `Custom role ${GCP_ROLE_IDS.vertex} (gcloud iam roles create --file), granted on project ${project}`, format: 'yaml', content: vertexRole },
      { id: 'bucket-role', title: `Custom role ${GCP_ROLE_IDS.staging}, granted on gs://${bucket} only`, format: 'yaml', content: stagingRole },
      { id: 'trust', title: 'Workload Identity Federation: the provider and the principals that may impersonate the service account', format: 'json', content: trust },
    ],
    setup,
    notes: [
      'Vertex AI deploys the model with its own service agent, which reads the repository from the staging bucket and pulls the serving image; in the same project it may by default. A bucket or an Artifact Registry repository in another project must grant service-PROJECT_NUMBER@gcp-sa-aiplatform.iam.gserviceaccount.com read access.',
      'Vertex AI grants endpoint and model permissions per project (IAM conditions cannot name an endpoint), so the role covers the project\'s endpoints and models; deploy-model only touches those with its labels (deploy-model-name, -stage, -target).',
      `The pipeline authenticates with workload identity provider ${poolName}/providers/${provider.id} and service account ${serviceAccount}.`,
      ...(placeholders.length ? [`Replace ${placeholders.join(', ')} (or pass ${placeholders.map((p) => (p === 'PROJECT_NUMBER' ? '--project-number' : '--repo')).join(', ')}).`] : []),
    ],
  };
}
