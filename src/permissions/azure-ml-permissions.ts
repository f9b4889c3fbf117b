/**
 * Least permissions of a CI identity that deploys an azure-ml target, from the Resource Manager
 * calls the driver makes (src/targets/azure-ml/_azure-api.ts, _upload.ts): a custom role with
 * the workspace's Azure ML actions and the blob data actions on the default datastore's
 * container, for an app registration that GitHub or GitLab pipelines sign in as with a federated
 * credential.
 */
import type { AzureMlPlan } from '../targets/azure-ml/index.js';
import { deploySubject, identityArgs, oidcIssuer, pullRequestSubject } from './ci-identity.js';
import type { AzureRoleDefinition, PermissionAction, PermissionsOptions, TargetPermissions } from './types.js';

const ML = 'Microsoft.MachineLearningServices/workspaces';
const BLOBS = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs';

interface Need { action: string; usedBy: string; data?: boolean }

function needs(plan: AzureMlPlan): Need[] {
  return [
    { action: `${ML}/read`, usedBy: 'deploy: the workspace\'s region, where the endpoint is created' },
    { action: `${ML}/datastores/read`, usedBy: 'deploy, destroy: the default datastore the repository is uploaded to' },
    { action: `${ML}/models/write`, usedBy: 'deploy: registers the model' },
    { action: `${ML}/models/delete`, usedBy: 'destroy' },
    { action: `${ML}/models/versions/read`, usedBy: 'deploy (finds the version of the same repository), destroy' },
    { action: `${ML}/models/versions/write`, usedBy: 'deploy: registers a model version' },
    { action: `${ML}/models/versions/delete`, usedBy: 'destroy' },
    { action: `${ML}/onlineEndpoints/read`, usedBy: 'deploy, diff, status, smoke, invoke, destroy' },
    { action: `${ML}/onlineEndpoints/write`, usedBy: 'deploy: creates the endpoint and moves its traffic' },
    { action: `${ML}/onlineEndpoints/delete`, usedBy: 'destroy' },
    plan.authMode === 'aml_token'
      ? { action: `${ML}/onlineEndpoints/token/action`, usedBy: 'deploy (the smoke test), smoke, invoke: an Azure ML token for the scoring URI' }
      : { action: `${ML}/onlineEndpoints/listKeys/action`, usedBy: 'deploy (the smoke test), smoke, invoke: the endpoint key for the scoring URI' },
    { action: `${ML}/onlineEndpoints/deployments/read`, usedBy: 'deploy, diff, status, destroy' },
    { action: `${ML}/onlineEndpoints/deployments/write`, usedBy: 'deploy: the blue or green deployment of a new version' },
    { action: `${ML}/onlineEndpoints/deployments/delete`, usedBy: 'deploy (the version that failed or was replaced), destroy' },
    { action: `${BLOBS}/read`, usedBy: 'deploy (skips files already uploaded), destroy', data: true },
    { action: `${BLOBS}/write`, usedBy: 'deploy: uploads the Triton repository', data: true },
    { action: `${BLOBS}/delete`, usedBy: 'destroy: deletes the uploaded repositories', data: true },
  ];
}

/** The role's name: one per target and stage, since the scoring action depends on the target's authMode. */
export function azureRoleName(plan: Pick<AzureMlPlan, 'resourceName'>): string {
  return `deploy-model ${plan.resourceName}`;
}

interface FederatedCredential { name: string; issuer: string; subject: string; audiences: string[]; description: string }

export function azureMlPermissions(plan: AzureMlPlan, options: PermissionsOptions): TargetPermissions {
  const { identity } = options;
  const list = needs(plan);
  const resourceGroup = `/subscriptions/${plan.subscriptionId}/resourceGroups/${plan.resourceGroup}`;
  const workspace = `${resourceGroup}/providers/${ML}/${plan.workspace}`;
  const name = azureRoleName(plan);
  const role: AzureRoleDefinition = {
    Name: name,
    IsCustom: true,
    Description: `What deploy-model calls to deploy, check and remove target ${plan.targetName} (stage ${plan.stage}) in workspace ${plan.workspace}. Assign it on the workspace and on its default datastore's blob container.`,
    Actions: list.filter((n) => !n.data).map((n) => n.action),
    NotActions: [],
    DataActions: list.filter((n) => n.data).map((n) => n.action),
    NotDataActions: [],
    AssignableScopes: [resourceGroup],
  };
  const credential = (suffix: string, subject: string, description: string): FederatedCredential => ({
    name: `deploy-model-${identity.provider}-${suffix}`.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 120),
    issuer: oidcIssuer(identity), subject, audiences: ['api://AzureADTokenExchange'], description,
  });
  const credentials: FederatedCredential[] = [credential(identity.branch, deploySubject(identity), `Pipelines of ${identity.repository} on ${identity.branch}`)];
  // Azure matches the subject exactly: GitLab's merge request pipelines (one subject per branch) cannot be listed.
  if (identity.pullRequests && identity.provider === 'github') credentials.push(credential('pull-requests', pullRequestSubject(identity), `Pull requests of ${identity.repository}`));
  const args = `--target ${plan.targetName}${options.stage === 'dev' ? '' : ` --stage ${options.stage}`}`;
  const setup = [
    `npx deploy-model permissions ${args} --format policy ${identityArgs(identity)} > role.json`,
    'az role definition create --role-definition @role.json',
    `# The app registration CI signs in as, and its federated credential${credentials.length > 1 ? 's' : ''}.`,
    'APP_ID=$(az ad app create --display-name deploy-model-ci --query appId -o tsv)',
    'az ad sp create --id "$APP_ID"',
    ...credentials.map((c) => `az ad app federated-credential create --id "$APP_ID" --parameters '${JSON.stringify(c)}'`),
    '# The role on the workspace, and on the blob container of its default datastore.',
    `az role assignment create --assignee "$APP_ID" --role "${name}" --scope ${workspace}`,
    `STORAGE_ID=$(az ml workspace show --resource-group ${plan.resourceGroup} --name ${plan.workspace} --query storage_account -o tsv)`,
    `CONTAINER=$(az ml datastore show --name workspaceblobstore --resource-group ${plan.resourceGroup} --workspace-name ${plan.workspace} --query container_name -o tsv)`,
    `az role assignment create --assignee "$APP_ID" --role "${name}" --scope "$STORAGE_ID/blobServices/default/containers/$CONTAINER"`,
  ];
  const actions: PermissionAction[] = list.map((n) => ({ action: n.action, resource: n.data ? 'the default datastore\'s blob container' : workspace, usedBy: n.usedBy }));
  return {
    target: plan.targetName,
    type: plan.type,
    cloud: 'azure',
    summary: `An app registration for CI with custom role "${name}" on workspace ${plan.workspace} and its datastore's blob container, signed in by ${deploySubject(identity)}${credentials.length > 1 ? ' and its pull requests' : ''} with a federated credential.`,
    actions,
    documents: [
      { id: 'policy', title: `Custom role definition (az role definition create --role-definition @role.json)`, format: 'json', content: role },
      { id: 'trust', title: 'Federated credentials of the app registration (az ad app federated-credential create --parameters)', format: 'json', content: credentials },
    ],
    setup,
    notes: [
      'Azure ML\'s control-plane permissions are per workspace (a role cannot name one endpoint), so the role is assigned on the workspace; deploy-model only touches the endpoint and model it names, tagged deploy-model-name, -stage and -target.',
      'The endpoint\'s system-assigned identity reads the model and pulls the image; Azure ML grants it that access, not the CI identity.',
      ...(identity.pullRequests && identity.provider === 'gitlab'
        ? ['Azure matches a federated credential\'s subject exactly, and a GitLab merge request pipeline runs on its source branch: run `diff` from pipelines on the deploying branch, or add a credential per long-lived branch.']
        : []),
      `The pipeline signs in with the app's client id ($APP_ID), the tenant id and subscription ${plan.subscriptionId}.`,
    ],
  };
}
